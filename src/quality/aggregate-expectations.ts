import { duckdbDialect } from '../engines/dialect.ts';
import { quoteIdentifier, quoteLiteral } from '../engines/engine.ts';
import { allOf, asCount, countWhere, filtered } from './aggregate-scan.ts';
import type { AggregateReader } from './aggregate-scan.ts';
import * as rules from './argument-rules.ts';
import { boundsFrom, withinBounds } from './bounds.ts';
import { CheckCompileError } from './check-errors.ts';
import { isNumericFamily, typeFamily } from './column-types.ts';
import type {
  ArgumentRule,
  CheckEvaluation,
  CheckOutcome,
  CompileContext,
  ExpectationSpec,
  RelationColumn,
} from './expectation-spec.ts';
import { normalizedRows, normalizeValue } from './result-values.ts';
import { percent } from './row-expectation.ts';
import { literalForColumn } from './sql-literals.ts';

/**
 * Column aggregate expectations: one statistic per column (min, mean, distinct values, quantiles…)
 * computed in the fused scan and compared with GE's bounds. Only the most common value needs its
 * own GROUP BY, because ties matter.
 */

const id = (column: RelationColumn) => quoteIdentifier(column.name);

/** A statistic read from the fused scan, judged by `judge`. */
function statistic(
  aggregate: string,
  judge: (observed: unknown, read: AggregateReader, handles: number[]) => CheckOutcome,
  extra: string[] = [],
): CheckEvaluation {
  let handles: number[] = [];
  return {
    plan(scan) {
      handles = [aggregate, ...extra].map((expression) => scan.add(expression));
    },
    async finish(read) {
      return judge(read(handles[0]!), read, handles);
    },
  };
}

function numericColumn(column: RelationColumn, expectation: string): string {
  if (!isNumericFamily(typeFamily(column.type))) {
    throw new CheckCompileError(
      `${expectation} needs a numeric column, but \`${column.name}\` is ${column.type}`,
    );
  }
  return id(column);
}

/**
 * GE refuses `expect_column_min_to_be_between` and `expect_column_sum_to_be_between` with neither
 * bound ("min_value and max_value cannot both be None"); the other statistics pass vacuously.
 */
const needsABound = (args: Record<string, unknown>) => [
  ...rules.boundsOrderProblems(args),
  ...rules.someBoundProblems(args),
];

/** mean, median, sum, stdev: numeric statistics compared in JS. */
function numericStatistic(
  name: string,
  aggregate: (value: string) => string,
  crossProblems?: ExpectationSpec['crossProblems'],
): ExpectationSpec {
  return aggregateSpec(
    name,
    numberBounds,
    (args, context) => {
      const column = context.column(args.column as string);
      const sql = filtered(aggregate(numericColumn(column, name)), context.rowCondition);
      return statistic(sql, (observed) => {
        const value = observed === null || observed === undefined ? null : Number(observed);
        return { success: withinBounds(value, boundsFrom(args)), observedValue: value };
      });
    },
    [],
    crossProblems,
  );
}

/**
 * min and max keep the column's type, so their bounds are compared in SQL (dates against dates);
 * `parse_strings_as_datetimes` reads text as timestamps, `output_strftime_format` formats the
 * observed value.
 */
function extremeStatistic(
  name: string,
  fn: 'min' | 'max',
  crossProblems?: ExpectationSpec['crossProblems'],
): ExpectationSpec {
  return aggregateSpec(
    name,
    { ...comparableBounds, parse_strings_as_datetimes: rules.bool, output_strftime_format: rules.text },
    (args, context) => {
      const column = context.column(args.column as string);
      const parse = args.parse_strings_as_datetimes === true && typeFamily(column.type) === 'string';
      const value = parse ? `TRY_CAST(${id(column)} AS TIMESTAMP)` : id(column);
      const literal = (bound: unknown) =>
        parse
          ? `CAST(${quoteLiteral(String(bound))} AS TIMESTAMP)`
          : literalForColumn(bound, column, 'min_value/max_value');
      const observed = filtered(`${fn}(${value})`, context.rowCondition);
      const bounds = boundsFrom(args);
      const tests: string[] = [];
      if (bounds.min !== null && bounds.min !== undefined)
        tests.push(`${observed} ${bounds.strictMin ? '>' : '>='} ${literal(bounds.min)}`);
      if (bounds.max !== null && bounds.max !== undefined)
        tests.push(`${observed} ${bounds.strictMax ? '<' : '<='} ${literal(bounds.max)}`);
      const format = args.output_strftime_format;
      const shown = typeof format === 'string' ? `strftime(${observed}, ${quoteLiteral(format)})` : observed;
      return statistic(
        shown,
        (observedValue, read, handles) => ({
          success: read(handles[1]!) === true,
          observedValue:
            typeof observedValue === 'string' && typeof format !== 'string'
              ? normalizeValue(observedValue, parse ? 'TIMESTAMP' : column.type)
              : observedValue,
        }),
        [`coalesce(${allOf(...tests)}, FALSE)`],
      );
    },
    [],
    crossProblems,
  );
}

/** A `value_set` member as written and as a SQL literal for the column. */
interface SetMember {
  value: unknown;
  literal: string;
}

/** The set's members for the column, nulls dropped (GE ignores missing values), duplicates merged. */
function members(column: RelationColumn, args: Record<string, unknown>, parse: boolean): SetMember[] {
  const byLiteral = new Map<string, SetMember>();
  for (const value of (args.value_set as unknown[] | null | undefined) ?? []) {
    if (value === null || value === undefined) continue;
    const literal = parse
      ? `CAST(${quoteLiteral(String(value))} AS TIMESTAMP)`
      : literalForColumn(value, column, 'value_set');
    if (!byLiteral.has(literal)) byLiteral.set(literal, { value, literal });
  }
  return [...byLiteral.values()];
}

const inSet = (value: string, set: SetMember[]) =>
  duckdbDialect.inSet(
    value,
    set.map((member) => member.literal),
  );

/**
 * distinct values in / containing / equal to a set. The observed value is the sorted list of
 * distinct values (GE's); membership is decided in SQL so values compare with the column's type.
 * The sample lists the distinct values outside the set, then the members missing from the data.
 */
function distinctValues(name: string, mode: 'in' | 'contain' | 'equal'): ExpectationSpec {
  return aggregateSpec(
    name,
    {
      value_set: mode === 'in' ? rules.optionalValueSet : rules.valueSet,
      parse_strings_as_datetimes: rules.bool,
    },
    (args, context) => {
      const column = context.column(args.column as string);
      const parse = args.parse_strings_as_datetimes === true && typeFamily(column.type) === 'string';
      const value = parse ? `TRY_CAST(${id(column)} AS TIMESTAMP)` : id(column);
      const set = members(column, args, parse);
      // GE: a missing set is a placeholder that accepts any values.
      const placeholder = mode === 'in' && (args.value_set === null || args.value_set === undefined);
      const outside = set.length > 0 ? `NOT ${inSet(value, set)}` : 'TRUE';
      const presence = set.map(
        (member) =>
          `coalesce(${filtered(`bool_or(${value} = ${member.literal})`, context.rowCondition)}, FALSE)`,
      );
      const listType = `${parse ? 'TIMESTAMP' : column.type}[]`;
      const distinct = (...predicates: string[]) =>
        filtered(`list(DISTINCT ${value})`, context.rowCondition, `${value} IS NOT NULL`, ...predicates);
      return statistic(
        `list_sort(${distinct()})`,
        (observed, read, handles) => {
          const unexpected =
            mode === 'contain'
              ? []
              : ((normalizeValue(read(handles[1]!), listType) as unknown[] | null) ?? []);
          const missing =
            mode === 'in' ? [] : set.filter((_member, index) => read(handles[2 + index]!) !== true);
          const success = (placeholder || unexpected.length === 0) && missing.length === 0;
          return {
            success,
            observedValue: normalizeValue(observed, listType) ?? [],
            sample: [...unexpected, ...missing.map((member) => member.value)],
          };
        },
        [distinct(outside), ...presence],
      );
    },
  );
}

/** GE: the mode(s) must be in the set; with `ties_okay`, one tied mode in the set is enough. */
function mostCommonValue(
  column: RelationColumn,
  args: Record<string, unknown>,
  context: CompileContext,
): CheckEvaluation {
  const set = members(column, args, false);
  const where = allOf(context.rowCondition, `${id(column)} IS NOT NULL`);
  return {
    plan() {},
    async finish(_read, followUp) {
      const inSetSql = inSet('v', set);
      const result = await followUp.session.query(
        `WITH frequencies AS (SELECT ${id(column)} AS v, count(*) AS n FROM ${followUp.relation} WHERE ${where} GROUP BY 1)
         SELECT v, ${inSetSql} AS in_set FROM frequencies WHERE n = (SELECT max(n) FROM frequencies) ORDER BY v`,
      );
      const modes = normalizedRows(result);
      const hits = modes.filter((row) => row.in_set === true).length;
      const success = args.ties_okay === true ? hits > 0 : modes.length === 1 && hits === 1;
      return {
        success,
        observedValue: modes.map((row) => row.v),
        sample: modes.filter((row) => row.in_set !== true).map((row) => row.v),
      };
    },
  };
}

interface QuantileRanges {
  quantiles: number[];
  value_ranges: [number | null, number | null][];
}

const quantileRanges: ArgumentRule = (value) => {
  const ranges = value as Partial<QuantileRanges> | null;
  const ok =
    typeof ranges === 'object' &&
    ranges !== null &&
    Array.isArray(ranges.quantiles) &&
    ranges.quantiles.every((quantile) => typeof quantile === 'number' && quantile >= 0 && quantile <= 1) &&
    Array.isArray(ranges.value_ranges) &&
    ranges.value_ranges.length === ranges.quantiles.length &&
    ranges.value_ranges.every((range) => Array.isArray(range) && range.length === 2);
  if (!ok)
    return 'must be `{ quantiles: [q…], value_ranges: [[min, max]…] }` with one range per quantile, quantiles between 0 and 1';
  // GE: "quantile_ranges must consist of ordered pairs" (an open end orders with anything).
  const disordered = ranges.value_ranges!.findIndex(
    ([min, max]) => min !== null && max !== null && typeof min === typeof max && min > max,
  );
  return disordered < 0
    ? undefined
    : `must hold ordered [min, max] pairs, but range ${disordered + 1} is ${JSON.stringify(ranges.value_ranges![disordered])}`;
};

/** Quantiles as PostgreSQL's percentile_disc (GE's SQL backends): actual values, no interpolation. */
function quantiles(
  column: RelationColumn,
  args: Record<string, unknown>,
  context: CompileContext,
): CheckEvaluation {
  const ranges = args.quantile_ranges as QuantileRanges;
  const list = `[${ranges.quantiles.join(', ')}]`;
  return statistic(filtered(`quantile_disc(${id(column)}, ${list})`, context.rowCondition), (observed) => {
    const values = (normalizeValue(observed, `${column.type}[]`) as unknown[] | null) ?? [];
    const success =
      values.length === ranges.quantiles.length &&
      ranges.value_ranges.every(([min, max], index) => withinBounds(values[index], { min, max }));
    return { success, observedValue: { quantiles: ranges.quantiles, values } };
  });
}

const numberBounds = {
  min_value: rules.optionalNumber,
  max_value: rules.optionalNumber,
  strict_min: rules.bool,
  strict_max: rules.bool,
};
const comparableBounds = { ...numberBounds, min_value: rules.comparable, max_value: rules.comparable };

/**
 * GE's column aggregate results carry, beside the observed value, the rows looked at
 * (`element_count`, within the row condition) and those whose value is missing
 * (`missing_count`, `missing_percent`): two counts the fused scan shares with other checks.
 */
function withCounts(
  evaluation: CheckEvaluation,
  column: RelationColumn,
  rowCondition: string,
): CheckEvaluation {
  let elements = -1;
  let present = -1;
  return {
    plan(scan, prepass) {
      elements = scan.add(countWhere(rowCondition));
      present = scan.add(filtered(`count(${id(column)})`, rowCondition));
      evaluation.plan(scan, prepass);
    },
    async finish(read, context) {
      const outcome = await evaluation.finish(read, context);
      const elementCount = asCount(read(elements));
      const missingCount = elementCount - asCount(read(present));
      return {
        ...outcome,
        elementCount,
        missingCount,
        missingPercent: percent(missingCount, elementCount),
      };
    },
  };
}

function aggregateSpec(
  name: string,
  args: ExpectationSpec['args'],
  compile: ExpectationSpec['compile'],
  required: string[] = [],
  crossProblems: ExpectationSpec['crossProblems'] = rules.boundsOrderProblems,
): ExpectationSpec {
  return {
    name,
    family: 'column-aggregate',
    args: { column: rules.columnName, ...args },
    required: ['column', ...required],
    columnArgs: ['column'],
    crossProblems,
    compile: (args, context) =>
      withCounts(compile(args, context), context.column(args.column as string), context.rowCondition),
  };
}

/** Aggregate expectations whose observed value is made of the column's own values. */
const VALUE_OBSERVING = new Set([
  'expect_column_min_to_be_between',
  'expect_column_max_to_be_between',
  'expect_column_median_to_be_between',
  'expect_column_quantile_values_to_be_between',
  'expect_column_distinct_values_to_be_in_set',
  'expect_column_distinct_values_to_contain_set',
  'expect_column_distinct_values_to_equal_set',
  'expect_column_most_common_value_to_be_in_set',
]);

/** The column aggregate expectations, by GE name. */
export const AGGREGATE_EXPECTATIONS: ExpectationSpec[] = [
  extremeStatistic('expect_column_min_to_be_between', 'min', needsABound),
  extremeStatistic('expect_column_max_to_be_between', 'max'),
  numericStatistic('expect_column_mean_to_be_between', (value) => `avg(${value})`),
  numericStatistic('expect_column_median_to_be_between', (value) => `median(${value})`),
  numericStatistic('expect_column_sum_to_be_between', (value) => `sum(${value})`, needsABound),
  numericStatistic('expect_column_stdev_to_be_between', (value) => `stddev_samp(${value})`),
  aggregateSpec('expect_column_unique_value_count_to_be_between', numberBounds, (args, context) => {
    const column = context.column(args.column as string);
    return statistic(filtered(`count(DISTINCT ${id(column)})`, context.rowCondition), (observed) => {
      const count = asCount(observed);
      return { success: withinBounds(count, boundsFrom(args)), observedValue: count };
    });
  }),
  aggregateSpec('expect_column_proportion_of_unique_values_to_be_between', numberBounds, (args, context) => {
    const column = context.column(args.column as string);
    return statistic(
      filtered(`count(DISTINCT ${id(column)})`, context.rowCondition),
      (observed, read, handles) => {
        const nonNull = asCount(read(handles[1]!));
        const proportion = nonNull === 0 ? null : asCount(observed) / nonNull;
        return { success: withinBounds(proportion, boundsFrom(args)), observedValue: proportion };
      },
      [filtered(`count(${id(column)})`, context.rowCondition)],
    );
  }),
  distinctValues('expect_column_distinct_values_to_be_in_set', 'in'),
  distinctValues('expect_column_distinct_values_to_contain_set', 'contain'),
  distinctValues('expect_column_distinct_values_to_equal_set', 'equal'),
  aggregateSpec(
    'expect_column_most_common_value_to_be_in_set',
    { value_set: rules.valueSet, ties_okay: rules.bool },
    (args, context) => mostCommonValue(context.column(args.column as string), args, context),
    ['value_set'],
  ),
  aggregateSpec(
    'expect_column_quantile_values_to_be_between',
    { quantile_ranges: quantileRanges, allow_relative_error: rules.anyValue },
    (args, context) => quantiles(context.column(args.column as string), args, context),
    ['quantile_ranges'],
  ),
].map((spec) => (VALUE_OBSERVING.has(spec.name) ? { ...spec, observesValues: true } : spec));
