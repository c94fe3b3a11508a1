import { asCount, countWhere } from './aggregate-scan.ts';
import * as rules from './argument-rules.ts';
import { boundsFrom, withinBounds } from './bounds.ts';
import { CheckCompileError } from './check-errors.ts';
import type {
  CheckEvaluation,
  CheckOutcome,
  CompileContext,
  ExpectationSpec,
  RelationColumn,
} from './expectation-spec.ts';

/**
 * Table-level expectations. Shape checks read the relation's columns (no scan at all); row counts
 * share the fused scan's `count(*)`.
 */

/** A check answered from the relation's columns alone. */
function fromColumns(evaluate: () => CheckOutcome): CheckEvaluation {
  return {
    plan() {},
    async finish() {
      return evaluate();
    },
  };
}

/** A check on the relation's row count (within `row_condition`), read from the fused scan. */
function fromRowCount(context: CompileContext, evaluate: (rows: number) => CheckOutcome): CheckEvaluation {
  let handle = -1;
  return {
    plan(scan) {
      handle = scan.add(countWhere(context.rowCondition));
    },
    async finish(read) {
      return evaluate(asCount(read(handle)));
    },
  };
}

const countBounds = {
  min_value: rules.countBound,
  max_value: rules.countBound,
  strict_min: rules.bool,
  strict_max: rules.bool,
};

const names = (columns: RelationColumn[]) => columns.map((column) => column.name);

/** The table-level expectations, by GE name. */
export const TABLE_EXPECTATIONS: ExpectationSpec[] = [
  {
    name: 'expect_table_row_count_to_be_between',
    family: 'table',
    args: countBounds,
    crossProblems: rules.boundsOrderProblems,
    compile: (args, context) =>
      fromRowCount(context, (rows) => ({
        success: withinBounds(rows, boundsFrom(args)),
        observedValue: rows,
      })),
  },
  {
    name: 'expect_table_row_count_to_equal',
    family: 'table',
    args: { value: rules.nonNegativeInteger },
    required: ['value'],
    compile: (args, context) =>
      fromRowCount(context, (rows) => ({ success: rows === args.value, observedValue: rows })),
  },
  {
    name: 'expect_table_row_count_to_equal_other_table',
    family: 'table',
    args: { other_table_name: rules.nonEmptyText },
    required: ['other_table_name'],
    compile(args, context) {
      let handle = -1;
      const other = args.other_table_name as string;
      return {
        plan(scan) {
          handle = scan.add(countWhere(context.rowCondition));
        },
        async finish(read, context) {
          const relation = context.resolveTable(other);
          if (relation === undefined)
            throw new CheckCompileError(`table \`${other}\` is not known to this validation run`);
          const result = await context.session.query(`SELECT count(*) AS n FROM ${relation}`);
          const counts = { self: asCount(read(handle)), other: asCount(result.rows[0]?.n) };
          return { success: counts.self === counts.other, observedValue: counts };
        },
      };
    },
  },
  {
    name: 'expect_table_column_count_to_equal',
    family: 'table',
    acceptsRowCondition: false,
    args: { value: rules.nonNegativeInteger },
    required: ['value'],
    compile: (args, context) =>
      fromColumns(() => ({
        success: context.columns.length === args.value,
        observedValue: context.columns.length,
      })),
  },
  {
    name: 'expect_table_column_count_to_be_between',
    family: 'table',
    acceptsRowCondition: false,
    args: countBounds,
    crossProblems: rules.boundsOrderProblems,
    compile: (args, context) =>
      fromColumns(() => ({
        success: withinBounds(context.columns.length, boundsFrom(args)),
        observedValue: context.columns.length,
      })),
  },
  {
    name: 'expect_table_columns_to_match_set',
    family: 'table',
    acceptsRowCondition: false,
    args: { column_set: rules.optionalTextList, exact_match: rules.bool },
    compile(args, context) {
      return fromColumns(() => {
        const actual = names(context.columns);
        const wanted = new Set((args.column_set as string[] | null | undefined) ?? []);
        const missing = [...wanted].filter((name) => !actual.includes(name));
        const unexpected = actual.filter((name) => !wanted.has(name));
        // GE: with exact_match false, a null set asks for nothing; extra columns are allowed.
        const exact = args.exact_match !== false;
        const success = exact
          ? missing.length === 0 && unexpected.length === 0
          : args.column_set == null || missing.length === 0;
        return {
          success,
          observedValue: actual,
          sample: [
            ...missing.map((name) => `missing: ${name}`),
            ...unexpected.map((name) => `unexpected: ${name}`),
          ],
        };
      });
    },
  },
  {
    name: 'expect_table_columns_to_match_ordered_list',
    family: 'table',
    acceptsRowCondition: false,
    args: { column_list: rules.optionalColumnNameList },
    compile(args, context) {
      return fromColumns(() => {
        const actual = names(context.columns);
        const wanted = args.column_list as string[] | null | undefined;
        const success =
          wanted == null ||
          (wanted.length === actual.length && wanted.every((name, index) => actual[index] === name));
        return { success, observedValue: actual };
      });
    },
  },
  {
    name: 'expect_column_to_exist',
    family: 'table',
    acceptsRowCondition: false,
    args: { column: rules.columnName, column_index: rules.optionalInteger },
    required: ['column'],
    compile(args, context) {
      return fromColumns(() => {
        const actual = names(context.columns);
        const index = actual.indexOf(args.column as string);
        const wantedIndex = args.column_index;
        const success =
          index >= 0 && (wantedIndex === null || wantedIndex === undefined || wantedIndex === index);
        return { success, observedValue: index >= 0 ? index : null };
      });
    },
  },
];
