import type { QueuedRun } from '../catalog/catalog-store.ts';
import type { TaskGraph } from '../graph/index.ts';

/** The choice `RunReadiness.choose` made. */
export interface ReadinessChoice {
  /** The queued run to start now. */
  runId?: string;
  /** When the earliest queued run waiting only for its `notBefore` becomes due (epoch ms). */
  nextDueAt?: number;
}

/**
 * When a queued run may start. This is what makes a wave run each task once and in order without
 * timers: a task waits while any task it depends on, directly or not, is queued or running, so in a
 * diamond (A → B, A → C, B + C → D) D starts once, after both B and C have published, and merges
 * the triggers of both into that one run.
 */
export class RunReadiness {
  private readonly upstreamCache = new Map<string, ReadonlySet<string>>();

  constructor(private readonly graph: TaskGraph) {}

  /** Every task `task` transitively depends on (cached: the graph is immutable). */
  upstreamTasks(task: string): ReadonlySet<string> {
    let upstream = this.upstreamCache.get(task);
    if (!upstream) {
      upstream = new Set(this.graph.upstreamTasks(task));
      this.upstreamCache.set(task, upstream);
    }
    return upstream;
  }

  /**
   * The oldest queued run that is due, whose task is not running (the same task never runs twice at
   * once) and has no pending upstream task. `busyTasks` are tasks the caller still settles in its
   * process (e.g. a failed attempt about to be retried): they count as running.
   */
  choose(
    active: readonly QueuedRun[],
    now: number,
    busyTasks: ReadonlySet<string> = new Set(),
  ): ReadinessChoice {
    const pending = new Set(busyTasks);
    const running = new Set(busyTasks);
    for (const { run } of active) {
      pending.add(run.task);
      if (run.status === 'running') running.add(run.task);
    }
    let nextDueAt: number | undefined;
    for (const { run, queue } of active) {
      if (run.status !== 'queued' || running.has(run.task)) continue;
      if (this.hasPendingUpstream(run.task, pending)) continue;
      const dueAt = queue.notBefore === undefined ? now : Date.parse(queue.notBefore);
      if (dueAt > now) {
        nextDueAt = Math.min(nextDueAt ?? dueAt, dueAt);
        continue;
      }
      return { runId: run.id, nextDueAt };
    }
    return { nextDueAt };
  }

  private hasPendingUpstream(task: string, pending: ReadonlySet<string>): boolean {
    const upstream = this.upstreamTasks(task);
    // Iterate the smaller set: a long chain has many upstream tasks but few pending ones.
    if (pending.size < upstream.size) {
      for (const name of pending) if (name !== task && upstream.has(name)) return true;
      return false;
    }
    for (const name of upstream) if (name !== task && pending.has(name)) return true;
    return false;
  }
}
