import { quoteIdentifier } from '../engines/engine.ts';
import type { Severity } from '../model/index.ts';
import { CheckCompileError } from './check-errors.ts';
import { typeFamily } from './column-types.ts';
import type { CheckEvaluation, RelationColumn } from './expectation-spec.ts';
import { findColumn } from './validation-problems.ts';

/** How recent the newest row must be, judged on a timestamp (or date) column of the data. */
export interface FreshnessCheck {
  /** The column holding each row's event or update time. */
  column: string;
  /** Older than this: the check fails with severity `warn`. */
  warnAfterMs?: number;
  /** Older than this: the check fails with severity `error`. */
  errorAfterMs?: number;
  /** The reference time; default: now. */
  now?: Date;
}

/** A compiled freshness check: its evaluation, and its severity once evaluated. */
export interface CompiledFreshness {
  evaluation: CheckEvaluation;
  /** `error` once past `errorAfterMs` (or when it is the only limit), else `warn`. */
  severity(): Severity;
}

/** The result's arguments, in the vocabulary of the other checks. */
export function freshnessArgs(check: FreshnessCheck): Record<string, unknown> {
  return { column: check.column, warn_after_ms: check.warnAfterMs, error_after_ms: check.errorAfterMs };
}

/** `max(column)` in the fused scan, compared with the reference time. */
export function compileFreshness(check: FreshnessCheck, columns: RelationColumn[]): CompiledFreshness {
  const name = findColumn(
    columns.map((column) => column.name),
    check.column,
  );
  const column = columns.find((candidate) => candidate.name === name);
  if (!column) throw new CheckCompileError(`freshness column \`${check.column}\` does not exist`);
  if (typeFamily(column.type) !== 'temporal') {
    throw new CheckCompileError(
      `freshness needs a date or timestamp column, but \`${column.name}\` is ${column.type}`,
    );
  }
  let handle = -1;
  let ageMs: number | undefined;
  return {
    evaluation: {
      plan(scan) {
        handle = scan.add(`max(${quoteIdentifier(column.name)})`);
      },
      async finish(read) {
        const latest = read(handle);
        if (latest === null || latest === undefined) {
          return {
            success: false,
            observedValue: { latest: null },
            error: 'no rows: there is no newest time',
          };
        }
        const text = String(latest);
        // A TIMESTAMP without a zone is UTC on this platform (ingestion normalizes to UTC).
        const zoned = /[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) || !text.includes('T');
        ageMs = (check.now ?? new Date()).getTime() - Date.parse(zoned ? text : `${text}Z`);
        const limits = [check.warnAfterMs, check.errorAfterMs].filter((limit) => limit !== undefined);
        return { success: limits.every((limit) => ageMs! <= limit), observedValue: { latest: text, ageMs } };
      },
    },
    severity() {
      if (check.errorAfterMs === undefined) return 'warn';
      if (check.warnAfterMs === undefined) return 'error';
      return ageMs === undefined || ageMs > check.errorAfterMs ? 'error' : 'warn';
    },
  };
}
