import { UsageError } from '../diagnostics/index.ts';

const ISO_LIKE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Normalize a timestamp to the catalog's one spelling, `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds),
 * so that text comparison is time comparison in SQLite and PostgreSQL alike. A date or a datetime
 * without a zone means UTC (never the machine's local zone). Throws a `UsageError` when unparseable.
 */
export function toIsoTimestamp(value: string): string {
  const match = ISO_LIKE.exec(value.trim());
  if (!match) throw invalidTimestamp(value);
  const [, date, time, zone] = match;
  if (!isCalendarDate(date!)) throw invalidTimestamp(value);
  let text = `${date}T${time ?? '00:00'}`;
  if (!zone || zone === 'Z' || zone === 'z') text += 'Z';
  else
    text +=
      zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  // JavaScript accepts at most millisecond digits reliably; drop the rest rather than round.
  text = text.replace(/(\.\d{3})\d+/, '$1');
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime())) throw invalidTimestamp(value);
  const iso = instant.toISOString();
  // Years outside 0000–9999 print as `+010000-…` and would break text ordering.
  if (iso.length !== 24) throw invalidTimestamp(value);
  return iso;
}

/** `Date` rolls 2026-02-30 over to March; a catalog timestamp must name a real day. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

function invalidTimestamp(value: string): UsageError {
  return new UsageError(
    `invalid timestamp ${JSON.stringify(value)}: use ISO-8601, e.g. 2026-11-01T00:00:00Z or 2026-11-01 00:00:00 (UTC)`,
  );
}
