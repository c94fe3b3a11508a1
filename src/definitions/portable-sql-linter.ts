import type { Diagnostic } from '../diagnostics/index.ts';
import { nonPortableConstructs } from '../sql/index.ts';
import type { ParsedCatalog } from './catalog-document-parser.ts';
import { isPostgresUrl } from './project-settings-loader.ts';
import { sqlPosition } from './projection-sql-linter.ts';

/**
 * With a PostgreSQL engine (`engine: postgres://…`), every projection's SQL must stay in the portable
 * subset (`nonPortableConstructs`, docs/engines.md): each construct outside it is a `non-portable-sql`
 * error at its place in the .sql file, or in the `sql` value. With DuckDB there is nothing to check.
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
  return diagnostics;
}
