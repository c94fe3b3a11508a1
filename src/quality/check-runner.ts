import type { EngineSession } from '../engines/engine.ts';
import type { CheckResult, ValidationDef } from '../model/index.ts';
import { AggregateScan, readerFor, type AggregateReader } from './aggregate-scan.ts';
import { compileValidation } from './check-compiler.ts';
import { errorMessage } from './check-errors.ts';
import type { CheckEvaluation, CheckOutcome, FollowUpContext, RelationColumn } from './expectation-spec.ts';
import {
  compileFreshness,
  freshnessArgs,
  type CompiledFreshness,
  type FreshnessCheck,
} from './freshness-check.ts';

/** Options of `runChecks`. */
export interface RunChecksOptions {
  /**
   * Most unexpected values (or rows, for `sql` checks) a result carries. Default 20, GE's
   * `partial_unexpected_list`.
   */
  sampleSize?: number;
  /**
   * Relation SQL for another table named by a check (`other_table_name`, `{{ ref('ns.t') }}`);
   * undefined when unknown, which fails that check only.
   */
  resolveTable?: (name: string) => string | undefined;
  /** Also judge how recent the newest row is; adds a `freshness` result after the others. */
  freshness?: FreshnessCheck;
  /** The clock `now()` in GE's `$PARAMETER` expressions reads (UTC). Default: the system clock. */
  now?: () => Date;
}

/** How many unexpected values a result shows by default: GE's `partial_unexpected_count`. */
export const DEFAULT_SAMPLE_SIZE = 20;

interface PendingCheck {
  expectation: string;
  args: Record<string, unknown>;
  severity: CheckResult['severity'];
  evaluation?: CheckEvaluation;
  /** Values read from the check's own scan, when the fused one failed. */
  reader?: AggregateReader;
  outcome?: CheckOutcome;
}

/**
 * Run checks against a relation (SQL usable after FROM: a table name, `read_parquet([...])`, …).
 * Fused: every map and aggregate expectation lands in one aggregate SELECT; integer keys of
 * uniqueness checks take a min/max pre-pass (Parquet answers it from metadata); follow-up queries
 * run only for checks that need them (duplicates found, a sample of unexpected values, order, other
 * tables, custom SQL). One result per validation, in order; a check that cannot be evaluated is a
 * failed result with `error`.
 */
export async function runChecks(
  session: EngineSession,
  relation: string,
  validations: ValidationDef[],
  options: RunChecksOptions = {},
): Promise<CheckResult[]> {
  const context: FollowUpContext = {
    session,
    relation,
    sampleSize: options.sampleSize ?? DEFAULT_SAMPLE_SIZE,
    resolveTable: options.resolveTable ?? (() => undefined),
  };
  const checks: PendingCheck[] = validations.map((validation) => ({
    expectation: validation.expectation,
    args: validation.args ?? {},
    severity: validation.severity,
  }));
  let compiledFreshness: CompiledFreshness | undefined;
  if (options.freshness) {
    checks.push({ expectation: 'freshness', args: freshnessArgs(options.freshness), severity: 'error' });
  }

  let columns: RelationColumn[];
  try {
    columns = (await session.query(`SELECT * FROM ${relation} LIMIT 0`)).columns;
  } catch (error) {
    for (const check of checks) {
      check.outcome = failure(`cannot read the data under validation: ${errorMessage(error)}`);
    }
    return checks.map(toResult);
  }

  const now = options.now?.() ?? new Date();
  validations.forEach((validation, index) => {
    try {
      checks[index]!.evaluation = compileValidation(validation, columns, now);
    } catch (error) {
      checks[index]!.outcome = failure(errorMessage(error));
    }
  });
  if (options.freshness) {
    const check = checks[checks.length - 1]!;
    try {
      compiledFreshness = compileFreshness(options.freshness, columns);
      check.evaluation = compiledFreshness.evaluation;
    } catch (error) {
      check.outcome = failure(errorMessage(error));
    }
  }

  const runnable = () => checks.filter((check) => check.evaluation && !check.outcome);
  const prepassValues = await runPrepass(session, relation, runnable());
  await runFusedScan(session, relation, runnable(), prepassValues);

  for (const check of runnable()) {
    try {
      check.outcome = await check.evaluation!.finish(check.reader!, context);
    } catch (error) {
      check.outcome = failure(errorMessage(error));
    }
  }
  if (options.freshness) checks[checks.length - 1]!.severity = compiledFreshness?.severity() ?? 'error';
  return checks.map(toResult);
}

/** Statistics that let checks choose cheaper aggregates; if they cannot be read, checks do without. */
async function runPrepass(
  session: EngineSession,
  relation: string,
  checks: PendingCheck[],
): Promise<AggregateReader | undefined> {
  const prepass = new AggregateScan();
  for (const check of checks) check.evaluation!.prepare?.(prepass);
  if (prepass.isEmpty) return undefined;
  try {
    return readerFor((await session.query(prepass.toSql(relation))).rows[0]);
  } catch {
    return undefined;
  }
}

/**
 * One SELECT for every check's aggregates. If it fails (a bad regex, a row condition that does not
 * parse), each check runs its own aggregates so the failure stays with the check that caused it.
 */
async function runFusedScan(
  session: EngineSession,
  relation: string,
  checks: PendingCheck[],
  prepass: AggregateReader | undefined,
): Promise<void> {
  const scan = new AggregateScan();
  for (const check of checks) {
    try {
      check.evaluation!.plan(scan, prepass);
    } catch (error) {
      check.outcome = failure(errorMessage(error));
    }
  }
  const planned = checks.filter((check) => !check.outcome);
  if (scan.isEmpty) {
    for (const check of planned) check.reader = readerFor(undefined);
    return;
  }
  try {
    const reader = readerFor((await session.query(scan.toSql(relation))).rows[0]);
    for (const check of planned) check.reader = reader;
    return;
  } catch {
    // Isolate the failure below.
  }
  for (const check of planned) {
    const own = new AggregateScan();
    check.evaluation!.plan(own, prepass);
    try {
      check.reader = readerFor(own.isEmpty ? undefined : (await session.query(own.toSql(relation))).rows[0]);
    } catch (error) {
      check.outcome = failure(errorMessage(error));
    }
  }
}

function failure(message: string): CheckOutcome {
  return { success: false, error: message };
}

function toResult(check: PendingCheck): CheckResult {
  const outcome = check.outcome ?? failure('the check was not evaluated');
  return { expectation: check.expectation, args: check.args, severity: check.severity, ...outcome };
}
