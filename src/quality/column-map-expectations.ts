import { duckdbDialect } from '../engines/dialect.ts';
import { quoteIdentifier, quoteLiteral } from '../engines/engine.ts';
import { allOf, asCount, countWhere, filtered } from './aggregate-scan.ts';
import * as rules from './argument-rules.ts';
import { CheckCompileError } from './check-errors.ts';
import { isNumericFamily, stringExpression, typeFamily, typeNameMatches } from './column-types.ts';
import type { CheckEvaluation, CompileContext, ExpectationSpec, RelationColumn } from './expectation-spec.ts';
import { mapCounts, mostlyHolds, rowExpectation, sampleRows } from './row-expectation.ts';
import { literalForColumn } from './sql-literals.ts';
import { uniqueness } from './uniqueness.ts';

/**
 * Per-value ("map") expectations on one column. As in GE, missing values are ignored — except by
 * the null expectations — and `mostly` is the share of the remaining values that must pass. Each
 * compiles to a pass predicate counted in the fused scan.
 */

const id = (column: RelationColumn) => quoteIdentifier(column.name);
const nonNull = (column: RelationColumn) => `${id(column)} IS NOT NULL`;
const valueSample = (column: RelationColumn) => [{ name: column.name, sql: id(column) }];

/** A map expectation over the non-null values of `column`; `shown` formats sampled values. */
function valuesPassing(
  column: RelationColumn,
  passes: string,
  context: CompileContext,
  shown = id(column),
): CheckEvaluation {
  return rowExpectation({
    domain: nonNull(column),
    nonNullColumn: id(column),
    passes,
    rowCondition: context.rowCondition,
    mostly: context.mostly,
    sample: [{ name: column.name, sql: shown }],
  });
}

/**
 * The column as compared with bounds or sets, and how to write a bound for it. Strings parsed as
 * datetimes (GE's `parse_strings_as_datetimes`) compare as timestamps; text compared with numbers
 * is refused unless `allow_cross_type_comparisons`, then it is read as a number.
 */
function comparison(column: RelationColumn, args: Record<string, unknown>, argument: string) {
  const family = typeFamily(column.type);
  if (args.parse_strings_as_datetimes === true && family === 'string') {
    return {
      value: `TRY_CAST(${id(column)} AS TIMESTAMP)`,
      literal: (bound: unknown) => `CAST(${quoteLiteral(String(bound))} AS TIMESTAMP)`,
    };
  }
  const crossType = args.allow_cross_type_comparisons === true;
  return {
    value: crossType && family === 'string' ? `TRY_CAST(${id(column)} AS DOUBLE)` : id(column),
    literal: (bound: unknown) => {
      if (crossType && family === 'string' && typeof bound === 'number') return String(bound);
      // GE: "Column values, min_value, and max_value must either be None or of the same type."
      const sameKind =
        (isNumericFamily(family) && (typeof bound === 'number' || crossType)) ||
        (family === 'string' && typeof bound === 'string') ||
        (family === 'temporal' && typeof bound === 'string') ||
        (family === 'boolean' && typeof bound === 'boolean') ||
        family === 'other';
      if (!sameKind) {
        throw new CheckCompileError(
          `\`${argument}\` ${JSON.stringify(bound)} cannot be compared with column \`${column.name}\` of type ${column.type}; column values and bounds must be of the same type`,
        );
      }
      return literalForColumn(bound, column, argument);
    },
  };
}

/** `value >= min AND value <= max` with GE's strictness flags; a null bound is open. */
function betweenPredicate(
  value: string,
  args: Record<string, unknown>,
  literal: (bound: unknown) => string,
): string {
  const parts: string[] = [];
  if (args.min_value !== null && args.min_value !== undefined) {
    parts.push(`${value} ${args.strict_min === true ? '>' : '>='} ${literal(args.min_value)}`);
  }
  if (args.max_value !== null && args.max_value !== undefined) {
    parts.push(`${value} ${args.strict_max === true ? '<' : '<='} ${literal(args.max_value)}`);
  }
  return allOf(...parts);
}

/**
 * The non-null members of a `value_set` as literals for the column. Membership is tested with the
 * dialect's `inSet`.
 */
function setLiterals(
  column: RelationColumn,
  args: Record<string, unknown>,
): { value: string; literals: string[] } {
  const compare = comparison(column, args, 'value_set');
  const members = (args.value_set as unknown[]).filter((member) => member !== null && member !== undefined);
  const literals = members.map((member) =>
    args.parse_strings_as_datetimes === true && typeFamily(column.type) === 'string'
      ? compare.literal(member)
      : literalForColumn(member, column, 'value_set'),
  );
  return { value: compare.value, literals };
}

/**
 * The null expectations consider every row. They need only `count(*)` and `count(x)`, the
 * cheapest aggregates there are (Parquet metadata alone answers them), instead of a predicate
 * evaluated per row.
 */
function nullness(
  column: RelationColumn,
  wanted: 'null' | 'not null',
  context: CompileContext,
): CheckEvaluation {
  let elements = -1;
  let nonNullValues = -1;
  const unexpectedRows = allOf(
    context.rowCondition,
    wanted === 'null' ? nonNull(column) : `${id(column)} IS NULL`,
  );
  return {
    plan(scan) {
      elements = scan.add(countWhere(context.rowCondition));
      nonNullValues = scan.add(filtered(`count(${id(column)})`, context.rowCondition));
    },
    async finish(read, followUp) {
      const elementCount = asCount(read(elements));
      const nonNullCount = asCount(read(nonNullValues));
      const unexpectedCount = wanted === 'null' ? nonNullCount : elementCount - nonNullCount;
      return {
        success: mostlyHolds(elementCount, unexpectedCount, context.mostly),
        // The null expectations consider every row: nothing is missing to them.
        ...mapCounts(elementCount, elementCount, unexpectedCount),
        sample: unexpectedCount > 0 ? await sampleRows(followUp, valueSample(column), unexpectedRows) : [],
      };
    },
  };
}

/** GE's increasing/decreasing: each value against the previous non-null value, in relation order. */
function monotonic(
  column: RelationColumn,
  args: Record<string, unknown>,
  context: CompileContext,
  direction: 'increasing' | 'decreasing',
): CheckEvaluation {
  const value =
    args.parse_strings_as_datetimes === true && typeFamily(column.type) === 'string'
      ? `TRY_CAST(${id(column)} AS TIMESTAMP)`
      : id(column);
  const strictly = args.strictly === true;
  const bad = direction === 'increasing' ? (strictly ? '<=' : '<') : strictly ? '>=' : '>';
  const unexpected = `v IS NOT NULL AND previous IS NOT NULL AND v ${bad} previous`;
  return {
    plan() {},
    async finish(_read, followUp) {
      // `lag(… IGNORE NULLS) OVER ()` follows the scan order, which DuckDB preserves for tables
      // and Parquet files (preserve_insertion_order); the row condition applies before it.
      const ordered = `(SELECT ${value} AS v, lag(${value} IGNORE NULLS) OVER () AS previous FROM ${followUp.relation} WHERE ${context.rowCondition}) AS ordered`;
      const counts = await followUp.session.query(
        `SELECT count(*) AS elements, count(v) AS considered, ${countWhere(unexpected)} AS unexpected FROM ${ordered}`,
      );
      const row = counts.rows[0] ?? {};
      const considered = asCount(row.considered);
      const unexpectedCount = asCount(row.unexpected);
      return {
        success: mostlyHolds(considered, unexpectedCount, context.mostly),
        ...mapCounts(asCount(row.elements), considered, unexpectedCount),
        sample:
          unexpectedCount > 0
            ? await sampleRows(followUp, [{ name: column.name, sql: 'v' }], unexpected, ordered)
            : [],
      };
    },
  };
}

/** Values of `column` absent from a column of another table (a foreign-key check). */
function presentInOtherTable(
  column: RelationColumn,
  args: Record<string, unknown>,
  context: CompileContext,
): CheckEvaluation {
  const otherTable = args.other_table_name as string;
  const otherColumn = quoteIdentifier((args.other_column_name as string | undefined) ?? column.name);
  let elements = -1;
  let considered = -1;
  return {
    plan(scan) {
      elements = scan.add(countWhere(context.rowCondition));
      considered = scan.add(filtered(`count(${id(column)})`, context.rowCondition));
    },
    async finish(read, followUp) {
      const other = followUp.resolveTable(otherTable);
      if (other === undefined)
        throw new CheckCompileError(`table \`${otherTable}\` is not known to this validation run`);
      const from = `${followUp.relation} AS __tessera_row`;
      const missing = allOf(
        context.rowCondition,
        nonNull(column),
        `NOT EXISTS (SELECT 1 FROM ${other} AS __tessera_other WHERE __tessera_other.${otherColumn} = __tessera_row.${id(column)})`,
      );
      const result = await followUp.session.query(`SELECT count(*) AS n FROM ${from} WHERE ${missing}`);
      const consideredCount = asCount(read(considered));
      const unexpectedCount = asCount(result.rows[0]?.n);
      return {
        success: mostlyHolds(consideredCount, unexpectedCount, context.mostly),
        ...mapCounts(asCount(read(elements)), consideredCount, unexpectedCount),
        sample: unexpectedCount > 0 ? await sampleRows(followUp, valueSample(column), missing, from) : [],
      };
    },
  };
}

/** Answered from the column's type alone (GE's SQL backends give these aggregate semantics). */
function typeCheck(column: RelationColumn, matches: boolean): CheckEvaluation {
  return {
    plan() {},
    async finish() {
      return { success: matches, observedValue: column.type };
    },
  };
}

/**
 * GE's z-scores: (x − mean) / sample standard deviation, both over the considered values; a value
 * passes when its z-score is below `threshold`, or its absolute value below |threshold| when
 * `double_sided`. The fused scan gives the mean and the deviation; counting the values beyond
 * them takes one more query. A column without a deviation (fewer than two values, or all equal)
 * has no z-scores: each of its values is unexpected, as in GE's pandas reference.
 */
function zScores(
  column: RelationColumn,
  args: Record<string, unknown>,
  context: CompileContext,
): CheckEvaluation {
  if (!isNumericFamily(typeFamily(column.type))) {
    throw new CheckCompileError(
      `expect_column_value_z_scores_to_be_less_than needs a numeric column, but \`${column.name}\` is ${column.type}`,
    );
  }
  const threshold = args.threshold as number;
  let elements = -1;
  let considered = -1;
  let mean = -1;
  let deviation = -1;
  return {
    plan(scan) {
      elements = scan.add(countWhere(context.rowCondition));
      considered = scan.add(filtered(`count(${id(column)})`, context.rowCondition));
      mean = scan.add(filtered(`avg(${id(column)})`, context.rowCondition));
      deviation = scan.add(filtered(`stddev_samp(${id(column)})`, context.rowCondition));
    },
    async finish(read, followUp) {
      const consideredCount = asCount(read(considered));
      const [average, spread] = [read(mean), read(deviation)].map((value) =>
        value === null || value === undefined ? Number.NaN : Number(value),
      ) as [number, number];
      const z = `(CAST(${id(column)} AS DOUBLE) - ${average}) / ${spread}`;
      const passes =
        Number.isFinite(average) && Number.isFinite(spread) && spread > 0
          ? args.double_sided === true
            ? `abs(${z}) < ${Math.abs(threshold)}`
            : `${z} < ${threshold}`
          : 'FALSE';
      const unexpected = allOf(context.rowCondition, nonNull(column), `(${passes}) IS NOT TRUE`);
      const counted = await followUp.session.query(
        `SELECT ${countWhere(unexpected)} AS n FROM ${followUp.relation}`,
      );
      const unexpectedCount = asCount(counted.rows[0]?.n);
      return {
        success: mostlyHolds(consideredCount, unexpectedCount, context.mostly),
        ...mapCounts(asCount(read(elements)), consideredCount, unexpectedCount),
        sample: unexpectedCount > 0 ? await sampleRows(followUp, valueSample(column), unexpected) : [],
      };
    },
  };
}

const column = { column: rules.columnName };
const bounds = {
  min_value: rules.comparable,
  max_value: rules.comparable,
  strict_min: rules.bool,
  strict_max: rules.bool,
};

/** Shared shape of the single-column map expectations. */
function mapSpec(
  name: string,
  args: ExpectationSpec['args'],
  compile: ExpectationSpec['compile'],
  extra: Partial<ExpectationSpec> = {},
): ExpectationSpec {
  return {
    family: 'column-map',
    columnArgs: ['column'],
    acceptsMostly: true,
    ...extra,
    name,
    args: { ...column, ...args },
    required: ['column', ...(extra.required ?? [])],
    compile,
  };
}

const target = (args: Record<string, unknown>, context: CompileContext) =>
  context.column(args.column as string);

/** The single-column per-value expectations, by GE name. */
export const COLUMN_MAP_EXPECTATIONS: ExpectationSpec[] = [
  mapSpec('expect_column_values_to_not_be_null', {}, (args, context) =>
    nullness(target(args, context), 'not null', context),
  ),
  mapSpec('expect_column_values_to_be_null', {}, (args, context) =>
    nullness(target(args, context), 'null', context),
  ),
  mapSpec('expect_column_values_to_be_unique', {}, (args, context) => {
    const subject = target(args, context);
    return uniqueness({
      columns: [subject],
      domain: nonNull(subject),
      nonNullColumn: id(subject),
      rowCondition: context.rowCondition,
      mostly: context.mostly,
    });
  }),
  mapSpec(
    'expect_column_values_to_be_in_set',
    { value_set: rules.valueSet, parse_strings_as_datetimes: rules.bool },
    (args, context) => {
      const subject = target(args, context);
      const { value, literals } = setLiterals(subject, args);
      return valuesPassing(subject, duckdbDialect.inSet(value, literals), context);
    },
    { required: ['value_set'] },
  ),
  mapSpec(
    'expect_column_values_to_not_be_in_set',
    { value_set: rules.valueSet, parse_strings_as_datetimes: rules.bool },
    (args, context) => {
      const subject = target(args, context);
      const { value, literals } = setLiterals(subject, args);
      return valuesPassing(
        subject,
        literals.length > 0 ? `NOT ${duckdbDialect.inSet(value, literals)}` : 'TRUE',
        context,
      );
    },
    { required: ['value_set'] },
  ),
  mapSpec(
    'expect_column_values_to_be_between',
    {
      ...bounds,
      parse_strings_as_datetimes: rules.bool,
      allow_cross_type_comparisons: rules.bool,
      output_strftime_format: rules.text,
    },
    (args, context) => {
      const subject = target(args, context);
      const compare = comparison(subject, args, 'min_value/max_value');
      const temporal = typeFamily(subject.type) === 'temporal' || args.parse_strings_as_datetimes === true;
      const format = args.output_strftime_format;
      // GE's output_strftime_format: how unexpected dates are shown.
      const shown =
        temporal && typeof format === 'string'
          ? `strftime(${compare.value}, ${quoteLiteral(format)})`
          : undefined;
      return valuesPassing(subject, betweenPredicate(compare.value, args, compare.literal), context, shown);
    },
    { crossProblems: (args) => [...rules.someBoundProblems(args), ...rules.boundsOrderProblems(args)] },
  ),
  mapSpec(
    'expect_column_value_lengths_to_be_between',
    {
      min_value: rules.countBound,
      max_value: rules.countBound,
      strict_min: rules.bool,
      strict_max: rules.bool,
    },
    (args, context) => {
      const subject = target(args, context);
      const length = `length(${stringExpression(subject, 'expect_column_value_lengths_to_be_between')})`;
      // No min ≤ max rule here: GE evaluates such a range and reports every value as unexpected.
      return valuesPassing(subject, betweenPredicate(length, args, String), context);
    },
    { crossProblems: rules.someBoundProblems },
  ),
  mapSpec(
    'expect_column_value_lengths_to_equal',
    { value: rules.nonNegativeInteger },
    (args, context) => {
      const subject = target(args, context);
      const length = `length(${stringExpression(subject, 'expect_column_value_lengths_to_equal')})`;
      return valuesPassing(subject, `${length} = ${args.value as number}`, context);
    },
    { required: ['value'] },
  ),
  mapSpec(
    'expect_column_values_to_be_of_type',
    { type_: rules.nonEmptyText },
    (args, context) => {
      const subject = target(args, context);
      return typeCheck(subject, typeNameMatches(args.type_ as string, subject.type));
    },
    { required: ['type_'], acceptsMostly: false },
  ),
  mapSpec(
    'expect_column_values_to_be_in_type_list',
    { type_list: rules.optionalTextList },
    (args, context) => {
      const subject = target(args, context);
      const types = args.type_list as string[] | null | undefined;
      // GE: a null list is a placeholder that expects nothing.
      return typeCheck(subject, types == null || types.some((type) => typeNameMatches(type, subject.type)));
    },
    { acceptsMostly: false },
  ),
  mapSpec(
    'expect_column_values_to_be_increasing',
    { strictly: rules.bool, parse_strings_as_datetimes: rules.bool },
    (args, context) => monotonic(target(args, context), args, context, 'increasing'),
  ),
  mapSpec(
    'expect_column_values_to_be_decreasing',
    { strictly: rules.bool, parse_strings_as_datetimes: rules.bool },
    (args, context) => monotonic(target(args, context), args, context, 'decreasing'),
  ),
  mapSpec(
    'expect_column_value_z_scores_to_be_less_than',
    { threshold: rules.number, double_sided: rules.bool },
    (args, context) => zScores(target(args, context), args, context),
    // GE requires both (its pydantic fields have no default).
    { required: ['threshold', 'double_sided'] },
  ),
  mapSpec(
    'expect_column_values_to_be_present_in_other_table',
    { other_table_name: rules.nonEmptyText, other_column_name: rules.columnName },
    (args, context) => presentInOtherTable(target(args, context), args, context),
    { required: ['other_table_name'] },
  ),
];
