/**
 * Where table data lives. Files are addressed by keys relative to the storage root
 * (`clinical/patients/<runId>/part-0.parquet`); a key, once written and published, never changes.
 */
export interface Storage {
  /** e.g. `file:/abs/warehouse` or `s3://bucket/prefix`. */
  readonly url: string;
  /** Local directories the engine may read (the sandbox's `allowed_directories`). */
  readonly readableDirectories: string[];
  /** The folder a run writes its files into, created empty and private (0700). Local path. */
  createStagingFolder(table: string, runId: string): Promise<string>;
  /** Make a staged file durable and private (local files: mode 0600) under its key, and return the key. */
  commitFile(localPath: string): Promise<string>;
  /** A local path the engine can read for a key, once `ensureLocal` has been awaited for it. */
  localPath(key: string): string;
  /**
   * Make the keys' files present at their `localPath` (object storage: download the missing ones
   * into the local cache). Every reader awaits it before the engine reads the files.
   */
  ensureLocal(keys: string[]): Promise<void>;
  /** Total bytes of the given keys. */
  sizeOf(keys: string[]): Promise<number>;
  /** Delete keys and the folders they leave empty. Missing keys are ignored. */
  delete(keys: string[]): Promise<void>;
  /** Delete a run's staging folder and whatever is in it (a failed run). */
  discardStaging(table: string, runId: string): Promise<void>;
}
