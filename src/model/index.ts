export type * from './definitions.ts';
export type * from './runtime.ts';
export type * from './notifications.ts';
export type * from './git-sync.ts';
export {
  DEFAULT_PAGERDUTY_EVENTS_URL,
  DEFAULT_QUERY_TIMEOUT_MS,
  MASK_KINDS,
  SOURCE_ENCODINGS,
} from './definitions.ts';
export { DIRECT_EMAIL, EVENT_KINDS } from './notifications.ts';
export { MASK_DESCRIPTIONS } from './mask-descriptions.ts';
