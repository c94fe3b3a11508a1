import type { MaskKind } from './definitions.ts';

/** What each mask shows a principal who may not see the value in clear, and what it applies to (user reference). */
export const MASK_DESCRIPTIONS: Readonly<Record<MaskKind, { shows: string; appliesTo: string }>> = {
  HASH: {
    shows:
      'lowercase hex HMAC-SHA256 of the value under `governance.hash_key`: equal values hash equally in every table, so masked columns still join and count distinct',
    appliesTo: 'any scalar',
  },
  REDACT: { shows: '`[REDACTED]` for text; NULL for other types', appliesTo: 'any scalar' },
  NULLIFY: { shows: 'NULL', appliesTo: 'any scalar' },
  DATE_YEAR: {
    shows: 'January 1 of the year; years 90 or more before today are top-coded to one shared year',
    appliesTo: 'DATE, TIMESTAMPTZ',
  },
  ZIP3: {
    shows: 'the first three digits; `000` for the sparsely populated prefixes HHS lists',
    appliesTo: 'text',
  },
  AGE_90_PLUS: { shows: 'ages above 89 as 90', appliesTo: 'integers' },
  EMAIL_DOMAIN: { shows: '`***@domain`', appliesTo: 'text' },
  SHOW_LAST_4: {
    shows: '`***` and the last four characters (`***` alone for four or fewer)',
    appliesTo: 'text, integers',
  },
};
