export type {
  AccessTokenRecord,
  AppliedDefinitions,
  CatalogAccessTokens,
  CatalogDefinitions,
  CatalogDeferredDeletions,
  CatalogKeys,
  CatalogLineage,
  CatalogMonitoring,
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
  DeliveryAttempt,
  DeliveryFilter,
  EnqueueOutcome,
  EventSettlement,
  IncidentChange,
  IncidentFilter,
  SettlementOutcome,
  NewVersion,
  QueuedRun,
  ReadLease,
  ReadLeaseRequest,
  TaskLease,
  TaskLeaseOutcome,
  TaskLeaseRequest,
  RunFilter,
  RunQueueState,
  TaskState,
} from './catalog-store.ts';
export { KyselyCatalogStore } from './kysely-catalog-store.ts';
export { SqliteCatalogStore, type SqliteCatalogStoreOptions } from './sqlite-catalog-store.ts';
export { PostgresCatalogStore, type PostgresCatalogStoreOptions } from './postgres-catalog-store.ts';
export { openCatalogStore } from './open-catalog-store.ts';
export {
  planChanges,
  type Declassification,
  type DefinitionDiff,
  type Plan,
  type PlanOptions,
  type SchemaChange,
  type TableImpact,
} from './plan.ts';
export { formatPlan } from './plan-formatter.ts';
export { applyDefinitions, type ApplyOptions } from './apply.ts';
export {
  diffFields,
  describeType,
  typeHoldsEveryValue,
  type FieldChangeKind,
  type SchemaFieldChange,
} from './schema-diff.ts';
export { toIsoTimestamp } from './iso-timestamp.ts';
export { HeldReadLease, leaseResolved } from './read-lease.ts';
