export { runTask, type RunOptions } from './task-runner.ts';
export type { RunContext } from './run-context.ts';
export { newRunId } from './run-id.ts';
export { parquetRelation } from './table-relation.ts';
