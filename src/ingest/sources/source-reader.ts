/**
 * Sources that are not local files (object stores, databases, event streams, SaaS) reach the one
 * conform pipeline the same way: a `SourceReader` stages what is new into local files of a file
 * format in the run's staging folder, and the run then conforms those exactly as it conforms files
 * (field assertions, type checks, date coercion, bad rows, the validation gate). What the reader
 * read up to (object ETags, a high-water mark, stream positions) is its cursor: stored with the
 * version in the publishing transaction (`NewVersion.sourceCursor`), and only then acknowledged to
 * the source (`afterPublish`), so a failed run reads the same data again and nothing is lost.
 */
import type { EngineSession } from '../../engines/engine.ts';
import type { FieldDef, ProjectDef, SchemaDef, TaskDef } from '../../model/index.ts';
import type { RecordPositions } from '../ingest-request.ts';

export interface SourceReadRequest {
  task: TaskDef;
  /** The target table's schema, in column order (a reader may use it to shape what it stages). */
  fields: FieldDef[];
  /** The target table's schema: its protobuf message and file (a stream with `format: protobuf` decodes with it). */
  schema?: SchemaDef;
  /** The run's private staging folder: stage files under it (e.g. `join(stagingFolder, 'source')`). */
  stagingFolder: string;
  repoRoot: string;
  project: ProjectDef;
  /** Where the previous published run read up to; `undefined` the first time or after `--full-refresh`. */
  cursor: unknown;
  /** The run's engine session, for readers that let DuckDB do the work. */
  session: EngineSession;
  /** Aborted when the run is cancelled or times out. */
  signal?: AbortSignal;
  /** Run-log lines. */
  log(message: string): void;
}

export interface StagedSource {
  /**
   * The task as the file pipeline reads it: `source.type` a file format (csv, json, ndjson,
   * parquet), `source.uri` the staged files (an absolute path or glob), options as needed.
   */
  task: TaskDef;
  /**
   * How messages, bad rows and the quarantine name each staged file (absolute path → label, e.g.
   * the object it was downloaded from: `s3://bucket/key`); absent: by its path.
   */
  fileLabels?: Record<string, string>;
  /** Records staged from a stream: bad rows are named by their stream position, not their staged line. */
  positions?: RecordPositions;
  /** The cursor to store with the version; absent: unchanged. */
  cursor?: unknown;
  /**
   * Nothing new since the cursor: the run ends `skipped` with this reason, publishing nothing and
   * triggering nothing downstream.
   */
  nothingNew?: string;
  /** After the version (and cursor) are published: acknowledge messages, commit offsets. */
  afterPublish?(): Promise<void>;
  /** The run failed or was cancelled: release what the reader holds (unacked messages are redelivered). */
  abandon?(): Promise<void>;
}

export type SourceReader = (request: SourceReadRequest) => Promise<StagedSource>;
