import type { ArgumentRule } from './expectation-spec.ts';

/**
 * Reusable argument checks. Each returns the end of a sentence starting with the argument's name
 * ("`mostly` must be a number between 0 and 1"), or undefined when the value is acceptable.
 * `null` is accepted wherever GE treats None as "not given".
 */

/** Anything (arguments accepted for compatibility and ignored). */
export const anyValue: ArgumentRule = () => undefined;

/** A column name. */
export const columnName: ArgumentRule = (value) =>
  typeof value === 'string' && value !== '' ? undefined : 'must be a column name';

/** A non-empty list of column names. */
export const columnNameList: ArgumentRule = (value) =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== '')
    ? undefined
    : 'must be a non-empty list of column names';

/** A list of column names, or null. */
export const optionalColumnNameList: ArgumentRule = (value) =>
  value === null || (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    ? undefined
    : 'must be a list of column names';

/** true, false or null. */
export const bool: ArgumentRule = (value) =>
  value === null || typeof value === 'boolean' ? undefined : 'must be true or false';

/** A number from 0 to 1 (`mostly`). */
export const fraction: ArgumentRule = (value) =>
  typeof value === 'number' && value >= 0 && value <= 1 ? undefined : 'must be a number between 0 and 1';

/** A finite number, or null. */
export const optionalNumber: ArgumentRule = (value) =>
  value === null || (typeof value === 'number' && Number.isFinite(value)) ? undefined : 'must be a number';

/** A finite number. */
export const number: ArgumentRule = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';

/** An integer, or null. */
export const optionalInteger: ArgumentRule = (value) =>
  value === null || Number.isInteger(value) ? undefined : 'must be an integer';

/** An integer ≥ 0. */
export const nonNegativeInteger: ArgumentRule = (value) =>
  Number.isInteger(value) && (value as number) >= 0 ? undefined : 'must be a non-negative integer';

/** Bounds of a value comparison: numbers, or strings for dates, times and text. */
export const comparable: ArgumentRule = (value) =>
  value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean'
    ? undefined
    : 'must be a number, a string (dates, text) or null';

/** Any string. */
export const text: ArgumentRule = (value) => (typeof value === 'string' ? undefined : 'must be a string');

/** A string with something besides spaces. */
export const nonEmptyText: ArgumentRule = (value) =>
  typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a non-empty string';

/** A non-empty list of strings. */
export const textList: ArgumentRule = (value) =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')
    ? undefined
    : 'must be a non-empty list of strings';

/** A list of strings, or null. */
export const optionalTextList: ArgumentRule = (value) =>
  value === null || (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    ? undefined
    : 'must be a list of strings';

/** `value_set`: a list of scalars (null allowed and ignored, as GE ignores missing values). */
export const valueSet: ArgumentRule = (value) =>
  Array.isArray(value) &&
  value.every((item) => item === null || ['string', 'number', 'boolean'].includes(typeof item))
    ? undefined
    : 'must be a list of values';

/** A `value_set`, or null. */
export const optionalValueSet: ArgumentRule = (value) => (value === null ? undefined : valueSet(value));

/** One of the given strings. */
export function oneOf(...choices: string[]): ArgumentRule {
  return (value) =>
    typeof value === 'string' && choices.includes(value)
      ? undefined
      : `must be one of ${choices.map((choice) => `\`${choice}\``).join(', ')}`;
}

/** A JSON object. */
export const jsonObject: ArgumentRule = (value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'must be an object';

/** `min_value`/`max_value` of counts: integers or null (GE: "must be integers"). */
export const countBound: ArgumentRule = (value) =>
  value === null || Number.isInteger(value)
    ? undefined
    : 'must be an integer or null (bounds of a count must be integers)';

/** Problems shared by every `min_value`/`max_value` pair: min above max. */
export function boundsOrderProblems(args: Record<string, unknown>): string[] {
  const { min_value: min, max_value: max } = args;
  if (min === null || min === undefined || max === null || max === undefined) return [];
  if (typeof min !== typeof max) return [];
  return (min as number | string) > (max as number | string)
    ? ['`min_value` cannot be greater than `max_value`']
    : [];
}

/** GE refuses a range with neither end for value-level checks: it would test nothing. */
export function someBoundProblems(args: Record<string, unknown>): string[] {
  const absent = (value: unknown) => value === null || value === undefined;
  return absent(args.min_value) && absent(args.max_value)
    ? ['`min_value` and `max_value` cannot both be null; give at least one']
    : [];
}
