import type { Kysely } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogTaskLeases, TaskLease, TaskLeaseOutcome, TaskLeaseRequest } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection, CatalogTransaction } from './catalog-connection.ts';
import { compareText, toTaskLease } from './catalog-rows.ts';

/** Task leases: one run of a task at a time, across processes. */
export class KyselyTaskLeaseStore implements CatalogTaskLeases {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async acquireTaskLease(request: TaskLeaseRequest): Promise<TaskLeaseOutcome> {
    return this.db.transaction().execute((trx) => takeTaskLease(trx, request));
  }

  async renewTaskLeases(owner: string, runIds: string[], expiresAt: string): Promise<string[]> {
    if (runIds.length === 0) return [];
    await this.db
      .updateTable('task_leases')
      .set({ expires_at: toIsoTimestamp(expiresAt) })
      .where('owner', '=', owner)
      .where('run_id', 'in', runIds)
      .execute();
    const held = await this.db
      .selectFrom('task_leases')
      .select('run_id')
      .where('owner', '=', owner)
      .where('run_id', 'in', runIds)
      .execute();
    return held.map((row) => row.run_id).sort(compareText);
  }

  async releaseTaskLease(runId: string, owner: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('task_leases')
      .where('run_id', '=', runId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listTaskLeases(): Promise<TaskLease[]> {
    const rows = await this.db.selectFrom('task_leases').selectAll().orderBy('task').execute();
    return rows.map(toTaskLease);
  }
}

/**
 * Take a task lease inside the caller's transaction (also `claimRun`'s). One statement decides: an upsert whose update applies only when the lease is free to take, so two
 * processes taking the same task at once never both get it (the second waits on the key, then
 * finds the first one's unexpired lease). Then read back who holds it.
 */
export async function takeTaskLease(
  trx: CatalogTransaction,
  request: TaskLeaseRequest,
): Promise<TaskLeaseOutcome> {
  const now = toIsoTimestamp(request.now ?? new Date().toISOString());
  const values = {
    task: request.task,
    owner: request.owner,
    run_id: request.runId,
    acquired_at: now,
    expires_at: toIsoTimestamp(request.expiresAt),
  };
  await trx
    .insertInto('task_leases')
    .values(values)
    .onConflict((conflict) =>
      conflict
        .column('task')
        .doUpdateSet({
          owner: values.owner,
          run_id: values.run_id,
          acquired_at: values.acquired_at,
          expires_at: values.expires_at,
        })
        .where((eb) =>
          eb.or([
            eb('task_leases.expires_at', '<=', now),
            eb.and([
              eb('task_leases.owner', '=', values.owner),
              eb('task_leases.run_id', '=', values.run_id),
            ]),
            ...(request.replacing !== undefined ? [eb('task_leases.owner', '=', request.replacing)] : []),
          ]),
        ),
    )
    .execute();
  const row = await trx
    .selectFrom('task_leases')
    .selectAll()
    .where('task', '=', request.task)
    .executeTakeFirstOrThrow();
  const lease = toTaskLease(row);
  return row.owner === values.owner && row.run_id === values.run_id
    ? { acquired: true, lease }
    : { acquired: false, holder: lease };
}
