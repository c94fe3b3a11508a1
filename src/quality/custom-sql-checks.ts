import * as rules from './argument-rules.ts';
import type { CheckEvaluation, ExpectationSpec } from './expectation-spec.ts';
import { normalizedRows } from './result-values.ts';
import { expandQueryTemplate, sqlFragmentProblem } from './sql-text.ts';

/**
 * Custom checks: a query whose rows are the failures. `sql:` uses `{{ this }}` for the relation
 * and `{{ ref('ns.table') }}` for other tables; GE's `unexpected_rows_expectation` uses `{batch}`.
 * One evaluation of the query gives both the count and the sample.
 */

const TOTAL = '__tessera_unexpected_total';

function unexpectedRowsQuery(template: string): CheckEvaluation {
  return {
    plan() {},
    async finish(_read, context) {
      const query = expandQueryTemplate(template, context.relation, context.resolveTable);
      const limit = Math.max(context.sampleSize, 1);
      const result = await context.session.query(
        `SELECT *, count(*) OVER () AS ${TOTAL} FROM (${query}) AS unexpected_rows LIMIT ${limit}`,
      );
      const rows = normalizedRows(result);
      const count = Number(rows[0]?.[TOTAL] ?? 0);
      const sample = rows.slice(0, context.sampleSize).map((row) => {
        const { [TOTAL]: _total, ...columns } = row;
        return columns;
      });
      return {
        success: count === 0,
        observedValue: `${count} unexpected ${count === 1 ? 'row' : 'rows'}`,
        unexpectedCount: count,
        sample,
      };
    },
  };
}

const queryText = (value: unknown) =>
  rules.nonEmptyText(value) ?? sqlFragmentProblem(value as string, 'query');

/** `sql` and GE's `unexpected_rows_expectation`. */
export const CUSTOM_SQL_CHECKS: ExpectationSpec[] = [
  {
    name: 'sql',
    family: 'custom',
    acceptsRowCondition: false,
    args: { sql: queryText, description: rules.text },
    required: ['sql'],
    compile: (args) => unexpectedRowsQuery(args.sql as string),
  },
  {
    name: 'unexpected_rows_expectation',
    family: 'custom',
    acceptsRowCondition: false,
    args: { unexpected_rows_query: queryText, description: rules.text },
    required: ['unexpected_rows_query'],
    compile: (args) => unexpectedRowsQuery(args.unexpected_rows_query as string),
  },
];
