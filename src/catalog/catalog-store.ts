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
  TableDef,
  TableRecord,
  TaskDef,
  Version,
  VersionRef,
} from '../model/index.ts';

/** The definitions as last applied, read back from the catalog. */
export interface AppliedDefinitions {
  tables: TableRecord[];
  tasks: TaskDef[];
  owners: OwnerDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
}

/** One `apply`, written in a single transaction. */
export interface DefinitionChanges {
  /** Tables to insert or update. `newSchemaVersion` is set when the schema changed and a schema version is recorded. */
  upsertTables: { def: TableDef; fields: FieldDef[]; newSchemaVersion?: number }[];
  removeTables: string[];
  upsertTasks: TaskDef[];
  removeTasks: string[];
  /** Owners, roles and principals are replaced wholesale: the repo is the source of truth. */
  owners: OwnerDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
  /** Lineage for the tasks in the repo (replaces all edges of those tasks). */
  lineage: LineageEdge[];
  gitCommit?: string;
}

export interface NewVersion {
  table: string;
  schemaVersion: number;
  rowCount: number;
  bytes: number;
  files: string[];
  runId: string;
  task: string;
  gitCommit?: string;
  upstream: VersionRef[];
  checks: Version['checks'];
  /** Columns actually written; for an inferred projection they become the table's fields. */
  fields?: FieldDef[];
}

export interface RunFilter {
  task?: string;
  status?: RunStatus;
  limit?: number;
}

/**
 * The catalog: definitions as applied, versions, runs, lineage. One interface, two databases
 * (SQLite and PostgreSQL), one conformance suite (`test/catalog/catalog-store-suite.ts`).
 */
export interface CatalogStore {
  /** Create or upgrade the schema. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  readDefinitions(): Promise<AppliedDefinitions>;
  /** Write one apply atomically. */
  applyDefinitions(changes: DefinitionChanges): Promise<void>;

  listTables(): Promise<TableRecord[]>;
  getTable(name: string): Promise<TableRecord | undefined>;
  listSchemaVersions(table: string): Promise<SchemaVersionRecord[]>;

  /**
   * Publish: in one transaction, number the version (previous + 1), record it and move the table's
   * current pointer to it. Idempotent on `runId`: publishing the same run twice returns the first version.
   */
  publishVersion(version: NewVersion): Promise<Version>;
  getVersion(table: string, version: number): Promise<Version | undefined>;
  getCurrentVersion(table: string): Promise<Version | undefined>;
  /** The version that was current at `timestamp` (ISO-8601): the newest published at or before it. */
  getVersionAt(table: string, timestamp: string): Promise<Version | undefined>;
  /** Newest first. */
  listVersions(table: string): Promise<Version[]>;
  /** Forget versions (retention); never the current one. Returns the removed versions so their files can be deleted. */
  deleteVersions(table: string, versions: number[]): Promise<Version[]>;

  createRun(run: Run): Promise<void>;
  updateRun(id: string, patch: Partial<Omit<Run, 'id' | 'task'>>): Promise<void>;
  getRun(id: string): Promise<Run | undefined>;
  /** Newest first. */
  listRuns(filter?: RunFilter): Promise<Run[]>;
  appendRunLog(lines: RunLogLine[]): Promise<void>;
  readRunLog(runId: string): Promise<RunLogLine[]>;

  listLineage(): Promise<LineageEdge[]>;
  /** Replace the lineage edges produced by one task (e.g. once a projection's columns are known). */
  replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void>;
}
