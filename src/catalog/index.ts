export type {
  AppliedDefinitions,
  CatalogStore,
  DefinitionChanges,
  NewVersion,
  RunFilter,
} from './catalog-store.ts';
export { KyselyCatalogStore } from './kysely-catalog-store.ts';
export { SqliteCatalogStore, type SqliteCatalogStoreOptions } from './sqlite-catalog-store.ts';
export { PostgresCatalogStore, type PostgresCatalogStoreOptions } from './postgres-catalog-store.ts';
export { openCatalogStore } from './open-catalog-store.ts';
export {
  planChanges,
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
