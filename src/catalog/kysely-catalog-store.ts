import { Migrator, type Kysely, type Transaction } from 'kysely';
import { TesseraError } from '../diagnostics/index.ts';
import type {
  AccessTokenRecord,
  Delivery,
  Incident,
  MonitoringEvent,
  Subscription,
  SyncRefusal,
  SyncStatus,
  LineageEdge,
  QueryAuditEntry,
  QueryAuditFilter,
  Run,
  RunLogLine,
  SchemaVersionRecord,
  TableRecord,
  Version,
} from '../model/index.ts';
import type { CatalogDatabase } from './catalog-database.ts';
import { CatalogMigrationProvider } from './catalog-migrations.ts';
import type {
  AppliedDefinitions,
  CatalogAccessTokens,
  CatalogDefinitions,
  CatalogDeferredDeletions,
  CatalogKeys,
  CatalogLineage,
  CatalogMonitoring,
  CatalogGitSync,
  DeliveryAttempt,
  DeliveryFilter,
  EventSettlement,
  IncidentFilter,
  SettlementOutcome,
  CatalogQueryAudit,
  CatalogReadLeases,
  CatalogRunQueue,
  CatalogRuns,
  CatalogStore,
  CatalogTables,
  CatalogTaskLeases,
  CatalogTaskStates,
  CatalogVersions,
  DefinitionChanges,
  EnqueueOutcome,
  NewVersion,
  QueuedRun,
  ReadLease,
  ReadLeaseRequest,
  RunFilter,
  RunQueueState,
  TaskLease,
  TaskLeaseOutcome,
  TaskLeaseRequest,
  TaskState,
} from './catalog-store.ts';
import type { CatalogConnection } from './stores/catalog-connection.ts';
import { KyselyDefinitionStore } from './stores/definition-store.ts';
import { KyselyTableStore } from './stores/table-store.ts';
import { KyselyVersionStore } from './stores/version-store.ts';
import { KyselyRunStore } from './stores/run-store.ts';
import { KyselyRunQueueStore } from './stores/run-queue-store.ts';
import { KyselyTaskLeaseStore } from './stores/task-lease-store.ts';
import { KyselyTaskStateStore } from './stores/task-state-store.ts';
import { KyselyAccessTokenStore } from './stores/access-token-store.ts';
import { KyselyQueryAuditStore } from './stores/query-audit-store.ts';
import { KyselyReadLeaseStore } from './stores/read-lease-store.ts';
import { KyselyDeferredDeletionStore } from './stores/deferred-deletion-store.ts';
import { KyselyCatalogKeyStore } from './stores/catalog-key-store.ts';
import { KyselyLineageStore } from './stores/lineage-store.ts';
import { KyselyMonitoringStore } from './stores/monitoring-store.ts';
import { KyselySyncStore } from './stores/sync-store.ts';

/**
 * The `CatalogStore` over Kysely: one store per concern (in `stores/`), all sharing one connection,
 * composed here. A database adapter subclasses it and supplies the Kysely instance plus the
 * capabilities below; SQLite and PostgreSQL differ only there.
 */
export abstract class KyselyCatalogStore implements CatalogStore {
  /**
   * True where `SELECT … FOR UPDATE` locks a row until commit (PostgreSQL): publishers of one table then
   * queue on its row. False where write transactions already exclude each other (SQLite `BEGIN IMMEDIATE`).
   */
  protected readonly supportsRowLocks: boolean = false;

  private readonly definitions: CatalogDefinitions;
  private readonly tables: CatalogTables;
  private readonly versions: CatalogVersions;
  private readonly runs: CatalogRuns;
  private readonly runQueue: CatalogRunQueue;
  private readonly taskLeases: CatalogTaskLeases;
  private readonly taskStates: CatalogTaskStates;
  private readonly accessTokens: CatalogAccessTokens;
  private readonly queryAudit: CatalogQueryAudit;
  private readonly readLeases: CatalogReadLeases;
  private readonly deferredDeletions: CatalogDeferredDeletions;
  private readonly keys: CatalogKeys;
  private readonly lineage: CatalogLineage;
  private readonly monitoring: CatalogMonitoring;
  private readonly sync: CatalogGitSync;

  protected constructor(protected readonly db: Kysely<CatalogDatabase>) {
    // Capabilities are read when used: an adapter's own field initializers run after this constructor.
    const supportsRowLocks = (): boolean => this.supportsRowLocks;
    const connection: CatalogConnection = {
      db,
      get supportsRowLocks() {
        return supportsRowLocks();
      },
      lockRunQueue: (trx) => this.lockRunQueue(trx),
    };
    this.tables = new KyselyTableStore(connection);
    this.definitions = new KyselyDefinitionStore(connection, this.tables);
    this.versions = new KyselyVersionStore(connection);
    this.runs = new KyselyRunStore(connection);
    this.runQueue = new KyselyRunQueueStore(connection);
    this.taskLeases = new KyselyTaskLeaseStore(connection);
    this.taskStates = new KyselyTaskStateStore(connection);
    this.accessTokens = new KyselyAccessTokenStore(connection);
    this.queryAudit = new KyselyQueryAuditStore(connection);
    this.readLeases = new KyselyReadLeaseStore(connection);
    this.deferredDeletions = new KyselyDeferredDeletionStore(connection);
    this.keys = new KyselyCatalogKeyStore(connection);
    this.lineage = new KyselyLineageStore(connection);
    this.monitoring = new KyselyMonitoringStore(connection);
    this.sync = new KyselySyncStore(connection);
  }

  /**
   * Serialize run-queue writers (enqueue with a dedupe key, claim) until the transaction ends. Default:
   * nothing, for databases whose write transactions already exclude each other (SQLite `BEGIN IMMEDIATE`).
   */
  protected async lockRunQueue(_trx: Transaction<CatalogDatabase>): Promise<void> {}

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
        `catalog migration${failed ? ` ${failed}` : ''} failed: ${error instanceof Error ? error.message : String(error)}; check that the catalog database is reachable and writable`,
        { cause: error, code: 'unavailable' },
      );
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- definitions ---------------------------------------------------------------------

  readDefinitions(): Promise<AppliedDefinitions> {
    return this.definitions.readDefinitions();
  }

  applyDefinitions(changes: DefinitionChanges): Promise<void> {
    return this.definitions.applyDefinitions(changes);
  }

  // ---- tables --------------------------------------------------------------------------

  listTables(): Promise<TableRecord[]> {
    return this.tables.listTables();
  }

  getTable(name: string): Promise<TableRecord | undefined> {
    return this.tables.getTable(name);
  }

  listSchemaVersions(table: string): Promise<SchemaVersionRecord[]> {
    return this.tables.listSchemaVersions(table);
  }

  // ---- versions ------------------------------------------------------------------------

  publishVersion(version: NewVersion): Promise<Version> {
    return this.versions.publishVersion(version);
  }

  getVersion(table: string, version: number): Promise<Version | undefined> {
    return this.versions.getVersion(table, version);
  }

  getCurrentVersion(table: string): Promise<Version | undefined> {
    return this.versions.getCurrentVersion(table);
  }

  getVersionAt(table: string, timestamp: string): Promise<Version | undefined> {
    return this.versions.getVersionAt(table, timestamp);
  }

  listVersions(table: string): Promise<Version[]> {
    return this.versions.listVersions(table);
  }

  deleteVersions(table: string, versions: number[]): Promise<Version[]> {
    return this.versions.deleteVersions(table, versions);
  }

  // ---- runs ----------------------------------------------------------------------------

  createRun(run: Run): Promise<void> {
    return this.runs.createRun(run);
  }

  updateRun(id: string, patch: Partial<Omit<Run, 'id' | 'task'>>, events?: MonitoringEvent[]): Promise<void> {
    return this.runs.updateRun(id, patch, events);
  }

  getRun(id: string): Promise<Run | undefined> {
    return this.runs.getRun(id);
  }

  listRuns(filter?: RunFilter): Promise<Run[]> {
    return this.runs.listRuns(filter);
  }

  appendRunLog(lines: RunLogLine[]): Promise<void> {
    return this.runs.appendRunLog(lines);
  }

  readRunLog(runId: string): Promise<RunLogLine[]> {
    return this.runs.readRunLog(runId);
  }

  // ---- run queue -----------------------------------------------------------------------

  enqueueRun(run: Run, queue: Partial<RunQueueState>): Promise<EnqueueOutcome> {
    return this.runQueue.enqueueRun(run, queue);
  }

  listActiveRuns(): Promise<QueuedRun[]> {
    return this.runQueue.listActiveRuns();
  }

  getQueuedRun(id: string): Promise<QueuedRun | undefined> {
    return this.runQueue.getQueuedRun(id);
  }

  claimRun(
    owner: string,
    choose: (active: QueuedRun[], leasedTasks: ReadonlySet<string>) => string | undefined,
    lease?: { expiresAt: string },
  ): Promise<QueuedRun | undefined> {
    return this.runQueue.claimRun(owner, choose, lease);
  }

  heartbeatRuns(owner: string, ids: string[]): Promise<string[]> {
    return this.runQueue.heartbeatRuns(owner, ids);
  }

  requeueRun(
    id: string,
    patch: { attempt?: number; notBefore?: string; error?: string },
    expectedOwner?: string,
  ): Promise<boolean> {
    return this.runQueue.requeueRun(id, patch, expectedOwner);
  }

  finishQueuedRun(id: string, status: 'skipped' | 'cancelled', error: string): Promise<boolean> {
    return this.runQueue.finishQueuedRun(id, status, error);
  }

  requestRunCancel(id: string): Promise<boolean> {
    return this.runQueue.requestRunCancel(id);
  }

  // ---- task leases ---------------------------------------------------------------------

  acquireTaskLease(request: TaskLeaseRequest): Promise<TaskLeaseOutcome> {
    return this.taskLeases.acquireTaskLease(request);
  }

  renewTaskLeases(owner: string, runIds: string[], expiresAt: string): Promise<string[]> {
    return this.taskLeases.renewTaskLeases(owner, runIds, expiresAt);
  }

  releaseTaskLease(runId: string, owner: string): Promise<boolean> {
    return this.taskLeases.releaseTaskLease(runId, owner);
  }

  listTaskLeases(): Promise<TaskLease[]> {
    return this.taskLeases.listTaskLeases();
  }

  // ---- task states ---------------------------------------------------------------------

  getTaskState(task: string): Promise<TaskState | undefined> {
    return this.taskStates.getTaskState(task);
  }

  listTaskStates(): Promise<TaskState[]> {
    return this.taskStates.listTaskStates();
  }

  getSourceCursor(task: string): Promise<unknown> {
    return this.taskStates.getSourceCursor(task);
  }

  clearSourceCursor(task: string): Promise<boolean> {
    return this.taskStates.clearSourceCursor(task);
  }

  updateTaskState(
    task: string,
    patch: Partial<Pick<TaskState, 'pausedAt' | 'sourceFingerprint'>>,
  ): Promise<TaskState> {
    return this.taskStates.updateTaskState(task, patch);
  }

  // ---- access tokens -------------------------------------------------------------------

  createAccessToken(token: AccessTokenRecord): Promise<void> {
    return this.accessTokens.createAccessToken(token);
  }

  findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    return this.accessTokens.findAccessToken(tokenHash);
  }

  listAccessTokens(): Promise<AccessTokenRecord[]> {
    return this.accessTokens.listAccessTokens();
  }

  revokeAccessToken(id: string, revokedAt: string): Promise<boolean> {
    return this.accessTokens.revokeAccessToken(id, revokedAt);
  }

  // ---- query audit ---------------------------------------------------------------------

  recordQueryAudit(entry: QueryAuditEntry): Promise<void> {
    return this.queryAudit.recordQueryAudit(entry);
  }

  listQueryAudit(filter?: QueryAuditFilter): Promise<QueryAuditEntry[]> {
    return this.queryAudit.listQueryAudit(filter);
  }

  // ---- read leases ---------------------------------------------------------------------

  acquireReadLease(request: ReadLeaseRequest): Promise<ReadLease | undefined> {
    return this.readLeases.acquireReadLease(request);
  }

  renewReadLease(id: string, expiresAt: string): Promise<boolean> {
    return this.readLeases.renewReadLease(id, expiresAt);
  }

  releaseReadLease(id: string): Promise<void> {
    return this.readLeases.releaseReadLease(id);
  }

  leasedFiles(now: string): Promise<Set<string>> {
    return this.readLeases.leasedFiles(now);
  }

  // ---- deferred deletions --------------------------------------------------------------

  deferFileDeletions(table: string, files: string[], at: string): Promise<void> {
    return this.deferredDeletions.deferFileDeletions(table, files, at);
  }

  listDeferredDeletions(table: string): Promise<string[]> {
    return this.deferredDeletions.listDeferredDeletions(table);
  }

  forgetDeferredDeletions(files: string[]): Promise<void> {
    return this.deferredDeletions.forgetDeferredDeletions(files);
  }

  // ---- catalog keys --------------------------------------------------------------------

  catalogKey(name: string): Promise<string> {
    return this.keys.catalogKey(name);
  }

  // ---- lineage -------------------------------------------------------------------------

  listLineage(): Promise<LineageEdge[]> {
    return this.lineage.listLineage();
  }

  replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void> {
    return this.lineage.replaceTaskLineage(task, edges);
  }

  // monitoring

  recordEvents(events: MonitoringEvent[]): Promise<void> {
    return this.monitoring.recordEvents(events);
  }

  listPendingEvents(limit?: number): Promise<MonitoringEvent[]> {
    return this.monitoring.listPendingEvents(limit);
  }

  getEvent(id: string): Promise<MonitoringEvent | undefined> {
    return this.monitoring.getEvent(id);
  }

  listEvents(filter?: { incidentId?: string; limit?: number }): Promise<MonitoringEvent[]> {
    return this.monitoring.listEvents(filter);
  }

  settleEvent(settlement: EventSettlement): Promise<SettlementOutcome> {
    return this.monitoring.settleEvent(settlement);
  }

  findOpenIncident(key: string): Promise<Incident | undefined> {
    return this.monitoring.findOpenIncident(key);
  }

  getIncident(id: string): Promise<Incident | undefined> {
    return this.monitoring.getIncident(id);
  }

  listIncidents(filter?: IncidentFilter): Promise<Incident[]> {
    return this.monitoring.listIncidents(filter);
  }

  remindIncident(
    id: string,
    previousNotifiedAt: string,
    at: string,
    deliveries: Delivery[],
  ): Promise<boolean> {
    return this.monitoring.remindIncident(id, previousNotifiedAt, at, deliveries);
  }

  listDeliveries(filter?: DeliveryFilter): Promise<Delivery[]> {
    return this.monitoring.listDeliveries(filter);
  }

  claimDueDeliveries(now: string, claimant: string, claimUntil: string, limit: number): Promise<Delivery[]> {
    return this.monitoring.claimDueDeliveries(now, claimant, claimUntil, limit);
  }

  recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<void> {
    return this.monitoring.recordDeliveryAttempt(id, attempt);
  }

  subscribe(subscription: Subscription): Promise<void> {
    return this.monitoring.subscribe(subscription);
  }

  unsubscribe(table: string, owner: string): Promise<boolean> {
    return this.monitoring.unsubscribe(table, owner);
  }

  listSubscriptions(table?: string): Promise<Subscription[]> {
    return this.monitoring.listSubscriptions(table);
  }

  recordSyncSeen(source: string, commit: string, at: string): Promise<void> {
    return this.sync.recordSyncSeen(source, commit, at);
  }

  recordSyncActivated(commit: string, at: string): Promise<void> {
    return this.sync.recordSyncActivated(commit, at);
  }

  recordSyncRefusal(refusal: SyncRefusal, events: MonitoringEvent[]): Promise<void> {
    return this.sync.recordSyncRefusal(refusal, events);
  }

  readSyncStatus(): Promise<SyncStatus> {
    return this.sync.readSyncStatus();
  }
}
