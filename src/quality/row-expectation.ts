import { quoteIdentifier } from '../engines/engine.ts';
import { allOf, asCount, countWhere, filtered } from './aggregate-scan.ts';
import type { AggregateScan, AggregateReader } from './aggregate-scan.ts';
import type { CheckEvaluation, CheckOutcome, FollowUpContext } from './expectation-spec.ts';
import { normalizedRows } from './result-values.ts';

/**
 * What is shown for an unexpected row: one expression gives bare values, several give objects
 * keyed by name, or `[a, b]` lists when the expectation samples `tuples` (GE's column pairs).
 */
export interface SampleColumn {
  name: string;
  sql: string;
}

/** A per-row expectation (GE's "map" expectations), evaluated inside the fused scan. */
export interface RowExpectation {
  /** Rows the expectation considers beyond the row condition (e.g. `x IS NOT NULL`); TRUE = all. */
  domain: string;
  /**
   * Set when the domain is exactly "this column is not null": the considered rows are then counted
   * with `count(column)`, which Parquet metadata can answer, instead of a filtered count.
   */
  nonNullColumn?: string;
  /** SQL boolean, TRUE when a considered row passes; FALSE or NULL make it unexpected. */
  passes: string;
  rowCondition: string;
  mostly: number;
  sample: SampleColumn[];
  /** Sampled rows as lists in `sample` order instead of objects (GE's column-pair shape). */
  sampleTuples?: boolean;
}

/** GE's rule: the share of considered values that pass must reach `mostly`; nothing considered passes. */
export function mostlyHolds(considered: number, unexpected: number, mostly: number): boolean {
  if (considered === 0) return true;
  return (considered - unexpected) / considered >= mostly;
}

/** `part` as a percentage of `whole`; 0 of nothing is 0%. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : (part / whole) * 100;
}

/**
 * GE's counts of a per-value result: every row (within the row condition), those missing (not
 * considered), and the unexpected ones as a share of the considered.
 */
export function mapCounts(
  elements: number,
  considered: number,
  unexpected: number,
): Pick<
  CheckOutcome,
  'elementCount' | 'missingCount' | 'missingPercent' | 'unexpectedCount' | 'unexpectedPercent'
> {
  return {
    elementCount: elements,
    missingCount: elements - considered,
    missingPercent: percent(elements - considered, elements),
    unexpectedCount: unexpected,
    unexpectedPercent: percent(unexpected, considered),
  };
}

/** The predicate selecting unexpected rows: considered and not passing. */
export function unexpectedRows(
  expectation: Pick<RowExpectation, 'domain' | 'passes' | 'rowCondition'>,
): string {
  return allOf(expectation.rowCondition, expectation.domain, `(${expectation.passes}) IS NOT TRUE`);
}

/** Read up to `sampleSize` unexpected values (row objects, or lists with `tuples`) in the relation's order. */
export async function sampleRows(
  context: FollowUpContext,
  sample: SampleColumn[],
  where: string,
  from = context.relation,
  tuples = false,
): Promise<unknown[]> {
  if (context.sampleSize <= 0) return [];
  const select = sample.map((column, index) => `${column.sql} AS ${quoteIdentifier(`v${index}`)}`).join(', ');
  const rows = normalizedRows(
    await context.session.query(`SELECT ${select} FROM ${from} WHERE ${where} LIMIT ${context.sampleSize}`),
  );
  if (sample.length === 1) return rows.map((row) => row.v0);
  if (tuples) return rows.map((row) => sample.map((_column, index) => row[`v${index}`]));
  return rows.map((row) =>
    Object.fromEntries(sample.map((column, index) => [column.name, row[`v${index}`]])),
  );
}

/** Three counts in the fused scan; a sample query only when some value was unexpected. */
export function rowExpectation(expectation: RowExpectation): CheckEvaluation {
  let elements = -1;
  let considered = -1;
  let unexpected = -1;
  return {
    plan(scan: AggregateScan) {
      elements = scan.add(countWhere(expectation.rowCondition));
      considered = scan.add(
        expectation.nonNullColumn
          ? filtered(`count(${expectation.nonNullColumn})`, expectation.rowCondition)
          : countWhere(expectation.rowCondition, expectation.domain),
      );
      unexpected = scan.add(countWhere(unexpectedRows(expectation)));
    },
    async finish(read: AggregateReader, context: FollowUpContext): Promise<CheckOutcome> {
      const consideredCount = asCount(read(considered));
      const unexpectedCount = asCount(read(unexpected));
      return {
        success: mostlyHolds(consideredCount, unexpectedCount, expectation.mostly),
        ...mapCounts(asCount(read(elements)), consideredCount, unexpectedCount),
        sample:
          unexpectedCount > 0
            ? await sampleRows(
                context,
                expectation.sample,
                unexpectedRows(expectation),
                context.relation,
                expectation.sampleTuples,
              )
            : [],
      };
    },
  };
}
