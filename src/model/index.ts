export type * from './definitions.ts';
export type * from './runtime.ts';
export { MASK_KINDS } from './definitions.ts';
