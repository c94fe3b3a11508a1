export { runInOrder, type RunSelection } from './run-in-order.ts';
export { selectTasks } from './task-selection.ts';
export {
  Orchestrator,
  type OrchestratorEvent,
  type OrchestratorHost,
  type OrchestratorOptions,
  type OrchestratorService,
} from './orchestrator.ts';
export type {
  CancelOutcome,
  ClaimResult,
  EnqueueOutcome,
  HeartbeatOutcome,
  QueuedRun,
  RecoveredRuns,
  RunQueue,
  RunRequest,
} from './run-queue.ts';
export { CatalogRunQueue } from './catalog-run-queue.ts';
export { RunReadiness } from './run-readiness.ts';
export { enqueueSelection, pauseTask, resumeTask, waitForRuns } from './run-requests.ts';
export { findRunningServer, ServerFileService, serverFilePath, type ServerInfo } from './server-file.ts';
export { findStaleTasks, type StaleTask } from './stale-tasks.ts';
export { fingerprintSource, matchSourceFiles } from './source-fingerprint.ts';
export { exportAirflowDags, type AirflowDag, type AirflowExportOptions } from './airflow-exporter.ts';
export { formatDuration } from './duration-text.ts';
export { MonitoringService, type MonitoringServiceOptions } from './monitoring-service.ts';
export { SYSTEM_CLOCK, type Clock } from './clock.ts';
export { rollbackTable, type RollbackRequest, type TableRollback } from './table-rollback.ts';
