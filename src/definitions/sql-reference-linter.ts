import type { Diagnostic } from '../diagnostics/index.ts';
import type { SourceLocation, TaskDef } from '../model/index.ts';
import type { ParsedCatalog } from './catalog-document-parser.ts';
import { didYouMean } from './name-suggester.ts';
import { analyzeSelect, prepareAnalyses } from './sql-reference-analyzer.ts';
import { matchesTableGlob } from './table-glob-matcher.ts';
import type { LocatableDocument } from './yaml-document.ts';

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
  await prepareAnalyses([
    ...catalog.tasks.flatMap(({ def: task }) =>
      task.type === 'projection' && task.sql !== undefined ? [task.sql] : [],
    ),
    ...catalog.roles.flatMap(({ def: role }) =>
      Object.values(role.rowFilters).map((predicate) => rowFilterQuery(predicate)),
    ),
  ]);

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

  const filterReads: FilterRead[] = [];
  for (const { def: role, document } of catalog.roles) {
    for (const [pattern, predicate] of Object.entries(role.rowFilters)) {
      const at = document.locate(['row_filters', pattern]);
      const analysis = await analyzeSelect(rowFilterQuery(predicate));
      if (analysis.error !== undefined || !analysis.tables.includes(FILTERED_TABLE)) {
        diagnostics.push({
          code: 'sql-parse',
          severity: 'error',
          message: `role ${role.name}: the row filter on ${pattern} is not a SQL predicate${analysis.error ? `: ${analysis.error}` : ''}`,
          at,
        });
        continue;
      }
      // A filter may read other catalog tables (as the same principal's rows): they must exist.
      for (const read of analysis.tables.filter((name) => name !== FILTERED_TABLE)) {
        if (isKnownTable(read)) {
          filterReads.push({ role: role.name, pattern, read, at });
          continue;
        }
        diagnostics.push({
          code: 'unknown-table',
          severity: 'error',
          message: `role ${role.name}: the row filter on ${pattern} reads \`${read}\`, which is not a declared table${unknownTableHint(read, tables)}`,
          at: document.locateInValue(['row_filters', pattern], tableNamePattern(read)) ?? at,
        });
      }
    }
  }
  diagnostics.push(...rowFilterCycles(filterReads, [...tables]));
  return { diagnostics, sqlTables };
}

/** The name a row filter is checked against: the filtered table, parsed as `FROM row_filter_check`. */
const FILTERED_TABLE = 'row_filter_check';

/** One table a role's row filter (on the tables `pattern` matches) reads. */
interface FilterRead {
  role: string;
  pattern: string;
  read: string;
  at: SourceLocation;
}

/**
 * Row filters that read each other (A's filter reads B, B's reads A; or A's reads A) cannot be
 * applied: a query reading those tables is refused. When one role's filters make the cycle, every
 * member of the role is refused: an error. When it takes several roles, only someone holding all
 * of them is: a warning.
 */
function rowFilterCycles(reads: FilterRead[], tables: string[]): Diagnostic[] {
  const edges = new Map<string, { to: string; read: FilterRead }[]>();
  for (const read of reads) {
    for (const table of tables.filter((name) => matchesTableGlob(read.pattern, name))) {
      const list = edges.get(table) ?? [];
      list.push({ to: read.read, read });
      edges.set(table, list);
    }
  }
  const diagnostics: Diagnostic[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (table: string): void => {
    state.set(table, 'open');
    path.push(table);
    for (const { to } of edges.get(table) ?? []) {
      if (state.get(to) === 'open') {
        const cycle = path.slice(path.indexOf(to));
        const key = [...cycle].sort().join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          diagnostics.push(cycleDiagnostic([...cycle, to], edges));
        }
      } else if (!state.has(to)) {
        visit(to);
      }
    }
    path.pop();
    state.set(table, 'done');
  };
  for (const table of [...edges.keys()].sort()) if (!state.has(table)) visit(table);
  return diagnostics;
}

function cycleDiagnostic(
  cycle: string[],
  edges: Map<string, { to: string; read: FilterRead }[]>,
): Diagnostic {
  const steps = cycle
    .slice(1)
    .map((to, index) =>
      (edges.get(cycle[index]!) ?? []).filter((edge) => edge.to === to).map((edge) => edge.read),
    );
  const oneRole = steps
    .map((step) => new Set(step.map((read) => read.role)))
    .reduce((common, roles) => new Set([...common].filter((role) => roles.has(role))));
  const roles =
    oneRole.size > 0 ? [[...oneRole].sort()[0]!] : [...new Set(steps.flat().map((read) => read.role))];
  const first = steps[0]!.find((read) => read.role === roles[0]) ?? steps[0]![0]!;
  return {
    code: 'row-filter-cycle',
    severity: oneRole.size > 0 ? 'error' : 'warning',
    message:
      oneRole.size > 0
        ? `role ${roles[0]}: row filters read each other in a cycle (${cycle.join(' → ')}), so reading these tables is refused for every member; remove one of these reads`
        : `roles ${roles.join(', ')}: row filters read each other in a cycle (${cycle.join(' → ')}), so reading these tables is refused for anyone holding all of these roles; remove one of these reads`,
    at: first.at,
  };
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

function sqlLocation(task: TaskDef, document: LocatableDocument, pattern?: RegExp): SourceLocation {
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

/** The query a row filter is checked as: the predicate over a table no catalog declares. */
function rowFilterQuery(predicate: string): string {
  return `SELECT * FROM ${FILTERED_TABLE} WHERE ${predicate}`;
}
