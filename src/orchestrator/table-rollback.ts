import { NotFoundError } from '../diagnostics/errors.ts';
import { didYouMean } from '../definitions/name-suggester.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Run, Version } from '../model/index.ts';
import { newRunId, planRollback, publishRollback, type RunContext } from '../runner/index.ts';
import { newRunOwner, ownerMayBeAlive } from './run-owner.ts';
import { HeldTaskLease, type TaskLeaseWaiting } from './task-lease.ts';
import type { RunSelection } from './task-selection.ts';

/** `tessera rollback TABLE --to VERSION`. */
export interface RollbackRequest {
  table: string;
  /** The version whose files become current again, in a new version. */
  to: number;
}

/** What a rollback published, and what it asks to run next. */
export interface TableRollback {
  /** The rollback's own run (trigger `rollback:TABLE@VERSION`). */
  run: Run;
  /** The new version: the restored version's files under the next number. */
  version: Version;
  /** The version that was current before. */
  from: number;
  /**
   * The tasks that read the table and everything downstream of them, triggered as by any
   * publication (`upstream:TABLE@VERSION`); empty when nothing reads it.
   */
  downstream: RunSelection;
}

/**
 * Roll `request.table` back: check it (unknown table or version, the current version, another
 * schema version: `NotFoundError`/`UsageError` saying what to do), then, holding the lease of the
 * task that produces the table (so no run of it publishes in between; waiting while one runs),
 * publish a new version whose files are `request.to`'s. The caller runs or queues `downstream`.
 */
export async function rollbackTable(
  context: RunContext,
  graph: TaskGraph,
  request: RollbackRequest,
  waiting: Partial<TaskLeaseWaiting> = {},
): Promise<TableRollback> {
  const tables = context.definitions.tables.map((table) => table.name);
  if (!tables.includes(request.table)) {
    throw new NotFoundError(
      `unknown table ${request.table}${didYouMean(request.table, tables)}; \`tessera tables\` lists them`,
    );
  }
  const plan = await planRollback(context, request.table, request.to);
  const producer = graph.producerOf(request.table);
  const runId = newRunId();
  const lease = producer
    ? await HeldTaskLease.acquire(
        context.store,
        { task: producer, owner: newRunOwner().id, runId },
        {
          ownerAlive: ownerMayBeAlive,
          ...waiting,
          onWait: (holder) => {
            waiting.onWait?.(holder);
            context.onLog?.({
              runId,
              at: new Date().toISOString(),
              level: 'warn',
              message: `task ${holder.task} is running (run ${holder.runId}); the rollback waits for it to end`,
            });
          },
        },
      )
    : undefined;
  try {
    // Checked again under the lease: a run that published while we waited may have changed the answer.
    const current = lease ? await planRollback(context, request.table, request.to) : plan;
    const { run, version } = await publishRollback(context, current, {
      task: producer ?? request.table,
      runId,
      ...(lease ? { signal: lease.signal } : {}),
    });
    return {
      run,
      version,
      from: current.current.version,
      downstream: {
        tasks: graph.consumersOf(request.table),
        downstream: true,
        trigger: `upstream:${request.table}@${version.version}`,
      },
    };
  } finally {
    await lease?.release();
  }
}
