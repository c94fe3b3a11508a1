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
  /**
   * Tables to insert or update. `newSchemaVersion` is set when the schema changed and a schema version is
   * recorded (with `fields`). Without it, a new table starts at `def.schemaVersion` with `fields`, and an
   * existing table keeps its schema version and fields (an inferred projection keeps what its runs wrote).
   */
  upsertTables: { def: TableDef; fields: FieldDef[]; newSchemaVersion?: number }[];
  /** Forgets the tables and their schema versions. Their versions stay (files to retire, numbers never reused). */
  removeTables: string[];
  upsertTasks: TaskDef[];
  /** Forgets the tasks and their lineage edges; their runs stay as history. */
  removeTasks: string[];
  /** Owners, roles and principals are replaced wholesale: the repo is the source of truth. */
  owners: OwnerDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
  /**
   * Lineage edges: replaces every edge of each task named here, in `upsertTasks` or in `removeTasks`.
   * Edges of other tasks are kept (e.g. column lineage a run refined through `replaceTaskLineage`).
   */
  lineage: LineageEdge[];
  /** The Git commit of the definitions, recorded on new schema versions. */
  gitCommit?: string;
}

/** What a run hands to `publishVersion`; the store numbers the version and stamps `publishedAt`. */
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
  /** Columns actually written; when given they become the table's fields (the runner sends them for inferred projections). */
  fields?: FieldDef[];
}

/** Which runs `listRuns` returns; every criterion is optional. */
export interface RunFilter {
  task?: string;
  status?: RunStatus;
  /** At most this many, newest first. Default: all. */
  limit?: number;
}

/**
 * The catalog: definitions as applied, versions, runs, lineage. One interface, two databases
 * (SQLite and PostgreSQL), one conformance suite (`test/catalog/catalog-store-suite.ts`).
 * Timestamps are stored and returned as ISO-8601 UTC with milliseconds (`2026-11-01T00:00:00.000Z`),
 * whatever ISO spelling was passed in; lists of definitions come back sorted by name.
 */
export interface CatalogStore {
  /** Create or upgrade the schema. Idempotent, and safe when several processes start at once. */
  migrate(): Promise<void>;
  /** Release the connection(s). The store is unusable afterwards. */
  close(): Promise<void>;

  /** Everything last applied; what `planChanges` diffs the repo against. */
  readDefinitions(): Promise<AppliedDefinitions>;
  /** Write one apply atomically. */
  applyDefinitions(changes: DefinitionChanges): Promise<void>;

  /** Registered tables, by name. */
  listTables(): Promise<TableRecord[]>;
  /** A registered table, or `undefined`. */
  getTable(name: string): Promise<TableRecord | undefined>;
  /** The table's recorded schema versions, oldest first. */
  listSchemaVersions(table: string): Promise<SchemaVersionRecord[]>;

  /**
   * Publish: in one transaction, number the version (previous + 1), record it and move the table's
   * current pointer to it. Idempotent on `runId`: publishing the same run twice returns the first version.
   * Throws `NotFoundError` when the table is not registered (apply first).
   */
  publishVersion(version: NewVersion): Promise<Version>;
  /** One version, or `undefined`. */
  getVersion(table: string, version: number): Promise<Version | undefined>;
  /** The version the table's current pointer names; `undefined` before the first publication. */
  getCurrentVersion(table: string): Promise<Version | undefined>;
  /** The version that was current at `timestamp` (ISO-8601): the newest published at or before it. */
  getVersionAt(table: string, timestamp: string): Promise<Version | undefined>;
  /** Newest first. */
  listVersions(table: string): Promise<Version[]>;
  /**
   * Forget versions (retention); never the current one: asking for it throws `UsageError` and removes nothing.
   * Unknown numbers are ignored. Returns the removed versions so their files can be deleted.
   */
  deleteVersions(table: string, versions: number[]): Promise<Version[]>;

  /** Record a new run (its id must be new). */
  createRun(run: Run): Promise<void>;
  /**
   * Change some fields of a run. A key present with the value `undefined` clears that field (e.g. `error`
   * on a retry). Throws `NotFoundError` for an unknown run.
   */
  updateRun(id: string, patch: Partial<Omit<Run, 'id' | 'task'>>): Promise<void>;
  /** One run, or `undefined`. */
  getRun(id: string): Promise<Run | undefined>;
  /** Newest first (by `queuedAt`). */
  listRuns(filter?: RunFilter): Promise<Run[]>;
  /** Append lines after the lines already logged for their runs, in the order given. */
  appendRunLog(lines: RunLogLine[]): Promise<void>;
  /** A run's lines in append order. */
  readRunLog(runId: string): Promise<RunLogLine[]>;

  /** Every lineage edge (table-level edges have no columns). */
  listLineage(): Promise<LineageEdge[]>;
  /** Replace the lineage edges produced by one task (e.g. once a projection's columns are known). */
  replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void>;
}
