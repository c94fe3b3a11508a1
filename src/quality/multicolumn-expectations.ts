import { quoteIdentifier } from '../engines/engine.ts';
import * as rules from './argument-rules.ts';
import { CheckCompileError } from './check-errors.ts';
import { isNumericFamily, typeFamily } from './column-types.ts';
import type { CheckEvaluation, CompileContext, ExpectationSpec, RelationColumn } from './expectation-spec.ts';
import { rowExpectation } from './row-expectation.ts';
import { literalForColumn } from './sql-literals.ts';
import { uniqueness } from './uniqueness.ts';

/**
 * Expectations over several columns of a row. `ignore_row_if` decides which rows count, in GE's
 * words for pairs (`both_values_are_missing`, `either_value_is_missing`, `neither`) and for lists
 * (`all_values_are_missing`, `any_value_is_missing`, `never`); either vocabulary is accepted.
 */

const IGNORE_ROW_IF = [
  'all_values_are_missing',
  'any_value_is_missing',
  'never',
  'both_values_are_missing',
  'either_value_is_missing',
  'neither',
];

const id = (column: RelationColumn) => quoteIdentifier(column.name);

/** The rows considered, given `ignore_row_if` (default: skip rows where every value is missing). */
function consideredRows(columns: RelationColumn[], ignoreRowIf: unknown): string {
  const missing = columns.map((column) => `${id(column)} IS NULL`);
  switch (ignoreRowIf ?? 'all_values_are_missing') {
    case 'any_value_is_missing':
    case 'either_value_is_missing':
      return `NOT (${missing.join(' OR ')})`;
    case 'never':
    case 'neither':
      return 'TRUE';
    default:
      return `NOT (${missing.join(' AND ')})`;
  }
}

function rowsPassing(
  columns: RelationColumn[],
  args: Record<string, unknown>,
  context: CompileContext,
  passes: string,
  pair = false,
): CheckEvaluation {
  return rowExpectation({
    domain: consideredRows(columns, args.ignore_row_if),
    passes,
    rowCondition: context.rowCondition,
    mostly: context.mostly,
    sample: columns.map((column) => ({ name: column.name, sql: id(column) })),
    // GE lists a pair's unexpected values as [a, b]; rows over a column list as objects.
    sampleTuples: pair,
  });
}

const listColumns = (args: Record<string, unknown>, context: CompileContext) =>
  (args.column_list as string[]).map((name) => context.column(name));
const pairColumns = (args: Record<string, unknown>, context: CompileContext) => [
  context.column(args.column_A as string),
  context.column(args.column_B as string),
];

/** The two columns as comparable expressions (GE's `parse_strings_as_datetimes`, `allow_cross_type_comparisons`). */
function comparablePair(columns: RelationColumn[], args: Record<string, unknown>): [string, string] {
  const families = columns.map((column) => typeFamily(column.type));
  const expressions = columns.map((column, index) =>
    args.parse_strings_as_datetimes === true && families[index] === 'string'
      ? `TRY_CAST(${id(column)} AS TIMESTAMP)`
      : id(column),
  );
  const numeric = families.map(isNumericFamily);
  if (args.parse_strings_as_datetimes !== true && numeric[0] !== numeric[1]) {
    if (args.allow_cross_type_comparisons !== true) {
      throw new CheckCompileError(
        `columns \`${columns[0]!.name}\` (${columns[0]!.type}) and \`${columns[1]!.name}\` (${columns[1]!.type}) cannot be compared; set allow_cross_type_comparisons to compare them as numbers`,
      );
    }
    return expressions.map((expression, index) =>
      numeric[index] ? expression : `TRY_CAST(${expression} AS DOUBLE)`,
    ) as [string, string];
  }
  return expressions as [string, string];
}

const pairArgs = {
  column_A: rules.columnName,
  column_B: rules.columnName,
  ignore_row_if: rules.oneOf(...IGNORE_ROW_IF),
};
const listArgs = { column_list: rules.columnNameList, ignore_row_if: rules.oneOf(...IGNORE_ROW_IF) };

function multiSpec(
  name: string,
  args: ExpectationSpec['args'],
  required: string[],
  compile: ExpectationSpec['compile'],
): ExpectationSpec {
  return {
    name,
    family: 'multicolumn',
    args,
    required,
    columnArgs: ['column_A', 'column_B', 'column_list'].filter((arg) => arg in args),
    acceptsMostly: true,
    compile,
  };
}

/** The multi-column expectations, by GE name. */
export const MULTICOLUMN_EXPECTATIONS: ExpectationSpec[] = [
  multiSpec('expect_compound_columns_to_be_unique', listArgs, ['column_list'], (args, context) => {
    const columns = listColumns(args, context);
    return uniqueness({
      columns,
      domain: consideredRows(columns, args.ignore_row_if),
      rowCondition: context.rowCondition,
      mostly: context.mostly,
    });
  }),
  multiSpec(
    'expect_column_pair_values_a_to_be_greater_than_b',
    {
      ...pairArgs,
      or_equal: rules.bool,
      parse_strings_as_datetimes: rules.bool,
      allow_cross_type_comparisons: rules.bool,
    },
    ['column_A', 'column_B'],
    (args, context) => {
      const columns = pairColumns(args, context);
      const [a, b] = comparablePair(columns, args);
      return rowsPassing(
        columns,
        { ignore_row_if: 'both_values_are_missing', ...args },
        context,
        `${a} ${args.or_equal === true ? '>=' : '>'} ${b}`,
        true,
      );
    },
  ),
  multiSpec('expect_column_pair_values_to_be_equal', pairArgs, ['column_A', 'column_B'], (args, context) => {
    const columns = pairColumns(args, context);
    const [a, b] = comparablePair(columns, args);
    return rowsPassing(
      columns,
      { ignore_row_if: 'both_values_are_missing', ...args },
      context,
      `${a} = ${b}`,
      true,
    );
  }),
  multiSpec(
    'expect_column_pair_values_to_be_in_set',
    {
      ...pairArgs,
      value_pairs_set: (value) =>
        Array.isArray(value) && value.every((pair) => Array.isArray(pair) && pair.length === 2)
          ? undefined
          : 'must be a list of [a, b] pairs',
    },
    ['column_A', 'column_B', 'value_pairs_set'],
    (args, context) => {
      const columns = pairColumns(args, context);
      const pairs = (args.value_pairs_set as unknown[][]).map(
        ([a, b]) =>
          `(${id(columns[0]!)} = ${literalForColumn(a, columns[0]!, 'value_pairs_set')} AND ${id(columns[1]!)} = ${literalForColumn(b, columns[1]!, 'value_pairs_set')})`,
      );
      return rowsPassing(
        columns,
        { ignore_row_if: 'both_values_are_missing', ...args },
        context,
        pairs.length > 0 ? pairs.join(' OR ') : 'FALSE',
        true,
      );
    },
  ),
  multiSpec(
    'expect_multicolumn_sum_to_equal',
    { ...listArgs, sum_total: rules.number },
    ['column_list', 'sum_total'],
    (args, context) => {
      const columns = listColumns(args, context);
      for (const column of columns) {
        if (!isNumericFamily(typeFamily(column.type))) {
          throw new CheckCompileError(
            `expect_multicolumn_sum_to_equal needs numeric columns, but \`${column.name}\` is ${column.type}`,
          );
        }
      }
      // A missing value makes the sum unknown, hence unexpected, unless ignore_row_if skips the row.
      return rowsPassing(
        columns,
        args,
        context,
        `${columns.map(id).join(' + ')} = ${args.sum_total as number}`,
      );
    },
  ),
  multiSpec(
    'expect_select_column_values_to_be_unique_within_record',
    listArgs,
    ['column_list'],
    (args, context) => {
      const columns = listColumns(args, context);
      const equalPairs: string[] = [];
      for (let left = 0; left < columns.length; left++) {
        for (let right = left + 1; right < columns.length; right++) {
          // Two missing values count as equal, as pandas' nunique(dropna=False) in GE does.
          equalPairs.push(`${id(columns[left]!)} IS NOT DISTINCT FROM ${id(columns[right]!)}`);
        }
      }
      return rowsPassing(
        columns,
        args,
        context,
        equalPairs.length > 0 ? `NOT (${equalPairs.join(' OR ')})` : 'TRUE',
      );
    },
  ),
];
