import type { Kysely, Updateable } from 'kysely';
import { NotFoundError } from '../../diagnostics/index.ts';
import type { MonitoringEvent, Run, RunLogLine } from '../../model/index.ts';
import type { CatalogDatabase, RunsRow } from '../catalog-database.ts';
import type { CatalogRuns, RunFilter } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { toRun, runValues, optionalTimestamp } from './catalog-rows.ts';
import { insertEvents } from './monitoring-store.ts';
import { batches } from './statement-batches.ts';

/** Runs as history, and their logs. */
export class KyselyRunStore implements CatalogRuns {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(private readonly connection: CatalogConnection) {
    this.db = connection.db;
  }

  async createRun(run: Run): Promise<void> {
    await this.db.insertInto('runs').values(runValues(run)).execute();
  }

  async updateRun(
    id: string,
    patch: Partial<Omit<Run, 'id' | 'task'>>,
    events: MonitoringEvent[] = [],
  ): Promise<void> {
    const has = (key: keyof typeof patch): boolean => Object.hasOwn(patch, key);
    const set: Updateable<RunsRow> = {};
    if (has('status') && patch.status !== undefined) set.status = patch.status;
    if (has('attempt') && patch.attempt !== undefined) set.attempt = patch.attempt;
    if (has('trigger') && patch.trigger !== undefined) set.trigger = patch.trigger;
    if (has('queuedAt') && patch.queuedAt !== undefined) set.queued_at = toIsoTimestamp(patch.queuedAt);
    if (has('startedAt')) set.started_at = optionalTimestamp(patch.startedAt);
    if (has('finishedAt')) set.finished_at = optionalTimestamp(patch.finishedAt);
    if (has('error')) set.error = patch.error ?? null;
    if (has('published')) set.published_json = patch.published ? JSON.stringify(patch.published) : null;
    if (has('rowsWritten')) set.rows_written = patch.rowsWritten ?? null;
    if (has('badRows')) set.bad_rows = patch.badRows ?? null;
    if (has('checks')) set.checks_json = patch.checks ? JSON.stringify(patch.checks) : null;

    const update = async (db: Kysely<CatalogDatabase>): Promise<void> => {
      const result =
        Object.keys(set).length > 0
          ? await db.updateTable('runs').set(set).where('id', '=', id).executeTakeFirst()
          : undefined;
      const found =
        result !== undefined
          ? result.numUpdatedRows > 0n
          : (await db.selectFrom('runs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
      if (!found) throw new NotFoundError(`cannot update run ${id}: no such run in the catalog`);
    };
    if (events.length === 0) return update(this.db);
    // The outcome and what it means to monitoring commit together: a process that dies right after
    // leaves both or neither, so no failure goes untold.
    await this.db.transaction().execute(async (trx) => {
      await update(trx);
      await insertEvents(trx, events);
    });
  }

  async getRun(id: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<Run[]> {
    let query = this.db.selectFrom('runs').selectAll();
    if (filter.task !== undefined) query = query.where('task', '=', filter.task);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    // `id` breaks ties between runs queued in the same millisecond, so pages are stable.
    query = query.orderBy('queued_at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toRun);
  }

  async appendRunLog(lines: RunLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const nextSeq = new Map<string, number>();
      for (const runId of new Set(lines.map((line) => line.runId))) {
        if (this.connection.supportsRowLocks) {
          // Two writers logging for one run would otherwise both pick the same next seq.
          await trx.selectFrom('runs').select('id').where('id', '=', runId).forUpdate().execute();
        }
        const last = await trx
          .selectFrom('run_logs')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('run_id', '=', runId)
          .executeTakeFirst();
        nextSeq.set(runId, Number(last?.seq ?? 0) + 1);
      }
      const rows = lines.map((line) => {
        const seq = nextSeq.get(line.runId)!;
        nextSeq.set(line.runId, seq + 1);
        return {
          run_id: line.runId,
          seq,
          at: toIsoTimestamp(line.at),
          level: line.level,
          message: line.message,
        };
      });
      for (const batch of batches(rows, 5)) await trx.insertInto('run_logs').values(batch).execute();
    });
  }

  async readRunLog(runId: string): Promise<RunLogLine[]> {
    const rows = await this.db
      .selectFrom('run_logs')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      runId: row.run_id,
      at: row.at,
      level: row.level as RunLogLine['level'],
      message: row.message,
    }));
  }
}
