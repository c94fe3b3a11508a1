const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration as written (the JSON Schemas reuse it). */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** The duration spellings accepted in the catalog repo, for error messages. */
export const DURATION_HINT = 'a duration like 500ms, 30s, 15m, 26h, 2d, 1w or 1h30m';

/**
 * Milliseconds in a duration such as `26h`, `30s`, `15m`, `2d`, `500ms` or `1h30m`;
 * `undefined` when the text is not a duration (bare numbers are refused: their unit is ambiguous).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return Math.round(total);
}
