import type { SecretValue } from './env-interpolator.ts';

// Values this short are too common to redact without mangling unrelated text.
const MIN_SECRET_LENGTH = 4;

/**
 * A deep copy of `value` in which every string holding an interpolated `${VAR}` value shows
 * `${VAR}` again, so definitions and messages can be stored or printed without the secret.
 */
export function redactSecrets<T>(value: T, secrets: readonly SecretValue[]): T {
  const replacements = [...secrets]
    .filter((secret) => secret.value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.value.length - a.value.length);
  if (replacements.length === 0) return value;
  const redact = (item: unknown): unknown => {
    if (typeof item === 'string') {
      return replacements.reduce(
        (text, secret) => text.split(secret.value).join(`\${${secret.variable}}`),
        item,
      );
    }
    if (Array.isArray(item)) return item.map(redact);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([key, child]) => [key, redact(child)]));
    }
    return item;
  };
  return redact(value) as T;
}
