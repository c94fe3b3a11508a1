export {
  loadDefinitions,
  type LoadDefinitionsOptions,
  type LoadedDefinitions,
} from './definitions-loader.ts';
export { DURATION_HINT, parseDuration } from './duration-parser.ts';
export { PROTO_INCLUDE_DIR } from './proto-schema-loader.ts';
export { buildTaskGraph } from './task-graph-builder.ts';
export { redactSecrets } from './secret-redactor.ts';
export type { SecretValue } from './env-interpolator.ts';
export { matchesTableGlob } from './table-glob-matcher.ts';
export { safeHarborIdentifierOf, type SafeHarborIdentifier } from './safe-harbor-identifiers.ts';
export {
  draftSchemaFiles,
  fieldNameOf,
  suggestPhi,
  type ColumnFacts,
  type DraftField,
  type DraftFile,
  type DraftInput,
  type PhiSuggestion,
  type SchemaDraft,
} from './schema-drafting.ts';
export {
  HIPAA_SAFE_HARBOR,
  lintUnfollowedRowFilters,
  type UnfollowedRowFilter,
} from './hipaa-safe-harbor-profile.ts';
