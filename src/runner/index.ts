export { runTask, type RunOptions } from './task-runner.ts';
export type { RunContext } from './run-context.ts';
export { newRunId } from './run-id.ts';
export { RunCancelledError } from './run-cancelled-error.ts';
export { parquetRelation, tableRelation, tableSelect } from './table-relation.ts';
export {
  HASH_COLUMN_SUFFIX,
  VersionFileWriter,
  readPrecomputedHashColumns,
  type PrecomputedHashes,
  type VersionFileOptions,
} from './version-file-writer.ts';
export { checkCurrentVersion } from './table-check.ts';
export { planRollback, publishRollback, type RollbackPlan, type RollbackRun } from './version-rollback.ts';
export { EngineVersions, loadPublishedVersion } from './engine-versions.ts';
