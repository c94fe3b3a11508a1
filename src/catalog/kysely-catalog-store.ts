import { randomBytes, randomUUID } from 'node:crypto';
import { Migrator, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import { NotFoundError, TesseraError, UsageError } from '../diagnostics/index.ts';
import type {
  FieldDef,
  LineageEdge,
  OwnerDef,
  PrincipalDef,
  RoleDef,
  Run,
  RunLogLine,
  RunStatus,
  SchemaVersionRecord,
  TableRecord,
  TaskDef,
  Version,
} from '../model/index.ts';
import type {
  AccessTokensRow,
  CatalogDatabase,
  QueryAuditRow,
  RunsRow,
  TablesRow,
  TaskLeasesRow,
  TaskStatesRow,
  VersionsRow,
} from './catalog-database.ts';
import { CatalogMigrationProvider } from './catalog-migrations.ts';
import type {
  AppliedDefinitions,
  CatalogStore,
  DefinitionChanges,
  EnqueueOutcome,
  NewVersion,
  QueuedRun,
  RunFilter,
  RunQueueState,
  TaskState,
  AccessTokenRecord,
  ReadLease,
  ReadLeaseRequest,
  TaskLease,
  TaskLeaseOutcome,
  TaskLeaseRequest,
} from './catalog-store.ts';
import type { QueryAuditEntry, QueryAuditFilter } from '../model/index.ts';
import { toIsoTimestamp } from './iso-timestamp.ts';

type CatalogTransaction = Transaction<CatalogDatabase>;
type DefinitionTable = 'tasks' | 'owners' | 'roles' | 'principals';

/**
 * Every `CatalogStore` query, written once over Kysely. A database adapter subclasses it and supplies
 * the Kysely instance plus the capabilities below; SQLite and PostgreSQL differ only there.
 */
export abstract class KyselyCatalogStore implements CatalogStore {
  /**
   * True where `SELECT … FOR UPDATE` locks a row until commit (PostgreSQL): publishers of one table then
   * queue on its row. False where write transactions already exclude each other (SQLite `BEGIN IMMEDIATE`).
   */
  protected readonly supportsRowLocks: boolean = false;

  protected constructor(protected readonly db: Kysely<CatalogDatabase>) {}

  /**
   * Serialize run-queue writers (enqueue with a dedupe key, claim) until the transaction ends. Default:
   * nothing, for databases whose write transactions already exclude each other (SQLite `BEGIN IMMEDIATE`).
   */
  protected async lockRunQueue(_trx: CatalogTransaction): Promise<void> {}

  /**
   * The schema holding Kysely's migration bookkeeping, created if missing; `undefined` = the connection's
   * default. Default: `undefined`.
   */
  protected get migrationTableSchema(): string | undefined {
    return undefined;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: new CatalogMigrationProvider(),
      migrationTableSchema: this.migrationTableSchema,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === 'Error')?.migrationName;
      throw new TesseraError(
        `catalog migration${failed ? ` ${failed}` : ''} failed: ${errorMessage(error)}; check that the catalog database is reachable and writable`,
        { cause: error, code: 'unavailable' },
      );
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- definitions ----------------------------------------------------------------------------

  async readDefinitions(): Promise<AppliedDefinitions> {
    const [tables, tasks, owners, roles, principals] = await Promise.all([
      this.listTables(),
      this.readDefinitionTable<TaskDef>('tasks'),
      this.readDefinitionTable<OwnerDef>('owners'),
      this.readDefinitionTable<RoleDef>('roles'),
      this.readDefinitionTable<PrincipalDef>('principals'),
    ]);
    return { tables, tasks, owners, roles, principals };
  }

  async applyDefinitions(changes: DefinitionChanges): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      for (const { def, fields, newSchemaVersion } of changes.upsertTables) {
        await this.upsertTable(trx, def, fields, newSchemaVersion, now, changes.gitCommit);
      }
      for (const names of batches(changes.removeTables, 1)) {
        await trx.deleteFrom('schema_versions').where('table_name', 'in', names).execute();
        await trx.deleteFrom('tables').where('name', 'in', names).execute();
      }

      for (const task of changes.upsertTasks) {
        await trx
          .insertInto('tasks')
          .values({ name: task.name, definition_json: JSON.stringify(task), updated_at: now })
          .onConflict((conflict) =>
            conflict.column('name').doUpdateSet({ definition_json: JSON.stringify(task), updated_at: now }),
          )
          .execute();
      }
      for (const names of batches(changes.removeTasks, 1)) {
        await trx.deleteFrom('tasks').where('name', 'in', names).execute();
      }

      // The repo is the source of truth for who owns and who may read: replace these wholesale.
      await this.replaceDefinitionTable(trx, 'owners', changes.owners, now);
      await this.replaceDefinitionTable(trx, 'roles', changes.roles, now);
      await this.replaceDefinitionTable(trx, 'principals', changes.principals, now);

      const lineageTasks = new Set([
        ...changes.upsertTasks.map((task) => task.name),
        ...changes.removeTasks,
        ...changes.lineage.map((edge) => edge.task),
      ]);
      for (const tasks of batches([...lineageTasks], 1)) {
        await trx.deleteFrom('lineage_edges').where('task', 'in', tasks).execute();
      }
      await this.insertLineage(trx, changes.lineage);
    });
  }

  private async upsertTable(
    trx: CatalogTransaction,
    def: DefinitionChanges['upsertTables'][number]['def'],
    fields: FieldDef[],
    newSchemaVersion: number | undefined,
    now: string,
    gitCommit: string | undefined,
  ): Promise<void> {
    const existing = await trx
      .selectFrom('tables')
      .select('schema_version')
      .where('name', '=', def.name)
      .executeTakeFirst();
    const definition = {
      owner: def.owner,
      description: def.description ?? null,
      definition_json: JSON.stringify(def),
      updated_at: now,
    };
    const schema =
      newSchemaVersion !== undefined
        ? { schema_version: newSchemaVersion, fields_json: JSON.stringify(fields) }
        : undefined;
    if (existing) {
      await trx
        .updateTable('tables')
        .set({ ...definition, ...schema })
        .where('name', '=', def.name)
        .execute();
    } else {
      await trx
        .insertInto('tables')
        .values({
          name: def.name,
          ...definition,
          schema_version: def.schemaVersion,
          fields_json: JSON.stringify(fields),
          current_version: null,
          ...schema,
        })
        .execute();
    }
    if (newSchemaVersion !== undefined) {
      await trx
        .insertInto('schema_versions')
        .values({
          table_name: def.name,
          schema_version: newSchemaVersion,
          fields_json: JSON.stringify(fields),
          applied_at: now,
          git_commit: gitCommit ?? null,
        })
        .execute();
    }
  }

  private async readDefinitionTable<T>(table: DefinitionTable): Promise<T[]> {
    const rows = await this.db.selectFrom(table).select(['name', 'definition_json']).execute();
    return rows.sort(byName).map((row) => JSON.parse(row.definition_json) as T);
  }

  private async replaceDefinitionTable(
    trx: CatalogTransaction,
    table: DefinitionTable,
    definitions: { name: string }[],
    now: string,
  ): Promise<void> {
    await trx.deleteFrom(table).execute();
    const rows = definitions.map((definition) => ({
      name: definition.name,
      definition_json: JSON.stringify(definition),
      updated_at: now,
    }));
    for (const batch of batches(rows, 3)) await trx.insertInto(table).values(batch).execute();
  }

  async listTables(): Promise<TableRecord[]> {
    const rows = await this.db.selectFrom('tables').selectAll().execute();
    return rows.sort(byName).map(toTableRecord);
  }

  async getTable(name: string): Promise<TableRecord | undefined> {
    const row = await this.db.selectFrom('tables').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toTableRecord(row);
  }

  async listSchemaVersions(table: string): Promise<SchemaVersionRecord[]> {
    const rows = await this.db
      .selectFrom('schema_versions')
      .selectAll()
      .where('table_name', '=', table)
      .orderBy('schema_version')
      .execute();
    return rows.map((row) =>
      withoutUndefined({
        table: row.table_name,
        schemaVersion: Number(row.schema_version),
        fields: JSON.parse(row.fields_json) as FieldDef[],
        appliedAt: row.applied_at,
        gitCommit: row.git_commit ?? undefined,
      }),
    );
  }

  // ---- versions -------------------------------------------------------------------------------

  async publishVersion(version: NewVersion): Promise<Version> {
    return this.db.transaction().execute(async (trx) => {
      // Lock first, then read: the second of two concurrent publishers sees the first's version.
      let tableQuery = trx
        .selectFrom('tables')
        .select(['name', 'current_version'])
        .where('name', '=', version.table);
      if (this.supportsRowLocks) tableQuery = tableQuery.forUpdate();
      const table = await tableQuery.executeTakeFirst();
      if (!table) {
        throw new NotFoundError(
          `cannot publish a version of ${version.table}: the table is not registered in the catalog; run \`tessera apply\` first`,
        );
      }

      const published = await trx
        .selectFrom('versions')
        .selectAll()
        .where('table_name', '=', version.table)
        .where('run_id', '=', version.runId)
        .executeTakeFirst();
      if (published) return toVersion(published);

      const latest = await trx
        .selectFrom('versions')
        .select(['version', 'published_at'])
        .where('table_name', '=', version.table)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      const now = new Date().toISOString();
      // Never earlier than the previous version, even if the clock stepped back: time travel relies on it.
      const publishedAt = latest && latest.published_at > now ? latest.published_at : now;
      const row: Selectable<VersionsRow> = {
        table_name: version.table,
        version: latest ? Number(latest.version) + 1 : 1,
        schema_version: version.schemaVersion,
        row_count: version.rowCount,
        bytes: version.bytes,
        files_json: JSON.stringify(version.files),
        run_id: version.runId,
        task: version.task,
        git_commit: version.gitCommit ?? null,
        upstream_json: JSON.stringify(version.upstream),
        checks_json: JSON.stringify(version.checks),
        published_at: publishedAt,
        stored_masks_json: JSON.stringify(version.storedMasks ?? {}),
      };
      await trx.insertInto('versions').values(row).execute();
      await trx
        .updateTable('tables')
        .set({
          current_version: row.version,
          updated_at: publishedAt,
          ...(version.fields ? { fields_json: JSON.stringify(version.fields) } : {}),
        })
        .where('name', '=', version.table)
        .execute();
      return toVersion(row);
    });
  }

  async getVersion(table: string, version: number): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async getCurrentVersion(table: string): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .innerJoin('tables', (join) =>
        join
          .onRef('tables.name', '=', 'versions.table_name')
          .onRef('tables.current_version', '=', 'versions.version'),
      )
      .selectAll('versions')
      .where('versions.table_name', '=', table)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async getVersionAt(table: string, timestamp: string): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .where('published_at', '<=', toIsoTimestamp(timestamp))
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async listVersions(table: string): Promise<Version[]> {
    const rows = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(toVersion);
  }

  async deleteVersions(table: string, versions: number[]): Promise<Version[]> {
    if (versions.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      // Locking the table row keeps a concurrent publish from moving the pointer while we check it.
      let tableQuery = trx.selectFrom('tables').select('current_version').where('name', '=', table);
      if (this.supportsRowLocks) tableQuery = tableQuery.forUpdate();
      const current = (await tableQuery.executeTakeFirst())?.current_version;
      if (current !== undefined && current !== null && versions.includes(Number(current))) {
        throw new UsageError(
          `cannot delete version ${current} of ${table}: it is the current version; only older versions can be deleted`,
        );
      }
      const rows = await trx
        .selectFrom('versions')
        .selectAll()
        .where('table_name', '=', table)
        .where('version', 'in', versions)
        .orderBy('version', 'desc')
        .execute();
      if (rows.length > 0) {
        await trx
          .deleteFrom('versions')
          .where('table_name', '=', table)
          .where('version', 'in', versions)
          .execute();
      }
      return rows.map(toVersion);
    });
  }

  // ---- runs -----------------------------------------------------------------------------------

  async createRun(run: Run): Promise<void> {
    await this.db.insertInto('runs').values(runValues(run)).execute();
  }

  async updateRun(id: string, patch: Partial<Omit<Run, 'id' | 'task'>>): Promise<void> {
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

    const result =
      Object.keys(set).length > 0
        ? await this.db.updateTable('runs').set(set).where('id', '=', id).executeTakeFirst()
        : undefined;
    const found = result ? result.numUpdatedRows > 0n : (await this.getRun(id)) !== undefined;
    if (!found) throw new NotFoundError(`cannot update run ${id}: no such run in the catalog`);
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
        if (this.supportsRowLocks) {
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

  // ---- run queue ------------------------------------------------------------------------------

  async enqueueRun(run: Run, queue: Partial<RunQueueState>): Promise<EnqueueOutcome> {
    if (run.status !== 'queued')
      throw new Error(`enqueueRun(${run.id}) needs a queued run, got ${run.status}`);
    return this.db.transaction().execute(async (trx) => {
      await this.lockRunQueue(trx);
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
        await this.lockRunQueue(trx);
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
          const outcome = await this.takeTaskLease(trx, {
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

  // ---- task leases ----------------------------------------------------------------------------

  async acquireTaskLease(request: TaskLeaseRequest): Promise<TaskLeaseOutcome> {
    return this.db.transaction().execute((trx) => this.takeTaskLease(trx, request));
  }

  /**
   * One statement decides: an upsert whose update applies only when the lease is free to take, so two
   * processes taking the same task at once never both get it (the second waits on the key, then
   * finds the first one's unexpired lease). Then read back who holds it.
   */
  private async takeTaskLease(trx: CatalogTransaction, request: TaskLeaseRequest): Promise<TaskLeaseOutcome> {
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

  // ---- task states ----------------------------------------------------------------------------

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

  // ---- governance: access tokens and the query audit log ---------------------------------------

  async createAccessToken(token: AccessTokenRecord): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({
        id: token.id,
        principal: token.principal,
        token_hash: token.tokenHash,
        created_at: toIsoTimestamp(token.createdAt),
        expires_at: optionalTimestamp(token.expiresAt),
        revoked_at: optionalTimestamp(token.revokedAt),
      })
      .execute();
  }

  async findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('access_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && toAccessToken(row);
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    const rows = await this.db
      .selectFrom('access_tokens')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAccessToken);
  }

  async revokeAccessToken(id: string, revokedAt: string): Promise<boolean> {
    const exists = await this.db
      .selectFrom('access_tokens')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) return false;
    await this.db
      .updateTable('access_tokens')
      .set({ revoked_at: toIsoTimestamp(revokedAt) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    return true;
  }

  async recordQueryAudit(entry: QueryAuditEntry): Promise<void> {
    await this.db
      .insertInto('query_audit')
      .values({
        id: entry.id,
        at: toIsoTimestamp(entry.at),
        principal: entry.principal,
        token_id: entry.tokenId ?? null,
        sql_text: entry.sql,
        outcome: entry.outcome,
        reason: entry.reason ?? null,
        tables_json: JSON.stringify(entry.tables),
        columns_json: JSON.stringify(entry.columns),
        masks_json: JSON.stringify(entry.masks),
        row_filters_json: JSON.stringify(entry.rowFilters),
        rows_returned: entry.rowsReturned ?? null,
        duration_ms: Math.round(entry.durationMs),
      })
      .execute();
  }

  async listQueryAudit(filter: QueryAuditFilter = {}): Promise<QueryAuditEntry[]> {
    let query = this.db.selectFrom('query_audit').selectAll();
    if (filter.principal !== undefined) query = query.where('principal', '=', filter.principal);
    query = query.orderBy('at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toQueryAudit);
  }

  // ---- read leases ----------------------------------------------------------------------------

  async acquireReadLease(request: ReadLeaseRequest): Promise<ReadLease | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const files = new Set<string>();
      for (const { table, version } of request.versions) {
        // A shared row lock (PostgreSQL): retention's DELETE of this version waits for our commit,
        // and then finds the lease; if it deleted first, we find no row. SQLite serializes writers.
        let query = trx
          .selectFrom('versions')
          .select('files_json')
          .where('table_name', '=', table)
          .where('version', '=', version);
        if (this.supportsRowLocks) query = query.forShare();
        const row = await query.executeTakeFirst();
        if (!row) return undefined;
        for (const file of JSON.parse(row.files_json) as string[]) files.add(file);
      }
      const lease: ReadLease = {
        id: randomUUID(),
        files: [...files].sort(),
        expiresAt: toIsoTimestamp(request.expiresAt),
      };
      await trx
        .insertInto('read_leases')
        .values({
          id: lease.id,
          holder: request.holder,
          files_json: JSON.stringify(lease.files),
          expires_at: lease.expiresAt,
        })
        .execute();
      return lease;
    });
  }

  async renewReadLease(id: string, expiresAt: string): Promise<boolean> {
    const result = await this.db
      .updateTable('read_leases')
      .set({ expires_at: toIsoTimestamp(expiresAt) })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseReadLease(id: string): Promise<void> {
    await this.db.deleteFrom('read_leases').where('id', '=', id).execute();
  }

  async leasedFiles(now: string): Promise<Set<string>> {
    const at = toIsoTimestamp(now);
    // Leases of readers that died without releasing expire; sweep them while we are here.
    await this.db.deleteFrom('read_leases').where('expires_at', '<=', at).execute();
    const rows = await this.db
      .selectFrom('read_leases')
      .select('files_json')
      .where('expires_at', '>', at)
      .execute();
    return new Set(rows.flatMap((row) => JSON.parse(row.files_json) as string[]));
  }

  async deferFileDeletions(table: string, files: string[], at: string): Promise<void> {
    if (files.length === 0) return;
    const rows = files.map((file) => ({ file, table_name: table, deferred_at: toIsoTimestamp(at) }));
    await this.db.transaction().execute(async (trx) => {
      for (const batch of batches(rows, 3)) {
        await trx
          .insertInto('deferred_deletions')
          .values(batch)
          .onConflict((conflict) => conflict.column('file').doNothing())
          .execute();
      }
    });
  }

  async listDeferredDeletions(table: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('deferred_deletions')
      .select('file')
      .where('table_name', '=', table)
      .orderBy('deferred_at')
      .orderBy('file')
      .execute();
    return rows.map((row) => row.file);
  }

  async forgetDeferredDeletions(files: string[]): Promise<void> {
    if (files.length === 0) return;
    await this.db.deleteFrom('deferred_deletions').where('file', 'in', files).execute();
  }

  // ---- catalog keys ---------------------------------------------------------------------------

  async catalogKey(name: string): Promise<string> {
    const stored = await this.readCatalogKey(name);
    if (stored !== undefined) return stored;
    // Insert if absent, then read back: of two processes opening a fresh catalog at once, the
    // first insert wins and both return its key.
    await this.db
      .insertInto('catalog_keys')
      .values({ name, key_hex: randomBytes(32).toString('hex'), created_at: new Date().toISOString() })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const key = await this.readCatalogKey(name);
    if (key === undefined) throw new Error(`catalog key ${name} is missing right after it was inserted`);
    return key;
  }

  private async readCatalogKey(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('catalog_keys')
      .select('key_hex')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.key_hex;
  }

  // ---- lineage --------------------------------------------------------------------------------

  async listLineage(): Promise<LineageEdge[]> {
    const rows = await this.db.selectFrom('lineage_edges').selectAll().execute();
    const sortKey = (row: (typeof rows)[number]): string =>
      [row.task, row.to_table, row.to_column ?? '', row.from_table, row.from_column ?? ''].join('\u0000');
    rows.sort((a, b) => compareText(sortKey(a), sortKey(b)));
    return rows.map((row) =>
      withoutUndefined({
        fromTable: row.from_table,
        fromColumn: row.from_column ?? undefined,
        toTable: row.to_table,
        toColumn: row.to_column ?? undefined,
        task: row.task,
      }),
    );
  }

  async replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void> {
    const foreign = edges.find((edge) => edge.task !== task);
    if (foreign) {
      throw new Error(`replaceTaskLineage(${task}) was given an edge of task ${foreign.task}`);
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('lineage_edges').where('task', '=', task).execute();
      await this.insertLineage(trx, edges);
    });
  }

  private async insertLineage(trx: CatalogTransaction, edges: LineageEdge[]): Promise<void> {
    const rows = edges.map((edge) => ({
      from_table: edge.fromTable,
      from_column: edge.fromColumn ?? null,
      to_table: edge.toTable,
      to_column: edge.toColumn ?? null,
      task: edge.task,
    }));
    for (const batch of batches(rows, 5)) await trx.insertInto('lineage_edges').values(batch).execute();
  }
}

/**
 * Bound parameters one statement may carry. SQLite refuses a statement over its variable limit
 * (32,766 in the SQLite better-sqlite3 ships, 999 in builds before 3.32) and PostgreSQL over 65,535,
 * so every multi-row insert and every `in (...)` list goes in slices under this budget, inside the
 * caller's transaction: a definitions repo of any size applies.
 */
export const MAX_STATEMENT_PARAMETERS = 9_990;

/** `items` in slices of at most MAX_STATEMENT_PARAMETERS / `parametersPerItem` items. */
function* batches<T>(items: readonly T[], parametersPerItem: number): Generator<T[]> {
  const size = Math.max(1, Math.floor(MAX_STATEMENT_PARAMETERS / parametersPerItem));
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

// Sorting names here, not in SQL, gives one order whatever the database's collation (and NULL placement).
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}

function toTableRecord(row: Selectable<TablesRow>): TableRecord {
  return withoutUndefined({
    name: row.name,
    owner: row.owner,
    description: row.description ?? undefined,
    schemaVersion: Number(row.schema_version),
    fields: JSON.parse(row.fields_json) as FieldDef[],
    currentVersion: row.current_version === null ? undefined : Number(row.current_version),
    definition: JSON.parse(row.definition_json) as unknown,
    updatedAt: row.updated_at,
  });
}

function toVersion(row: Selectable<VersionsRow>): Version {
  return withoutUndefined({
    table: row.table_name,
    version: Number(row.version),
    schemaVersion: Number(row.schema_version),
    rowCount: Number(row.row_count),
    bytes: Number(row.bytes),
    files: JSON.parse(row.files_json) as Version['files'],
    runId: row.run_id,
    task: row.task,
    gitCommit: row.git_commit ?? undefined,
    upstream: JSON.parse(row.upstream_json) as Version['upstream'],
    checks: JSON.parse(row.checks_json) as Version['checks'],
    publishedAt: row.published_at,
    storedMasks:
      row.stored_masks_json === null
        ? undefined
        : (JSON.parse(row.stored_masks_json) as Version['storedMasks']),
  });
}

function toRun(row: Selectable<RunsRow>): Run {
  return withoutUndefined({
    id: row.id,
    task: row.task,
    status: row.status as Run['status'],
    attempt: Number(row.attempt),
    trigger: row.trigger,
    queuedAt: row.queued_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    error: row.error ?? undefined,
    published: row.published_json ? (JSON.parse(row.published_json) as Run['published']) : undefined,
    rowsWritten: row.rows_written === null ? undefined : Number(row.rows_written),
    badRows: row.bad_rows === null ? undefined : Number(row.bad_rows),
  });
}

/** A run's own columns; the queue columns take their defaults. */
function runValues(run: Run) {
  return {
    id: run.id,
    task: run.task,
    status: run.status,
    attempt: run.attempt,
    trigger: run.trigger,
    queued_at: toIsoTimestamp(run.queuedAt),
    started_at: optionalTimestamp(run.startedAt),
    finished_at: optionalTimestamp(run.finishedAt),
    error: run.error ?? null,
    published_json: run.published ? JSON.stringify(run.published) : null,
    rows_written: run.rowsWritten ?? null,
    bad_rows: run.badRows ?? null,
  };
}

function toQueuedRun(row: Selectable<RunsRow>): QueuedRun {
  return {
    run: toRun(row),
    queue: withoutUndefined({
      dedupeKey: row.dedupe_key ?? undefined,
      notBefore: row.not_before ?? undefined,
      owner: row.owner ?? undefined,
      heartbeatAt: row.heartbeat_at ?? undefined,
      cancelRequested: Number(row.cancel_requested) === 1,
      wave: row.wave ?? undefined,
      downstream: Number(row.downstream) !== 0,
    }),
  };
}

function toAccessToken(row: Selectable<AccessTokensRow>): AccessTokenRecord {
  return withoutUndefined({
    id: row.id,
    principal: row.principal,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  });
}

function toQueryAudit(row: Selectable<QueryAuditRow>): QueryAuditEntry {
  return withoutUndefined({
    id: row.id,
    at: row.at,
    principal: row.principal,
    tokenId: row.token_id ?? undefined,
    sql: row.sql_text,
    outcome: row.outcome as QueryAuditEntry['outcome'],
    reason: row.reason ?? undefined,
    tables: JSON.parse(row.tables_json) as QueryAuditEntry['tables'],
    columns: JSON.parse(row.columns_json) as QueryAuditEntry['columns'],
    masks: JSON.parse(row.masks_json) as QueryAuditEntry['masks'],
    rowFilters: JSON.parse(row.row_filters_json) as QueryAuditEntry['rowFilters'],
    rowsReturned: row.rows_returned === null ? undefined : Number(row.rows_returned),
    durationMs: Number(row.duration_ms),
  });
}

function toTaskState(row: Selectable<TaskStatesRow>): TaskState {
  return withoutUndefined({
    task: row.task,
    pausedAt: row.paused_at ?? undefined,
    sourceFingerprint: row.source_fingerprint ?? undefined,
    updatedAt: row.updated_at,
  });
}

function optionalTimestamp(value: string | undefined): string | null {
  return value === undefined ? null : toIsoTimestamp(value);
}

/** Absent rather than `undefined`: records read back compare equal to what was written. */
function withoutUndefined<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toTaskLease(row: Selectable<TaskLeasesRow>): TaskLease {
  return {
    task: row.task,
    owner: row.owner,
    runId: row.run_id,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}

/** Rolls a claim back: the chosen task's lease went to another process between the read and the take. */
class LeaseTakenMeanwhile extends Error {}
