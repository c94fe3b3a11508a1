import type { CatalogStore, QueuedRun } from '../catalog/catalog-store.ts';
import { NotFoundError, UsageError } from '../diagnostics/errors.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Definitions, Run } from '../model/index.ts';
import { newRunId } from '../runner/index.ts';
import type { RunQueue } from './run-queue.ts';
import { selectTasks, type RunSelection } from './task-selection.ts';

/**
 * Operations a client (the CLI beside a running server, later the HTTP API) performs through the
 * catalog; the server picks them up at its next poll.
 */

/**
 * Queue the selected tasks (and, unless `downstream` is false, everything downstream) in one wave.
 * Queued upfront, the downstream runs wait for their upstream runs and absorb the triggers their
 * publications send. A task that already has a queued run merges into it. Returns one entry per task.
 */
export async function enqueueSelection(
  queue: RunQueue,
  definitions: Definitions,
  graph: TaskGraph,
  selection: RunSelection,
): Promise<QueuedRun[]> {
  const tasks = selectTasks(definitions, graph, selection);
  const wave = `wave-${newRunId()}`;
  const queued: QueuedRun[] = [];
  for (const task of tasks) {
    const outcome = await queue.enqueue({
      task,
      trigger: selection.trigger ?? 'manual',
      wave,
      // Selectors name exactly what runs (`x+` queues the downstream tasks itself): publications
      // of a `--select` wave trigger nothing more.
      downstream: selection.downstream !== false && (selection.select ?? []).length === 0,
    });
    queued.push(outcome.queued);
  }
  return queued;
}

const FINAL_STATES = new Set<Run['status']>(['succeeded', 'skipped', 'cancelled']);

/**
 * Poll runs until every one has ended for good and return them in the order given. A `failed` run
 * with attempts left is about to be retried, so it counts as ended only once it stays failed for
 * `settleMs` (its server stopped before retrying). Rejects after `timeoutMs` (default: never).
 */
export async function waitForRuns(
  store: Pick<CatalogStore, 'getRun'>,
  definitions: Definitions,
  runIds: string[],
  options: { pollMs?: number; timeoutMs?: number; settleMs?: number; onChange?: (run: Run) => void } = {},
): Promise<Run[]> {
  const pollMs = options.pollMs ?? 200;
  const settleMs = options.settleMs ?? 3000;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const lastSeen = new Map<string, { key: string; since: number }>();
  for (;;) {
    const runs: Run[] = [];
    let done = true;
    for (const id of runIds) {
      const run = await store.getRun(id);
      if (!run) throw new NotFoundError(`run ${id} is not in the catalog`);
      runs.push(run);
      const key = `${run.status}:${run.attempt}`;
      const seen = lastSeen.get(id);
      if (seen?.key !== key) {
        lastSeen.set(id, { key, since: Date.now() });
        options.onChange?.(run);
      }
      if (FINAL_STATES.has(run.status)) continue;
      if (run.status === 'failed') {
        const attempts = definitions.tasks.find((task) => task.name === run.task)?.retries.attempts ?? 1;
        if (run.attempt >= attempts || Date.now() - (lastSeen.get(id)?.since ?? 0) >= settleMs) continue;
      }
      done = false;
    }
    if (done) return runs;
    if (Date.now() > deadline) throw new UsageError(`runs ${runIds.join(', ')} had not ended after waiting`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Pause a task: it is no longer triggered by publications nor started by its schedule, and its
 * queued runs that a trigger or schedule created are cancelled (runs asked for by name, `manual` or
 * `backfill`, still run). Persisted in the catalog. Returns the cancelled runs.
 */
export async function pauseTask(store: CatalogStore, definitions: Definitions, task: string): Promise<Run[]> {
  requireTask(definitions, task);
  await store.updateTaskState(task, { pausedAt: new Date().toISOString() });
  const cancelled: Run[] = [];
  for (const { run } of await store.listActiveRuns()) {
    if (
      run.task !== task ||
      run.status !== 'queued' ||
      run.trigger === 'manual' ||
      run.trigger === 'backfill'
    )
      continue;
    if (await store.finishQueuedRun(run.id, 'cancelled', `cancelled: task ${task} was paused`))
      cancelled.push(run);
  }
  return cancelled;
}

/**
 * Resume a paused task. A running server notices within a second: a projection whose upstream
 * published while it was paused is enqueued then, and a `source_change` root fires if its files changed.
 */
export async function resumeTask(store: CatalogStore, definitions: Definitions, task: string): Promise<void> {
  requireTask(definitions, task);
  await store.updateTaskState(task, { pausedAt: undefined });
}

function requireTask(definitions: Definitions, task: string): void {
  if (!definitions.tasks.some((candidate) => candidate.name === task)) {
    const known = definitions.tasks.map((candidate) => candidate.name).sort();
    throw new NotFoundError(`unknown task ${task} (defined: ${known.join(', ')})`);
  }
}
