import type { Diagnostic } from '../diagnostics/index.ts';
import type { SourceLocation, TaskDef } from '../model/index.ts';
import type { ParsedCatalog } from './catalog-document-parser.ts';
import { didYouMean } from './name-suggester.ts';
import { analyzeSelect } from './sql-reference-analyzer.ts';
import type { YamlDocument } from './yaml-document.ts';

/**
 * Parses every projection's SQL and every row filter with DuckDB's parser: SQL that does not
 * parse is `sql-parse`, a table it reads that is not declared is `unknown-table`, pointing into
 * the .sql file (or the inline `sql` value) where the name is written.
 * Returns the tables each projection reads, by task name, for the task graph.
 */
export async function lintSqlReferences(
  catalog: ParsedCatalog,
): Promise<{ diagnostics: Diagnostic[]; sqlTables: Map<string, string[]> }> {
  const diagnostics: Diagnostic[] = [];
  const sqlTables = new Map<string, string[]>();
  const tables = new Set(catalog.tables.map((table) => table.def.name));
  const isKnownTable = (name: string) => tables.has(name) || catalog.brokenNames.table.has(name);

  for (const { def: task, document } of catalog.tasks) {
    if (task.type !== 'projection' || task.sql === undefined) continue;
    const analysis = await analyzeSelect(task.sql);
    if (analysis.error !== undefined) {
      const near = /at or near "([^"]+)"/.exec(analysis.error)?.[1];
      diagnostics.push({
        code: 'sql-parse',
        severity: 'error',
        message: `task ${task.name}: SQL does not parse: ${analysis.error}`,
        at: sqlLocation(task, document, near ? new RegExp(escape(near), 'i') : undefined),
      });
      continue;
    }
    sqlTables.set(task.name, analysis.tables);
    for (const table of analysis.tables) {
      if (isKnownTable(table)) continue;
      diagnostics.push({
        code: 'unknown-table',
        severity: 'error',
        message: `task ${task.name}: SQL reads \`${table}\`, which is not a declared table${unknownTableHint(table, tables)}`,
        at: sqlLocation(task, document, tableNamePattern(table)),
      });
    }
  }

  for (const { def: role, document } of catalog.roles) {
    for (const [table, predicate] of Object.entries(role.rowFilters)) {
      const analysis = await analyzeSelect(`SELECT * FROM row_filter_check WHERE ${predicate}`);
      if (analysis.error === undefined && analysis.tables.length === 1) continue;
      diagnostics.push({
        code: 'sql-parse',
        severity: 'error',
        message: `role ${role.name}: the row filter on ${table} is not a SQL predicate${analysis.error ? `: ${analysis.error}` : ' (it reads other tables)'}`,
        at: document.locate(['row_filters', table]),
      });
    }
  }
  return { diagnostics, sqlTables };
}

function unknownTableHint(table: string, tables: ReadonlySet<string>): string {
  if (/[/\\]|\.(csv|parquet|json|ndjson|txt)$/i.test(table)) {
    return '; projections read catalog tables only, never files (ingest the file with an ingestion task)';
  }
  if (!table.includes('.')) {
    return `${didYouMean(table, tables)}; catalog tables are referenced as namespace.name (e.g. clinical.patients)`;
  }
  return didYouMean(table, tables);
}

/** The name as SQL may write it: any case, optionally double-quoted parts, spaces around the dot. */
function tableNamePattern(table: string): RegExp {
  const parts = table.split('.').map((part) => `"?${escape(part)}"?`);
  return new RegExp(`(?<![\\w."])${parts.join('\\s*\\.\\s*')}(?![\\w"])`, 'i');
}

function sqlLocation(task: TaskDef, document: YamlDocument, pattern?: RegExp): SourceLocation {
  if (task.sqlFile !== undefined) {
    const text = task.sql ?? '';
    const offset = pattern ? text.search(pattern) : -1;
    if (offset < 0) return { file: task.sqlFile, line: 1, column: 1 };
    const before = text.slice(0, offset).split('\n');
    return { file: task.sqlFile, line: before.length, column: before[before.length - 1]!.length + 1 };
  }
  return (pattern && document.locateInValue(['sql'], pattern)) || document.locate(['sql']);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
