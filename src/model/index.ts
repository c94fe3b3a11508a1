export type * from './definitions.ts';
export type * from './runtime.ts';
export { DEFAULT_QUERY_TIMEOUT_MS, MASK_KINDS } from './definitions.ts';
