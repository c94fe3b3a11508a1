import { quoteIdentifier } from '../engines/engine.ts';
import { allOf, asCount, countWhere, filtered } from './aggregate-scan.ts';
import type { AggregateScan, AggregateReader } from './aggregate-scan.ts';
import type { CheckEvaluation, CheckOutcome, FollowUpContext, RelationColumn } from './expectation-spec.ts';
import { typeFamily } from './column-types.ts';
import { mapCounts, mostlyHolds, sampleRows, type SampleColumn } from './row-expectation.ts';

/** Largest key range checked with a bitmap: 2^27 bits = 16 MiB per thread. */
const BITMAP_LIMIT = 2 ** 27;

/** A uniqueness check over one column or a combination of columns. */
export interface UniquenessExpectation {
  columns: RelationColumn[];
  /** Rows considered beyond the row condition (non-null value, or GE's `ignore_row_if`). */
  domain: string;
  rowCondition: string;
  mostly: number;
  /** Set when the domain is exactly "this column is not null" (counted with `count(column)`). */
  nonNullColumn?: string;
}

/**
 * Values (or combinations of values) that occur once. GE counts every row whose value occurs
 * more than once as unexpected, which needs a GROUP BY; the fused scan only proves the common
 * case, "all distinct", by comparing the number of distinct keys with the number of rows:
 *
 * - integer keys whose range (min/max from a pre-pass that Parquet answers from its metadata)
 *   spans at most 2^27 values: `bit_count(bitstring_agg(key))`, a bitmap, about 4× cheaper than a
 *   hash table (several integer columns combine into one mixed-radix key);
 * - anything else: `count(DISTINCT …)`.
 *
 * Only when duplicates exist does a second pass count the rows involved and sample them.
 */
export function uniqueness(expectation: UniquenessExpectation): CheckEvaluation {
  const identifiers = expectation.columns.map((column) => quoteIdentifier(column.name));
  const integerKeys = expectation.columns.every((column) => typeFamily(column.type) === 'integer');
  const ranges: { min: number; max: number }[] = [];
  let rangeHandles: { min: number; max: number }[] = [];
  let elements = -1;
  let considered = -1;
  let distinct = -1;

  return {
    prepare(prepass: AggregateScan) {
      if (!integerKeys) return;
      rangeHandles = identifiers.map((identifier) => ({
        min: prepass.add(`min(${identifier})`),
        max: prepass.add(`max(${identifier})`),
      }));
    },
    plan(scan: AggregateScan, prepass: AggregateReader | undefined) {
      elements = scan.add(countWhere(expectation.rowCondition));
      considered = scan.add(
        expectation.nonNullColumn
          ? filtered(`count(${expectation.nonNullColumn})`, expectation.rowCondition)
          : countWhere(expectation.rowCondition, expectation.domain),
      );
      ranges.length = 0;
      if (prepass && rangeHandles.length === identifiers.length) {
        for (const handle of rangeHandles) {
          // An all-NULL column has no range (and Number(null) would invent one).
          const [low, high] = [prepass(handle.min), prepass(handle.max)];
          if (low === null || low === undefined || high === null || high === undefined) break;
          const [min, max] = [Number(low), Number(high)];
          if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) break;
          ranges.push({ min, max });
        }
      }
      const key = ranges.length === identifiers.length ? bitmapKey(identifiers, ranges) : undefined;
      // NULL keys drop out of both aggregates by themselves; only a tuple of several columns
      // (never NULL as a whole) needs the domain filter. A bitmap missing partly-NULL keys counts
      // fewer than the considered rows, which only sends the check to the exact pass: still sound.
      distinct = scan.add(
        key
          ? `bit_count(${filtered(`bitstring_agg(${key.sql}, 0, ${key.size - 1})`, expectation.rowCondition)})`
          : identifiers.length === 1
            ? filtered(`count(DISTINCT ${identifiers[0]})`, expectation.rowCondition)
            : filtered(`count(DISTINCT ${tuple(identifiers)})`, expectation.rowCondition, expectation.domain),
      );
    },
    async finish(read: AggregateReader, context: FollowUpContext): Promise<CheckOutcome> {
      const consideredCount = asCount(read(considered));
      const allDistinct = asCount(read(distinct)) === consideredCount;
      const unexpectedCount = allDistinct ? 0 : await duplicateRowCount(context, expectation, identifiers);
      const sample: SampleColumn[] = expectation.columns.map((column) => ({
        name: column.name,
        sql: quoteIdentifier(column.name),
      }));
      return {
        success: mostlyHolds(consideredCount, unexpectedCount, expectation.mostly),
        ...mapCounts(asCount(read(elements)), consideredCount, unexpectedCount),
        sample:
          unexpectedCount > 0
            ? await sampleRows(
                context,
                sample,
                duplicatedRows(context, expectation, identifiers),
                `${context.relation} AS ${ROW}`,
              )
            : [],
      };
    },
  };
}

function tuple(identifiers: string[]): string {
  return identifiers.length === 1 ? identifiers[0]! : `(${identifiers.join(', ')})`;
}

/** One integer per combination: digits in a mixed radix whose bases are the columns' ranges. */
function bitmapKey(
  identifiers: string[],
  ranges: { min: number; max: number }[],
): { sql: string; size: number } | undefined {
  let size = 1;
  for (const range of ranges) size *= range.max - range.min + 1;
  if (!(size >= 1 && size <= BITMAP_LIMIT)) return undefined;
  let weight = size;
  const terms = identifiers.map((identifier, index) => {
    const range = ranges[index]!;
    weight /= range.max - range.min + 1;
    const offset = `(CAST(${identifier} AS BIGINT) - ${range.min})`;
    return weight === 1 ? offset : `${offset} * ${weight}`;
  });
  return { sql: terms.join(' + '), size };
}

function groupedDuplicates(
  context: FollowUpContext,
  expectation: UniquenessExpectation,
  identifiers: string[],
): string {
  const where = allOf(expectation.rowCondition, expectation.domain);
  return `SELECT ${identifiers.join(', ')}, count(*) AS n FROM ${context.relation} WHERE ${where} GROUP BY ALL HAVING count(*) > 1`;
}

async function duplicateRowCount(
  context: FollowUpContext,
  expectation: UniquenessExpectation,
  identifiers: string[],
): Promise<number> {
  const result = await context.session.query(
    `SELECT coalesce(sum(n), 0) AS unexpected FROM (${groupedDuplicates(context, expectation, identifiers)})`,
  );
  return asCount(result.rows[0]?.unexpected);
}

/** Alias of the relation in the sample query, so the semi-join can tell its columns from the duplicates'. */
const ROW = '__tessera_row';

/** Rows whose key is among the duplicated ones; NULL parts match NULL, as in GROUP BY. */
function duplicatedRows(
  context: FollowUpContext,
  expectation: UniquenessExpectation,
  identifiers: string[],
): string {
  const match = identifiers
    .map((identifier) => `d.${identifier} IS NOT DISTINCT FROM ${ROW}.${identifier}`)
    .join(' AND ');
  return allOf(
    expectation.rowCondition,
    expectation.domain,
    `EXISTS (SELECT 1 FROM (${groupedDuplicates(context, expectation, identifiers)}) AS d WHERE ${match})`,
  );
}
