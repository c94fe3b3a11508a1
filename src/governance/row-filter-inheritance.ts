import type { Definitions, SourceLocation } from '../model/index.ts';
import { deserializeSql, isAstNode, parseSingleStatement, type AstNode } from '../sql/index.ts';
import { matchesTablePattern } from './access-resolver.ts';
import { ProjectionLineage } from './projection-lineage.ts';

/**
 * How row filters follow rows into derived tables (SPEC §5: the protection follows the data), for
 * `resolveAccess`. Plain data, computed once per set of definitions by `inheritRowFilters`.
 */
export interface RowFilterLineage {
  /** Derived table (lowercased) → one entry per table its projection reads that filters can arrive from. */
  edges: Record<string, RowFilterEdge[]>;
  /** Filters that cannot follow the rows into a derived table on which no role declares a filter. */
  findings: RowFilterFinding[];
}

/** One upstream table of a derived table, and how the predicates that filter it carry over. */
export interface RowFilterEdge {
  /** The upstream table, `namespace.table` lowercased. */
  upstream: string;
  /**
   * Each predicate that can filter the upstream table (declared by a role, or itself inherited), as
   * text → the same predicate over the derived table's columns. A predicate reading a column the
   * derived table does not keep is absent: it cannot follow the rows.
   */
  predicates: Record<string, string>;
}

/** An upstream row filter that cannot follow the rows into a derived table (see `Plan.rowFiltersToReview`). */
export interface RowFilterFinding {
  /** The derived table, `namespace.table`. */
  table: string;
  /** Where the derived table is declared. */
  at?: SourceLocation;
  /** The filtered upstream table. */
  upstream: string;
  /** The upstream predicate, as declared (or as inherited by the upstream table). */
  filter: string;
  /** Upstream columns the predicate reads that the derived table does not keep as they are. */
  columns: string[];
}

/**
 * Row filters follow the rows (SPEC §5). For each projection target, and for each table its SQL
 * reads (directly; chains follow because a derived table's inherited predicates are carried in
 * turn), work out which of the upstream's row-filter predicates can be evaluated on the derived
 * rows: a predicate carries over when every column it reads is *kept* — an output column that is a
 * plain reference to it, possibly renamed (`state AS member_state`), through joins, CTEs, subqueries
 * and GROUP BY — and its column references are renamed to the derived names on the AST. A column
 * that is only transformed (`upper(state)`), aggregated or dropped is not kept: the predicate
 * cannot follow, and unless some role declares a row filter on the derived table, it is a finding
 * for review.
 *
 * Which principals inherit what, and how it combines with the derived table's own roles, is
 * `resolveAccess`'s business. Pure: parses SQL with the in-memory parser and reads nothing else.
 * `projectionLineage`, when given, is `ProjectionLineage.of(definitions)` computed once for several
 * reviews.
 */
export async function inheritRowFilters(
  definitions: Definitions,
  projectionLineage?: ProjectionLineage,
): Promise<RowFilterLineage> {
  const lineage = projectionLineage ?? (await ProjectionLineage.of(definitions));
  const declaredOn = (table: string): string[] =>
    unique(
      definitions.roles.flatMap((role) =>
        Object.entries(role.rowFilters)
          .filter(([pattern]) => matchesTablePattern(pattern, table))
          .map(([, filter]) => filter.trim())
          .filter((filter) => filter !== ''),
      ),
    );
  const edges: Record<string, RowFilterEdge[]> = {};
  const findings: RowFilterFinding[] = [];
  const arriving = new Map<string, string[]>();

  /** Every predicate that can filter `table`: declared on it by any role, or carried into it. */
  const predicatesOf = async (table: string, visiting: ReadonlySet<string>): Promise<string[]> => {
    const known = arriving.get(table);
    if (known) return known;
    if (visiting.has(table)) return declaredOn(table); // A cycle is a lint error; stop here.
    const carried: string[] = [];
    const tableEdges: RowFilterEdge[] = [];
    for (const upstream of lineage.upstreamsOf(table)) {
      const upstreamPredicates = await predicatesOf(upstream, new Set([...visiting, table]));
      if (upstreamPredicates.length === 0) continue;
      const kept = keptColumns(lineage, upstream, table);
      const edge: RowFilterEdge = { upstream, predicates: {} };
      for (const predicate of upstreamPredicates) {
        const mapped = await mapPredicate(predicate, kept, lineage.columnsOf(upstream));
        if (mapped.sql !== undefined) {
          // Predicates are user text: define, never assign (`__proto__` would be a setter).
          Object.defineProperty(edge.predicates, predicate, {
            value: mapped.sql,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          carried.push(mapped.sql);
        } else if (mapped.missing.length > 0 && declaredOn(table).length === 0) {
          const def = lineage.tableDef(table);
          findings.push({
            table,
            ...(def ? { at: def.at } : {}),
            upstream,
            filter: predicate,
            columns: mapped.missing,
          });
        }
      }
      tableEdges.push(edge);
    }
    if (tableEdges.length > 0) edges[table] = tableEdges;
    const result = unique([...declaredOn(table), ...carried]);
    arriving.set(table, result);
    return result;
  };

  for (const table of lineage.derivedTables()) await predicatesOf(table, new Set());
  findings.sort((a, b) =>
    compare(`${a.table} ${a.upstream} ${a.filter}`, `${b.table} ${b.upstream} ${b.filter}`),
  );
  return { edges, findings };
}

/**
 * Upstream column (lowercased) → the derived table's column that keeps it: an output that is a
 * plain reference (`direct`) whose every source in `upstream` is that one column. When the derived
 * table declares its schema, only declared fields are stored, so only they keep a column.
 */
function keptColumns(lineage: ProjectionLineage, upstream: string, table: string): Map<string, string> {
  const kept = new Map<string, string>();
  const declared = lineage.tableDef(table)?.schema?.fields;
  for (const output of lineage.outputsOf(table) ?? []) {
    if (!output.direct || output.name === '*') continue;
    const columns = new Set(
      output.sources
        .filter((source) => source.table === upstream)
        .map((source) => source.column.toLowerCase()),
    );
    if (columns.size !== 1) continue;
    const [column] = columns;
    if (column === '*') continue;
    const name = declared
      ? declared.find((field) => field.name.toLowerCase() === output.name.toLowerCase())?.name
      : output.name;
    if (name !== undefined && !kept.has(column!)) kept.set(column!, name);
  }
  return kept;
}

/**
 * Rename a predicate's column references on the AST to the derived table's names. References
 * inside a subquery may be the subquery's own columns: one named like an upstream column must be
 * kept under the same name, and is left as it is. Returns the missing columns when it cannot.
 */
async function mapPredicate(
  predicate: string,
  kept: ReadonlyMap<string, string>,
  upstreamColumns: string[] | undefined,
): Promise<{ sql?: string; missing: string[] }> {
  // A filter that does not parse is reported by `validate` (and refused by the guard): it carries
  // nothing and is not a finding of its own.
  let statement;
  try {
    statement = await parseSingleStatement(`SELECT 1 WHERE ${predicate}`);
  } catch {
    return { missing: [] };
  }
  const where = statement.node.where_clause;
  if (!isAstNode(where)) return { missing: [] };
  const upstream = new Set((upstreamColumns ?? []).map((column) => column.toLowerCase()));
  const missing = new Set<string>();
  const visit = (value: unknown, inSubquery: boolean, lambdaParameters: ReadonlySet<string>): void => {
    if (Array.isArray(value)) return value.forEach((item) => visit(item, inSubquery, lambdaParameters));
    if (!isAstNode(value)) return;
    if (value.class === 'COLUMN_REF') {
      const names = value.column_names as string[];
      const column = names[0]!.toLowerCase();
      if (names.length === 1 && lambdaParameters.has(column)) return;
      const target = kept.get(column);
      if (inSubquery) {
        if ((upstream.has(column) || upstreamColumns === undefined) && target?.toLowerCase() !== column) {
          missing.add(names[0]!);
        }
        return;
      }
      if (target === undefined) missing.add(names[0]!);
      else names[0] = target;
      return;
    }
    if (value.class === 'LAMBDA') {
      const parameters = new Set(lambdaParameters);
      collectNames(value.lhs, parameters);
      visit(value.expr, inSubquery, parameters);
      return;
    }
    const entersSubquery = inSubquery || value.class === 'SUBQUERY';
    for (const child of Object.values(value)) visit(child, entersSubquery, lambdaParameters);
  };
  visit(where, false, new Set());
  if (missing.size > 0) return { missing: [...missing] };
  const text = await deserializeSql(statement.document);
  return { sql: text.replace(/^SELECT 1 WHERE /, '').replace(/;$/, ''), missing: [] };
}

function collectNames(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((item) => collectNames(item, into));
  if (!isAstNode(value)) return;
  if (value.class === 'COLUMN_REF') into.add(String((value.column_names as string[])[0]).toLowerCase());
  for (const child of Object.values(value as AstNode)) collectNames(child, into);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
