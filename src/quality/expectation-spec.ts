import type { CheckResult } from '../model/index.ts';
import type { EngineSession } from '../engines/engine.ts';
import type { AggregateScan, AggregateReader } from './aggregate-scan.ts';

/** A column of the relation under validation, as the engine describes it. */
export interface RelationColumn {
  name: string;
  /** Engine type name, e.g. `VARCHAR`, `BIGINT`, `TIMESTAMP WITH TIME ZONE`. */
  type: string;
}

/** What a family computes; the runner adds `expectation`, `args` and `severity`. */
export type CheckOutcome = Omit<CheckResult, 'expectation' | 'args' | 'severity'>;

/** Returns a problem (`must be …`, completing "`name` …") or undefined when the value is fine. */
export type ArgumentRule = (value: unknown) => string | undefined;

/** What a compiled check may use at run time beyond the fused scan. */
export interface FollowUpContext {
  session: EngineSession;
  /** The relation as SQL usable after FROM. */
  relation: string;
  /** Most unexpected values (or rows) a result carries. */
  sampleSize: number;
  /** Relation SQL for another catalog table, or undefined when unknown. */
  resolveTable(name: string): string | undefined;
}

/**
 * One validation, compiled against the relation's columns. Stateful for one run: `plan` records
 * where its aggregates sit in the scan and `finish` reads them back.
 */
export interface CheckEvaluation {
  /**
   * Ask for cheap statistics before the scan (min/max of integer keys, answered from Parquet
   * metadata) that let `plan` pick a cheaper aggregate. Optional.
   */
  prepare?(prepass: AggregateScan): void;
  /** Register the aggregates this check reads from the one fused scan (possibly none). */
  plan(scan: AggregateScan, prepass: AggregateReader | undefined): void;
  /** Build the outcome from the fused values; may run follow-up queries (samples, exact counts). */
  finish(scan: AggregateReader, context: FollowUpContext): Promise<CheckOutcome>;
}

/** What `compile` may read: the relation's columns and the validation's shared arguments. */
export interface CompileContext {
  columns: RelationColumn[];
  /** The named column; throws `CheckCompileError` naming the known columns when it is absent. */
  column(name: string): RelationColumn;
  /** The validation's `row_condition` as a SQL predicate, `TRUE` when there is none. */
  rowCondition: string;
  /** `mostly` (default 1): the fraction of considered values that must pass. */
  mostly: number;
}

/** The family an expectation belongs to; decides which common arguments it accepts. */
export type ExpectationFamily = 'table' | 'column-map' | 'column-aggregate' | 'multicolumn' | 'custom';

/** One supported expectation: its arguments in GE's vocabulary and how it compiles to SQL. */
export interface ExpectationSpec {
  name: string;
  family: ExpectationFamily;
  /** Accepted arguments besides the common ones (`row_condition`, `mostly`, `result_format`, …). */
  args: Record<string, ArgumentRule>;
  /** Arguments that must be present (and not null). */
  required?: string[];
  /** Arguments naming columns, checked against the relation's columns when they are known. */
  columnArgs?: string[];
  /**
   * The observed value is made of the column's own values (a minimum, the distinct values, the
   * most common value…), not a count, a proportion or a type: shown masked when the column is
   * sensitive.
   */
  observesValues?: boolean;
  /** Whether `mostly` applies (map-style expectations). */
  acceptsMostly?: boolean;
  /** Whether `row_condition` applies; default true except for custom SQL and schema-only checks. */
  acceptsRowCondition?: boolean;
  /** Problems spanning several arguments (min above max, neither bound given, …). */
  crossProblems?(args: Record<string, unknown>): string[];
  /** Compile against the relation; throws `CheckCompileError` when it cannot be evaluated. */
  compile(args: Record<string, unknown>, context: CompileContext): CheckEvaluation;
}
