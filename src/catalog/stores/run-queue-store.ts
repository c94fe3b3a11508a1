import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Run, RunStatus } from '../../model/index.ts';
import type { CatalogDatabase, RunsRow } from '../catalog-database.ts';
import type { CatalogRunQueue, EnqueueOutcome, QueuedRun, RunQueueState } from '../catalog-store.ts';
import type { CatalogConnection, CatalogTransaction } from './catalog-connection.ts';
import { compareText, runValues, toQueuedRun, optionalTimestamp } from './catalog-rows.ts';
import { takeTaskLease } from './task-lease-store.ts';

/** The run queue: queued runs are `runs` rows with status `queued`, claimed atomically across processes. */
export class KyselyRunQueueStore implements CatalogRunQueue {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(private readonly connection: CatalogConnection) {
    this.db = connection.db;
  }

  async enqueueRun(run: Run, queue: Partial<RunQueueState>): Promise<EnqueueOutcome> {
    if (run.status !== 'queued')
      throw new Error(`enqueueRun(${run.id}) needs a queued run, got ${run.status}`);
    return this.db.transaction().execute(async (trx) => {
      await this.connection.lockRunQueue(trx);
      if (queue.dedupeKey !== undefined) {
        const existing = await trx
          .selectFrom('runs')
          .selectAll()
          .where('dedupe_key', '=', queue.dedupeKey)
          .where('status', '=', 'queued')
          .orderBy('queued_at')
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        if (existing) return { queued: toQueuedRun(existing), created: false };
      }
      const row: Selectable<RunsRow> = {
        ...runValues(run),
        dedupe_key: queue.dedupeKey ?? null,
        not_before: optionalTimestamp(queue.notBefore),
        owner: null,
        heartbeat_at: null,
        wave: queue.wave ?? null,
        cancel_requested: 0,
        downstream: queue.downstream === false ? 0 : 1,
      };
      await trx.insertInto('runs').values(row).execute();
      return { queued: toQueuedRun(row), created: true };
    });
  }

  async listActiveRuns(): Promise<QueuedRun[]> {
    const rows = await this.activeRuns(this.db);
    return rows.map(toQueuedRun);
  }

  async getQueuedRun(id: string): Promise<QueuedRun | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toQueuedRun(row);
  }

  async claimRun(
    owner: string,
    choose: (active: QueuedRun[], leasedTasks: ReadonlySet<string>) => string | undefined,
    lease?: { expiresAt: string },
  ): Promise<QueuedRun | undefined> {
    return this.db
      .transaction()
      .execute(async (trx) => {
        await this.connection.lockRunQueue(trx);
        const active = (await this.activeRuns(trx)).map(toQueuedRun);
        const now = new Date().toISOString();
        const leased = await trx
          .selectFrom('task_leases')
          .select('task')
          .where('owner', '!=', owner)
          .where('expires_at', '>', now)
          .execute();
        const chosen = choose(active, new Set(leased.map((row) => row.task)));
        if (chosen === undefined) return undefined;
        const candidate = active.find((entry) => entry.run.id === chosen);
        if (candidate?.run.status !== 'queued') {
          throw new Error(`claimRun: the chooser named ${chosen}, which is not a queued run`);
        }
        if (lease) {
          const outcome = await takeTaskLease(trx, {
            task: candidate.run.task,
            owner,
            runId: chosen,
            expiresAt: lease.expiresAt,
            now,
          });
          // Another process took it since we looked (PostgreSQL; SQLite writers exclude each other).
          if (!outcome.acquired) throw new LeaseTakenMeanwhile();
        }
        return this.startClaimed(trx, owner, chosen, now);
      })
      .catch((error: unknown) => {
        if (error instanceof LeaseTakenMeanwhile) return undefined;
        throw error;
      });
  }

  private async startClaimed(
    trx: CatalogTransaction,
    owner: string,
    chosen: string,
    now: string,
  ): Promise<QueuedRun> {
    await trx
      .updateTable('runs')
      .set({
        status: 'running',
        owner,
        heartbeat_at: now,
        started_at: now,
        finished_at: null,
        cancel_requested: 0,
      })
      .where('id', '=', chosen)
      .where('status', '=', 'queued')
      .execute();
    const row = await trx.selectFrom('runs').selectAll().where('id', '=', chosen).executeTakeFirstOrThrow();
    return toQueuedRun(row);
  }

  async heartbeatRuns(owner: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    await this.db
      .updateTable('runs')
      .set({ heartbeat_at: new Date().toISOString() })
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .where('id', 'in', ids)
      .execute();
    const cancelled = await this.db
      .selectFrom('runs')
      .select('id')
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .where('cancel_requested', '=', 1)
      .where('id', 'in', ids)
      .execute();
    return cancelled.map((row) => row.id).sort(compareText);
  }

  async requeueRun(
    id: string,
    patch: { attempt?: number; notBefore?: string; error?: string },
    expectedOwner?: string,
  ): Promise<boolean> {
    const set: Updateable<RunsRow> = {
      status: 'queued',
      owner: null,
      heartbeat_at: null,
      finished_at: null,
      cancel_requested: 0,
    };
    if (patch.attempt !== undefined) set.attempt = patch.attempt;
    if (Object.hasOwn(patch, 'notBefore')) set.not_before = optionalTimestamp(patch.notBefore);
    if (Object.hasOwn(patch, 'error')) set.error = patch.error ?? null;
    const requeueable: RunStatus[] = ['running', 'failed'];
    let query = this.db.updateTable('runs').set(set).where('id', '=', id).where('status', 'in', requeueable);
    if (expectedOwner !== undefined) query = query.where('owner', '=', expectedOwner);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async finishQueuedRun(id: string, status: 'skipped' | 'cancelled', error: string): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ status, error, finished_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async requestRunCancel(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ cancel_requested: 1 })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  private activeRuns(db: Kysely<CatalogDatabase>): Promise<Selectable<RunsRow>[]> {
    const active: RunStatus[] = ['queued', 'running'];
    return db
      .selectFrom('runs')
      .selectAll()
      .where('status', 'in', active)
      .orderBy('queued_at')
      .orderBy('id')
      .execute();
  }
}

/** Rolls a claim back: the chosen task's lease went to another process between the read and the take. */
class LeaseTakenMeanwhile extends Error {}
