import type { Kysely } from 'kysely';
import type { CatalogDatabase, TaskStatesRow } from '../catalog-database.ts';
import type { CatalogTaskStates, TaskState } from '../catalog-store.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { compareText, toTaskState, optionalTimestamp } from './catalog-rows.ts';

/** Orchestration state per task (pauses, `source_change` fingerprints). */
export class KyselyTaskStateStore implements CatalogTaskStates {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async getTaskState(task: string): Promise<TaskState | undefined> {
    const row = await this.db
      .selectFrom('task_states')
      .selectAll()
      .where('task', '=', task)
      .executeTakeFirst();
    return row && toTaskState(row);
  }

  async listTaskStates(): Promise<TaskState[]> {
    const rows = await this.db.selectFrom('task_states').selectAll().execute();
    return rows.sort((a, b) => compareText(a.task, b.task)).map(toTaskState);
  }

  async getSourceCursor(task: string): Promise<unknown> {
    const row = await this.db
      .selectFrom('source_cursors')
      .select('cursor_json')
      .where('task', '=', task)
      .executeTakeFirst();
    return row ? (JSON.parse(row.cursor_json) as unknown) : undefined;
  }

  async clearSourceCursor(task: string): Promise<boolean> {
    const result = await this.db.deleteFrom('source_cursors').where('task', '=', task).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async updateTaskState(
    task: string,
    patch: Partial<Pick<TaskState, 'pausedAt' | 'sourceFingerprint'>>,
  ): Promise<TaskState> {
    const now = new Date().toISOString();
    const set: Partial<TaskStatesRow> = { updated_at: now };
    if (Object.hasOwn(patch, 'pausedAt')) set.paused_at = optionalTimestamp(patch.pausedAt);
    if (Object.hasOwn(patch, 'sourceFingerprint')) set.source_fingerprint = patch.sourceFingerprint ?? null;
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('task_states')
        .select('task')
        .where('task', '=', task)
        .executeTakeFirst();
      if (existing) {
        await trx.updateTable('task_states').set(set).where('task', '=', task).execute();
      } else {
        await trx
          .insertInto('task_states')
          .values({ task, paused_at: null, source_fingerprint: null, ...set, updated_at: now })
          .execute();
      }
      return toTaskState(
        await trx.selectFrom('task_states').selectAll().where('task', '=', task).executeTakeFirstOrThrow(),
      );
    });
  }
}
