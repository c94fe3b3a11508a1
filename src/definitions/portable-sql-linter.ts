import type { Diagnostic } from '../diagnostics/index.ts';
import { nonPortableConstructs } from '../sql/index.ts';
import type { ParsedCatalog } from './catalog-document-parser.ts';
import { isPostgresUrl } from './project-settings-loader.ts';
import { sqlPosition } from './projection-sql-linter.ts';

/**
 * With a PostgreSQL engine (`engine: postgres://…`), every projection's SQL must stay in the portable
 * subset (`nonPortableConstructs`, docs/engines.md): each construct outside it is a `non-portable-sql`
 * error at its place in the .sql file, or in the `sql` value; so must every role's row filters
 * (reported at the filter). With DuckDB there is nothing to check.
 * SQL that does not parse is reported once, as `sql-parse`, elsewhere.
 */
export async function lintPortableProjectionSql(
  catalog: ParsedCatalog,
  engine: string,
): Promise<Diagnostic[]> {
  if (!isPostgresUrl(engine)) return [];
  const diagnostics: Diagnostic[] = [];
  for (const { def: task, document } of catalog.tasks) {
    if (task.type !== 'projection' || task.sql === undefined) continue;
    for (const finding of await nonPortableConstructs(task.sql)) {
      diagnostics.push({
        code: 'non-portable-sql',
        severity: 'error',
        message: `task ${task.name}: ${finding.message}`,
        at: sqlPosition(task, document, finding.line, finding.column),
      });
    }
  }
  // Row filters run in the engine too, inside every governed query of the tables they filter.
  for (const { def: role, document } of catalog.roles) {
    for (const [pattern, predicate] of Object.entries(role.rowFilters)) {
      const findings = await nonPortableConstructs(`${FILTER_PREFIX}${predicate}`, {
        substituted: PRINCIPAL_FUNCTIONS,
      });
      for (const finding of findings) {
        // At the construct in the filter's text when the finding is on its first line.
        const offset = finding.line === 1 ? finding.column - 1 - FILTER_PREFIX.length : -1;
        const word = offset >= 0 ? /^[\w$]+/.exec(predicate.slice(offset))?.[0] : undefined;
        const inValue = word
          ? document.locateInValue(
              ['row_filters', pattern],
              new RegExp(`\\b${word.replace(/\$/g, '\\$')}\\b`),
            )
          : undefined;
        diagnostics.push({
          code: 'non-portable-sql',
          severity: 'error',
          message: `role ${role.name}: the row filter on ${pattern}: ${finding.message}`,
          at: inValue ?? document.locate(['row_filters', pattern]),
        });
      }
    }
  }
  return diagnostics;
}

/** A row filter checked as the query it becomes part of. */
const FILTER_PREFIX = 'SELECT * FROM row_filter_check WHERE ';

/** What a row filter may call that becomes a constant before it runs (governance/row-filter-compiler.ts). */
const PRINCIPAL_FUNCTIONS: ReadonlySet<string> = new Set(['principal_attr', 'principal_name']);
