import { topologicalSort, type TaskGraph } from '../graph/index.ts';
import type { Run } from '../model/index.ts';
import { newRunId, runTask, type RunContext } from '../runner/index.ts';
import { selectTasks, type RunSelection } from './task-selection.ts';

export type { RunSelection } from './task-selection.ts';

/**
 * Run tasks now, in this process, in dependency order. A failed task's downstream tasks are
 * recorded as `skipped` with the reason instead of running on stale inputs.
 */
export async function runInOrder(
  context: RunContext,
  graph: TaskGraph,
  selection: RunSelection,
): Promise<Run[]> {
  const selected = new Set(selectTasks(context.definitions, graph, selection));

  const runs: Run[] = [];
  const notSucceeded = new Map<string, string>();
  for (const name of executionOrder(context, graph, selected)) {
    const blockedBy = upstreamTasks(graph, name).find((upstream) => notSucceeded.has(upstream));
    if (blockedBy) {
      const reason = `skipped: upstream task ${blockedBy} ${notSucceeded.get(blockedBy)}`;
      const now = new Date().toISOString();
      const run: Run = {
        id: newRunId(),
        task: name,
        status: 'skipped',
        attempt: 0,
        trigger: selection.trigger ?? 'manual',
        queuedAt: now,
        finishedAt: now,
        error: reason,
      };
      await context.store.createRun(run);
      notSucceeded.set(name, 'was skipped');
      runs.push(run);
      continue;
    }
    const run = await runTask(context, name, { trigger: selection.trigger ?? 'manual' });
    if (run.status !== 'succeeded') notSucceeded.set(name, run.status);
    runs.push(run);
  }
  return runs;
}

/**
 * Dependency order, where a table's checks that compare with another table (referential checks)
 * also wait for that table's task when it runs in the same batch: only the order changes, not what
 * triggers what.
 */
function executionOrder(context: RunContext, graph: TaskGraph, selected: Set<string>): string[] {
  const checkedAgainst = (task: string): string[] => {
    const target = context.definitions.tables.find((table) => table.name === graph.targetOf(task));
    if (!target) return [];
    const mentioned = JSON.stringify(target.validations.map((validation) => validation.args));
    return context.definitions.tables
      .filter((table) => table.name !== target.name && mentioned.includes(JSON.stringify(table.name)))
      .map((table) => graph.producerOf(table.name))
      .filter((producer): producer is string => producer !== undefined);
  };
  return topologicalSort(graph.topologicalOrder(selected), (task) => [
    ...upstreamTasks(graph, task),
    ...checkedAgainst(task),
  ]);
}

function upstreamTasks(graph: TaskGraph, task: string): string[] {
  return graph
    .upstreamTables(task)
    .map((table) => graph.producerOf(table))
    .filter((producer): producer is string => producer !== undefined);
}
