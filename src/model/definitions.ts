import type { EventKind } from './notifications.ts';

/**
 * What a user declared in the catalog repo, after loading. Plain serializable data:
 * no classes, no functions, so definitions can be stored as JSON in the catalog.
 */

/** Where a definition came from: a path relative to the catalog repo, 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type Sensitivity = 'PII' | 'PHI' | 'CONFIDENTIAL';

export const MASK_KINDS = [
  'HASH',
  'REDACT',
  'NULLIFY',
  'DATE_YEAR',
  'ZIP3',
  'AGE_90_PLUS',
  'EMAIL_DOMAIN',
  'SHOW_LAST_4',
] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/** A column type in the platform's SQL dialect (DuckDB spelling). */
export type FieldType =
  | { kind: 'scalar'; sql: ScalarSqlType }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'enum'; name: string; values: string[] }
  | { kind: 'list'; element: FieldType }
  | { kind: 'struct'; name: string; fields: FieldDef[] }
  /** An engine type with no protobuf spelling, e.g. HUGEINT from `sum(bigint)` in an inferred projection. */
  | { kind: 'engine'; sql: string };

export type ScalarSqlType =
  | 'VARCHAR'
  | 'INTEGER'
  | 'BIGINT'
  | 'UINTEGER'
  | 'UBIGINT'
  | 'FLOAT'
  | 'DOUBLE'
  | 'BOOLEAN'
  | 'BLOB'
  | 'TIMESTAMPTZ'
  | 'DATE';

export interface FieldDef {
  name: string;
  /** The protobuf field number; stable identity across schema versions. */
  number: number;
  type: FieldType;
  /** False unless the field is declared `optional` (or is inferred from a projection). */
  nullable: boolean;
  description?: string;
  primaryKey?: boolean;
  sensitivity?: Sensitivity;
  mask?: MaskKind;
  /** Allowed values (from `allowed: [...]` or an enum). */
  allowed?: string[];
  at?: SourceLocation;
}

export interface SchemaDef {
  /** Fully qualified message name, e.g. `clinical.Patient`. */
  message: string;
  /** The .proto file, relative to the repo. */
  file: string;
  description?: string;
  fields: FieldDef[];
}

export interface FreshnessDef {
  warnAfterMs?: number;
  errorAfterMs?: number;
}

export type Severity = 'error' | 'warn';

/** One validation: a Great Expectations expectation by name, or `sql` (rows returned = failures). */
export interface ValidationDef {
  /** The expectation name, e.g. `expect_column_values_to_be_unique`, or `sql` for a custom check. */
  expectation: string;
  /** The expectation's arguments as written (GE names: column, mostly, min_value, ...); `sql` holds `{ sql }`. */
  args: Record<string, unknown>;
  severity: Severity;
  at?: SourceLocation;
}

export interface TableDef {
  name: string;
  owner: string;
  description?: string;
  /** `schemas/clinical.proto#clinical.Patient` as written; absent for an inferred projection target. */
  schemaRef?: string;
  /** The resolved schema; absent when inferred from a projection's SQL. */
  schema?: SchemaDef;
  schemaVersion: number;
  freshness?: FreshnessDef;
  validations: ValidationDef[];
  subscribers: string[];
  retention: { keepVersions: number };
  /** `deidentified`: masked values are what gets written; raw values never land. */
  store: 'raw' | 'deidentified';
  at: SourceLocation;
}

export type SourceType =
  'csv' | 'json' | 'ndjson' | 'parquet' | 'postgres' | 'mysql' | 'nats' | 'kafka' | 'salesforce';

/**
 * Text encodings a file source may declare (`options.encoding`; default `utf-8`). `utf-16` follows
 * the file's byte-order mark (little-endian without one); `latin-1` is ISO-8859-1.
 */
export const SOURCE_ENCODINGS = [
  'utf-8',
  'utf-16',
  'utf-16le',
  'utf-16be',
  'latin-1',
  'windows-1252',
] as const;
export type SourceEncoding = (typeof SOURCE_ENCODINGS)[number];

export interface SourceDef {
  type: SourceType;
  /** Path or glob relative to the repo, an absolute path, or an object-store URI. */
  uri?: string;
  /**
   * Source-specific options; csv: delimiter, header, null_values, timestamp_formats, date_formats;
   * csv, json and ndjson: encoding.
   */
  options: Record<string, unknown>;
  /** Source column name -> field name. */
  columns: Record<string, string>;
  /** Database sources (postgres, mysql): where, what and how far. */
  database?: DatabaseSourceDef;
  /** Event streams (nats, kafka): where, what and how much per run. */
  eventStream?: EventStreamSourceDef;
  /** A `salesforce` source: the object read, how to log in, and how to query it. */
  salesforce?: SalesforceSourceDef;
}

/** A `salesforce` source (docs/sources.md): one object, incremental on `SystemModstamp`. */
export interface SalesforceSourceDef {
  /** The object's API name, e.g. `Account` or `Patient__c`. */
  object: string;
  /** The fields read; absent: every field the object's describe lists (compound fields excepted). */
  fields?: string[];
  /** Where to log in: `https://login.salesforce.com`, `https://test.salesforce.com` or a My Domain URL. */
  loginUrl: string;
  username: string;
  /** The password followed by the security token; only through `${VAR}`. */
  password: string;
  /** A connected app's consumer key and secret: log in with the OAuth 2.0 username-password flow. */
  clientId?: string;
  clientSecret?: string;
  /** The REST API version, e.g. `62.0`. */
  apiVersion: string;
  /** `auto` (Bulk API 2.0 above `bulkThreshold` records), `always` or `never`. */
  bulk: 'auto' | 'always' | 'never';
  /** With `bulk: auto`, more records than this are read with a Bulk API 2.0 query job. */
  bulkThreshold: number;
}

/** A `postgres` or `mysql` source: a table or a query, read in full or past a cursor column. */
export interface DatabaseSourceDef {
  /** `postgres://…` or `mysql://…`; a password only through `${VAR}`. */
  url: string;
  /** `name` or `schema.name`; exactly one of `table` and `query`. */
  table?: string;
  /** A SELECT whose rows are the source. */
  query?: string;
  /** A column that grows with every insert and update: only rows past the last published mark are read. */
  cursor?: string;
}

/** A `nats` or `kafka` source (docs/sources.md). */
export interface EventStreamSourceDef {
  /** The server: `nats://host:4222` or `kafka://broker:9092,broker2:9092`; a password only through `${VAR}`. */
  url: string;
  /** NATS: the JetStream stream read. */
  stream?: string;
  /** NATS: the subject (a filter, wildcards allowed) read from the stream. */
  subject?: string;
  /** Kafka: the topic read. */
  topic?: string;
  /** NATS: the durable consumer's name; Kafka: the consumer group. Default `tessera-<task name>`. */
  consumer?: string;
  /** One run reads at most `maxRows` messages, waiting at most `maxWaitMs` for them. Default 10000, 5 s. */
  batch?: StreamBatchDef;
  /** How a message is encoded, `json` (the default) or `protobuf` (the table's message). */
  format?: 'json' | 'protobuf';
}

/** One run of a stream task reads a micro-batch: up to `maxRows` messages within `maxWaitMs`. */
export interface StreamBatchDef {
  maxRows: number;
  maxWaitMs: number;
}

export type ScheduleDef =
  | { kind: 'cron'; expression: string }
  | { kind: 'every'; intervalMs: number }
  | { kind: 'source_change'; pollMs: number }
  /** Event streams: under `serve` a run is queued again as soon as the previous one ends (one version per batch). */
  | { kind: 'stream' };

export interface BadRowsDef {
  action: 'quarantine' | 'fail';
  /** Fraction of rows that may be bad before the run fails (quarantine only). */
  maxFraction: number;
}

export interface TaskDef {
  name: string;
  type: 'ingestion' | 'projection';
  target: string;
  source?: SourceDef;
  /** The projection's SQL text (read from `sqlFile` when the task names a file). */
  sql?: string;
  sqlFile?: string;
  mode: 'replace' | 'append' | 'merge';
  /**
   * Whether an ingestion with `mode: replace` may publish an empty version when its source has no
   * rows. Absent (false): the run fails and the current version stays.
   */
  allowEmpty?: boolean;
  badRows: BadRowsDef;
  schedule?: ScheduleDef;
  retries: { attempts: number; backoffMs: number };
  timeoutMs?: number;
  dependsOn: string[];
  /** Labels for selecting tasks (`tessera run --select tag:NAME`); absent when none are declared. */
  tags?: string[];
  at: SourceLocation;
}

/**
 * How an owner is reached. Secrets (`webhook`, `routingKey`, `secret`) come only from `${ENV}` and
 * are never stored in the catalog. `on` keeps only those event kinds (absent: all of them).
 * `console` prints the message on the standard output of the process that delivers it (the demo's).
 */
export type ChannelDef =
  | { type: 'slack'; webhook: string; on?: EventKind[] }
  | { type: 'email'; to: string[]; on?: EventKind[] }
  | { type: 'pagerduty'; routingKey: string; on?: EventKind[] }
  | { type: 'webhook'; url: string; secret?: string; on?: EventKind[] }
  | { type: 'console'; on?: EventKind[] };

export interface OwnerDef {
  name: string;
  description?: string;
  members: string[];
  channels: ChannelDef[];
  at: SourceLocation;
}

export interface RoleDef {
  name: string;
  /** `user:x@y`, `group:g`, or a bare principal name. */
  members: string[];
  /** Table names or globs (`analytics.*`). */
  grants: string[];
  denyColumns: Record<string, string[]>;
  rowFilters: Record<string, string>;
  unmask: Sensitivity[];
  at: SourceLocation;
}

export interface PrincipalDef {
  name: string;
  groups: string[];
  attributes: Record<string, string>;
  at: SourceLocation;
}

/** How long a query may run when `governance.query_timeout` does not say: 5 minutes. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5 * 60_000;

export interface ProjectDef {
  name: string;
  /** `sqlite:path` or `postgres://...`; env overrides already applied. */
  catalog: string;
  /** `file:/abs/path` (`s3://` is not built yet: `validate` refuses it). */
  storage: string;
  /** `duckdb`, or `postgres://…` (projection SQL must then be portable: docs/engines.md). */
  engine: string;
  /** `local` (serve executes), or `workers` (`tessera worker` processes execute; PostgreSQL catalog). */
  orchestrator: 'local' | 'workers';
  governance: {
    profile?: string;
    hashKey?: string;
    /** `governance.query_timeout`: how long a query may run; absent means `DEFAULT_QUERY_TIMEOUT_MS`. */
    queryTimeoutMs?: number;
    /**
     * `governance.auditors`: principals who may read the query audit log through the network faces
     * (`GET /api/v1/audit`). Default: none (the operator reads it with `tessera audit`).
     */
    auditors?: string[];
  };
  /** `notifications:` in tessera.yaml: how messages are delivered (channels belong to owners). */
  notifications: NotificationSettings;
  /** `git:` in tessera.yaml: Git sync's settings (`tessera serve --watch-git`). */
  git?: { webhookSecret?: string };
  /** `s3:` in tessera.yaml: how `s3://` sources are reached (credentials: the AWS SDK's default chain). */
  s3?: S3Settings;
  /** `lineage:` in tessera.yaml: where run lineage is sent. Absent: nowhere. */
  lineage?: { openlineage?: OpenLineageSettings };
  /** Absolute path of the catalog repo. */
  root: string;
}

/**
 * `lineage.openlineage`: every run's OpenLineage `RunEvent`s (START, COMPLETE, FAIL) are POSTed to
 * `url` (Marquez: `http://host:5000/api/v1/lineage`), datasets and jobs named in `namespace`.
 */
export interface OpenLineageSettings {
  url: string;
  namespace: string;
  /** Sent as `Authorization: Bearer …`; only from `${VAR}`. */
  apiKey?: string;
  /** How long one POST may take before it is abandoned (default 5s). */
  timeoutMs?: number;
}

/** Where `s3://` source uris are read from; every key absent means AWS's own defaults. */
export interface S3Settings {
  /** An S3-compatible server's address (MinIO, Ceph…); absent: AWS S3 for the region. */
  endpoint?: string;
  /** The region; absent: the AWS SDK's (`AWS_REGION`, `~/.aws/config`). */
  region?: string;
  /** Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key` (most S3-compatible servers need it). */
  pathStyle?: boolean;
}

export interface NotificationSettings {
  /** `smtp: { url, from }`: `smtp://user:pass@host:port` or `smtps://`; email channels need it. */
  smtp?: { url: string; from: string };
  /** PagerDuty Events API v2 endpoint; default `https://events.pagerduty.com/v2/enqueue`. */
  pagerdutyEventsUrl: string;
  /** Base of the links in messages (`ui_url`); a table's page is `${uiUrl}/tables/${table}`. */
  uiUrl?: string;
  /** `reminders.every`: an open incident is re-sent this often; absent: never. */
  reminderEveryMs?: number;
}

export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Everything the loader produced from one catalog repo. */
export interface Definitions {
  project: ProjectDef;
  owners: OwnerDef[];
  tables: TableDef[];
  tasks: TaskDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
}
