import type { Diagnostic } from '../diagnostics/index.ts';
import type { SourceLocation, TaskDef } from '../model/index.ts';
import { boundColumnsOf, ProjectionBinder, type BindOutcome, type BoundColumn } from '../sql/index.ts';
import type { ParsedCatalog, Sourced } from './catalog-document-parser.ts';
import { didYouMean } from './name-suggester.ts';
import type { LocatableDocument } from './yaml-document.ts';

/** Bind outcomes kept between runs, keyed by the SQL and the schemas of the tables it reads. */
export interface BindOutcomeCache {
  boundProjection(key: string): BindOutcome | undefined;
  rememberBoundProjection(key: string, outcome: BindOutcome): void;
}

/**
 * Binds every projection's SQL against empty tables of what it reads: the declared schemas of its
 * upstream tables, and the columns inferred for upstream projections without one, bound first (in
 * dependency order). Unknown columns (`unknown-column`, with did-you-mean from the upstream
 * columns), unknown functions (`unknown-function`), argument types no function takes (`sql-type`)
 * and anything else the binder refuses (`sql-bind`) point into the .sql file at DuckDB's position.
 * Projections whose SQL does not parse, or that read a table whose columns are unknown (a broken
 * upstream), are not bound: their problem is reported once, where it is.
 */
export async function lintProjectionSql(
  catalog: ParsedCatalog,
  sqlTables: ReadonlyMap<string, string[]>,
  cache?: BindOutcomeCache,
): Promise<Diagnostic[]> {
  const columns = new Map<string, BoundColumn[]>();
  const inferred = new Set<string>();
  for (const { def: table } of catalog.tables) {
    if (table.schema) columns.set(table.name, boundColumnsOf(table.schema.fields));
    else inferred.add(table.name);
  }
  let pending = catalog.tasks.filter(
    ({ def: task }) =>
      task.type === 'projection' &&
      task.sql !== undefined &&
      sqlTables.has(task.name) &&
      !TIME_TRAVEL.test(task.sql),
  );
  const diagnostics: Diagnostic[] = [];
  let binder: ProjectionBinder | undefined;
  try {
    for (;;) {
      const ready = pending.filter(({ def: task }) =>
        sqlTables.get(task.name)!.every((name) => columns.has(name)),
      );
      if (ready.length === 0) break;
      const bindingNow = new Set(ready);
      pending = pending.filter((task) => !bindingNow.has(task));
      const outcomes = new Map<Sourced<TaskDef>, BindOutcome>();
      const misses: { task: Sourced<TaskDef>; key: string }[] = [];
      for (const task of ready) {
        const reads = sqlTables.get(task.def.name)!;
        const key = JSON.stringify([task.def.sql, reads.map((name) => [name, columns.get(name)])]);
        const cached = cache?.boundProjection(key);
        if (cached) outcomes.set(task, cached);
        else misses.push({ task, key });
      }
      if (misses.length > 0) {
        binder ??= await ProjectionBinder.open();
        const reads = new Set(misses.flatMap(({ task }) => sqlTables.get(task.def.name)!));
        const refused = await binder.defineTables([...reads].map((name) => [name, columns.get(name)!]));
        // What reads a table DuckDB will not create (in a namespace it reserves) is left to the run.
        const bindable = misses.filter(
          ({ task }) => !sqlTables.get(task.def.name)!.some((name) => refused.has(name)),
        );
        const bound = await binder.bindAll(bindable.map(({ task }) => task.def.sql!));
        bindable.forEach(({ task, key }, index) => {
          cache?.rememberBoundProjection(key, bound[index]!);
          outcomes.set(task, bound[index]!);
        });
      }
      for (const [{ def: task, document }, outcome] of outcomes) {
        if ('columns' in outcome) {
          if (inferred.has(task.target)) columns.set(task.target, outcome.columns);
          continue;
        }
        const reads = sqlTables.get(task.name)!;
        const diagnostic = bindDiagnostic(task, document, outcome.failure, reads, columns);
        if (diagnostic) diagnostics.push(diagnostic);
      }
    }
  } finally {
    binder?.close();
  }
  return diagnostics;
}

/** `AT (VERSION => n)` reads a version the binder has no schema of: such SQL is not bound. */
const TIME_TRAVEL = /\bAT\s*\(\s*(VERSION|TIMESTAMP)\s*=>/i;

function bindDiagnostic(
  task: TaskDef,
  document: LocatableDocument,
  failure: { message: string; line?: number; column?: number },
  reads: string[],
  columns: ReadonlyMap<string, BoundColumn[]>,
): Diagnostic | undefined {
  const text = failure.message;
  // Table functions reading files are refused here (external access is off): not a mistake.
  if (/^Permission Error/.test(text)) return undefined;
  const at = sqlPosition(task, document, failure.line, failure.column);
  const column =
    /Referenced column "([^"]+)" not found/.exec(text)?.[1] ??
    /does not have a column named "([^"]+)"/.exec(text)?.[1];
  if (column !== undefined) {
    const upstream = reads.flatMap((name) => (columns.get(name) ?? []).map((known) => known.name));
    const of = reads.length === 1 ? reads[0]! : `any table it reads (${reads.join(', ')})`;
    return {
      code: 'unknown-column',
      severity: 'error',
      message: `task ${task.name}: column \`${column}\` is not a column of ${of}${didYouMean(column, upstream)}`,
      at,
    };
  }
  const unknownFunction = /(?:Scalar|Aggregate|Table) Function with name "?([^"\s!]+)"? does not exist/.exec(
    text,
  );
  if (unknownFunction) {
    const suggestion = /Did you mean "([^"]+)"/.exec(text)?.[1];
    return {
      code: 'unknown-function',
      severity: 'error',
      message: `task ${task.name}: \`${unknownFunction[1]}\` is not a function${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`,
      at,
    };
  }
  const noMatch = /No function matches the given name and argument types '([^']+)'/.exec(text);
  if (noMatch) {
    const candidates = [...text.matchAll(/^\t(\S.*?) -> /gm)].map((match) => match[1]!);
    // An operator such as `+` has dozens of forms: listing them helps nobody.
    const takes =
      candidates.length === 0 || candidates.length > 3 ? '' : `; it takes ${candidates.join(', ')}`;
    return {
      code: 'sql-type',
      severity: 'error',
      message: `task ${task.name}: no function matches the argument types of \`${noMatch[1]}\`${takes}; cast the arguments, e.g. CAST(x AS VARCHAR)`,
      at,
    };
  }
  return {
    code: 'sql-bind',
    severity: 'error',
    message: `task ${task.name}: ${text.split('\n')[0]!.replace(/^(\w+) Error: /, (_, kind: string) => `${kind.toLowerCase()} error: `)}`,
    at,
  };
}

/** A position in a projection's SQL as a place in the repo: in its .sql file, or in the `sql` value. */
export function sqlPosition(
  task: TaskDef,
  document: LocatableDocument,
  line: number | undefined,
  column: number | undefined,
): SourceLocation {
  if (task.sqlFile !== undefined) return { file: task.sqlFile, line: line ?? 1, column: column ?? 1 };
  const sql = task.sql ?? '';
  if (line === undefined || column === undefined) return document.locate(['sql']);
  const lineText = sql.split(/\r?\n/)[line - 1] ?? '';
  // The word at the position, found in the YAML value (which may be folded or quoted).
  const word = /^[\w."]+/.exec(lineText.slice(column - 1))?.[0];
  const before = lineText.slice(0, column - 1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = word
    ? new RegExp(`(?<=${before.trimStart()})${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)
    : undefined;
  return (pattern && document.locateInValue(['sql'], pattern)) || document.locate(['sql']);
}
