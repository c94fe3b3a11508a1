import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MonitoringEvent, SyncRefusal, SyncStatus } from '../../model/index.ts';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogGitSync } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { withoutUndefined } from './catalog-rows.ts';
import { insertEvents } from './monitoring-store.ts';

/** The one row of `sync_state`: a catalog follows one branch. */
const STATE_ID = 'git';

/** Git sync's state: the active and newest commits (one row) and the refused commits. */
export class KyselySyncStore implements CatalogGitSync {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async recordSyncSeen(source: string, commit: string, at: string): Promise<void> {
    const values = { source, seen_commit: commit, seen_at: toIsoTimestamp(at) };
    await this.db
      .insertInto('sync_state')
      .values({ id: STATE_ID, ...values })
      .onConflict((conflict) => conflict.column('id').doUpdateSet(values))
      .execute();
  }

  async recordSyncActivated(commit: string, at: string): Promise<void> {
    const values = { active_commit: commit, activated_at: toIsoTimestamp(at) };
    await this.db
      .insertInto('sync_state')
      .values({ id: STATE_ID, ...values })
      .onConflict((conflict) => conflict.column('id').doUpdateSet(values))
      .execute();
  }

  async recordSyncRefusal(refusal: SyncRefusal, events: MonitoringEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sync_refusals')
        .values({
          id: randomUUID(),
          commit_sha: refusal.commit,
          author_name: refusal.authorName,
          author_email: refusal.authorEmail,
          reason: refusal.reason,
          refused_at: toIsoTimestamp(refusal.refusedAt),
        })
        .execute();
      await insertEvents(trx, events);
    });
  }

  async readSyncStatus(): Promise<SyncStatus> {
    const [state, refusal] = await Promise.all([
      this.db.selectFrom('sync_state').selectAll().where('id', '=', STATE_ID).executeTakeFirst(),
      this.db
        .selectFrom('sync_refusals')
        .selectAll()
        .orderBy('refused_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst(),
    ]);
    return withoutUndefined({
      activeCommit: state?.active_commit ?? undefined,
      activatedAt: state?.activated_at ?? undefined,
      seenCommit: state?.seen_commit ?? undefined,
      seenAt: state?.seen_at ?? undefined,
      source: state?.source ?? undefined,
      lastRefusal: refusal && {
        commit: refusal.commit_sha,
        authorName: refusal.author_name,
        authorEmail: refusal.author_email,
        reason: refusal.reason,
        refusedAt: refusal.refused_at,
      },
    });
  }
}
