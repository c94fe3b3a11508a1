import type { TaskDef } from '../model/index.ts';
import { stronglyConnectedComponents } from './strongly-connected-components.ts';
import { topologicalSort } from './topological-sort.ts';

/**
 * The task/table DAG derived from definitions: a task reads its upstream tables and publishes
 * its target; an edge runs from a table's producer to every task that reads it. Immutable;
 * every list it returns is deterministic (dependency order, alphabetical tie-break).
 */
export class TaskGraph {
  private readonly targets = new Map<string, string>();
  private readonly upstream = new Map<string, string[]>();
  private readonly producers = new Map<string, string>();
  private readonly consumers = new Map<string, string[]>();
  // Orders are computed on first use: a cycle check needs neither.
  private taskOrderOnce: string[] | undefined;
  private tableOrderOnce: string[] | undefined;

  private constructor(tasks: readonly { name: string; target: string; reads: readonly string[] }[]) {
    for (const task of [...tasks].sort((a, b) => compare(a.name, b.name))) {
      this.targets.set(task.name, task.target);
      // A table with two producers is a definitions error; the alphabetically first one is kept.
      if (!this.producers.has(task.target)) this.producers.set(task.target, task.name);
      const reads = [...new Set(task.reads)].sort(compare);
      this.upstream.set(task.name, reads);
      for (const table of reads) {
        const consumers = this.consumers.get(table);
        if (consumers) consumers.push(task.name);
        else this.consumers.set(table, [task.name]);
      }
    }
  }

  private get taskOrder(): string[] {
    this.taskOrderOnce ??= topologicalSort([...this.targets.keys()], (task) => this.upstreamTasksOf(task));
    return this.taskOrderOnce;
  }

  private get tableOrder(): string[] {
    this.tableOrderOnce ??= topologicalSort(this.tableNames, (table) => {
      const producer = this.producers.get(table);
      return producer ? (this.upstream.get(producer) ?? []) : [];
    });
    return this.tableOrderOnce;
  }

  /**
   * Build the graph from task definitions. `upstreamOf` returns the tables a task reads:
   * a projection's SQL tables plus its `depends_on` (a task named there counts as its target).
   */
  static fromDefinitions(
    tasks: readonly TaskDef[],
    upstreamOf: (task: TaskDef) => readonly string[],
  ): TaskGraph {
    return new TaskGraph(
      tasks.map((task) => ({ name: task.name, target: task.target, reads: upstreamOf(task) })),
    );
  }

  /** Every task, alphabetically. */
  get taskNames(): string[] {
    return [...this.targets.keys()];
  }

  /** Every table the graph mentions (targets and tables read), alphabetically. */
  get tableNames(): string[] {
    return [...new Set([...this.producers.keys(), ...this.consumers.keys()])].sort(compare);
  }

  /** The table a task publishes. */
  targetOf(task: string): string | undefined {
    return this.targets.get(task);
  }

  /** The task that publishes `table`; undefined for a table no task produces. */
  producerOf(table: string): string | undefined {
    return this.producers.get(table);
  }

  /** Tasks that read `table` directly, alphabetically. */
  consumersOf(table: string): string[] {
    return [...(this.consumers.get(table) ?? [])];
  }

  /** Tables `task` reads directly, alphabetically. */
  upstreamTables(task: string): string[] {
    return [...(this.upstream.get(task) ?? [])];
  }

  /** Cycles among tasks, each listed in data-flow order from its alphabetically first task; [] for a DAG. */
  findCycles(): string[][] {
    return findCycles(this.taskNames, (task) => this.downstreamTasksOf(task));
  }

  /**
   * Tasks in dependency order: every task after the tasks that produce what it reads, ties broken
   * alphabetically. With `tasks`, only those, in the order of the whole graph (so indirect
   * dependencies through unselected tasks still count). The tasks of a cycle are listed together,
   * alphabetically; callers reject cyclic graphs with `findCycles` first.
   */
  topologicalOrder(tasks?: Iterable<string>): string[] {
    if (!tasks) return [...this.taskOrder];
    const selected = new Set(tasks);
    return this.taskOrder.filter((task) => selected.has(task));
  }

  /** Every task that transitively reads what `task` publishes, in dependency order, without `task`. */
  downstreamTasks(task: string): string[] {
    const reached = reach([task], (name) => this.downstreamTasksOf(name));
    reached.delete(task);
    return this.topologicalOrder(reached);
  }

  /** Every task `task` transitively depends on, in dependency order, without `task`. */
  upstreamTasks(task: string): string[] {
    const reached = reach([task], (name) => this.upstreamTasksOf(name));
    reached.delete(task);
    return this.topologicalOrder(reached);
  }

  /** Tables derived, directly or not, from `table`, in dependency order, without `table`. */
  downstreamTables(table: string): string[] {
    const reached = this.derivedTables(table);
    return this.tableOrder.filter((name) => reached.has(name));
  }

  /**
   * Tables derived, directly or not, from `table`, without `table`, in no particular order: what
   * `downstreamTables` lists, without ordering every table of the graph first (a plan sorts the
   * names itself).
   */
  derivedTables(table: string): Set<string> {
    const reached = reach([table], (name) =>
      this.consumersOf(name).flatMap((task) => (this.targets.has(task) ? [this.targets.get(task)!] : [])),
    );
    reached.delete(table);
    return reached;
  }

  /** Tables `table` is derived from, directly or not, in dependency order, without `table`. */
  upstreamTablesOf(table: string): string[] {
    const reached = reach([table], (name) => {
      const producer = this.producers.get(name);
      return producer ? this.upstreamTables(producer) : [];
    });
    reached.delete(table);
    return this.tableOrder.filter((name) => reached.has(name));
  }

  private upstreamTasksOf(task: string): string[] {
    return (this.upstream.get(task) ?? []).flatMap((table) => {
      const producer = this.producers.get(table);
      return producer ? [producer] : [];
    });
  }

  private downstreamTasksOf(task: string): string[] {
    const target = this.targets.get(task);
    return (target && this.consumers.get(target)) || [];
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Everything reachable from `starts` (including them, unless unreachable from themselves). */
function reach(starts: readonly string[], next: (node: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = starts.flatMap((start) => [...next(start)]);
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...next(node));
  }
  return seen;
}

/**
 * One elementary cycle per strongly connected component, as the shortest way from the
 * component's alphabetically first node back to itself.
 */
function findCycles(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  const cycles: string[][] = [];
  for (const component of stronglyConnectedComponents(nodes, next)) {
    const start = [...component].sort(compare)[0]!;
    if (component.length === 1 && !next(start).includes(start)) continue;
    cycles.push(shortestCycle(start, new Set(component), next));
  }
  return cycles.sort((a, b) => compare(a[0]!, b[0]!));
}

function shortestCycle(
  start: string,
  members: ReadonlySet<string>,
  next: (node: string) => readonly string[],
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const successor of [...next(node)].sort(compare)) {
      if (!members.has(successor)) continue;
      if (successor === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(successor)) {
        previous.set(successor, node);
        queue.push(successor);
      }
    }
  }
  return [start];
}
