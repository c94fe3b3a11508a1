import type { TaskLease } from '../catalog/catalog-store.ts';
import { topologicalSort, type TaskGraph } from '../graph/index.ts';
import type { Run } from '../model/index.ts';
import { newRunId, runTask, type RunContext } from '../runner/index.ts';
import { newRunOwner, ownerMayBeAlive, type RunOwner } from './run-owner.ts';
import { findRunningServer } from './server-file.ts';
import { HeldTaskLease, type TaskLeaseWaiting } from './task-lease.ts';
import { selectTasks, type RunSelection } from './task-selection.ts';

export type { RunSelection } from './task-selection.ts';

/** How `runInOrder` shares tasks with other processes; every field has a default. */
export interface RunInOrderOptions {
  /** This process's identity on the task leases it takes. Default: a new one. */
  owner?: RunOwner;
  /** Task lease lifetime and polling while another process runs a task (see `HeldTaskLease`). */
  lease?: Partial<TaskLeaseWaiting>;
}

/**
 * Run tasks now, in this process, in dependency order. A failed task's downstream tasks are
 * recorded as `skipped` with the reason instead of running on stale inputs.
 */
export async function runInOrder(
  context: RunContext,
  graph: TaskGraph,
  selection: RunSelection,
  options: RunInOrderOptions = {},
): Promise<Run[]> {
  const selected = new Set(selectTasks(context.definitions, graph, selection));
  const owner = options.owner ?? newRunOwner();

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
    const run = await runLeased(context, name, selection.trigger ?? 'manual', owner, options.lease);
    if (run.status !== 'succeeded')
      notSucceeded.set(name, run.status === 'skipped' ? 'was skipped' : run.status);
    runs.push(run);
  }
  return runs;
}

/**
 * One run of `task` under its task lease: the same task never runs twice at once, whichever
 * processes run it. While another process runs it, wait for that run to end (and say so once per
 * run waited for); then a queued run of the task left by a stopped server is superseded by this one.
 */
async function runLeased(
  context: RunContext,
  task: string,
  trigger: string,
  owner: RunOwner,
  waiting: Partial<TaskLeaseWaiting> = {},
): Promise<Run> {
  const runId = newRunId();
  const lease = await HeldTaskLease.acquire(
    context.store,
    { task, owner: owner.id, runId },
    {
      ownerAlive: ownerMayBeAlive,
      ...waiting,
      onWait: (holder) => {
        waiting.onWait?.(holder);
        context.onLog?.({ runId, at: new Date().toISOString(), level: 'warn', message: waitMessage(holder) });
      },
    },
  );
  try {
    await supersedeQueuedRuns(context, task, runId);
    return await runTask(context, task, { trigger, runId, signal: lease.signal });
  } finally {
    await lease.release();
  }
}

function waitMessage(holder: TaskLease): string {
  return (
    `task ${holder.task} is already running in ${holder.owner} (run ${holder.runId}, since ${holder.acquiredAt}); ` +
    `waiting for it to end (stop waiting with Ctrl-C; \`tessera runs --task ${holder.task}\` shows it)`
  );
}

/**
 * Runs of `task` still queued while no server runs were left by a server that stopped: this run
 * does their work now, so they end `cancelled` instead of running again when a server starts.
 */
async function supersedeQueuedRuns(context: RunContext, task: string, runId: string): Promise<void> {
  const queued = (await context.store.listActiveRuns()).filter(
    (entry) => entry.run.task === task && entry.run.status === 'queued',
  );
  if (queued.length === 0 || (await findRunningServer(context.definitions.project.root))) return;
  for (const { run } of queued) {
    const reason = `superseded by run ${runId} (tessera run without a server)`;
    if (!(await context.store.finishQueuedRun(run.id, 'cancelled', reason))) continue;
    const line = { runId: run.id, at: new Date().toISOString(), level: 'warn' as const, message: reason };
    await context.store.appendRunLog([line]);
    context.onLog?.({ ...line, message: `queued run ${run.id} of ${task} ${reason}` });
  }
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
