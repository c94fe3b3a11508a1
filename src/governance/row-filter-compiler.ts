import { QueryError } from '../diagnostics/errors.ts';
import {
  cloneAst,
  isAstNode,
  parseSingleStatement,
  replaceNodeInPlace,
  rewriteTableReferencesInAst,
  stringConstantNode,
  visitBaseTables,
  type AstNode,
} from '../sql/index.ts';
import type { AccessPrincipal } from './access-resolver.ts';

/**
 * The relation a row filter reads for a catalog table it names (`namespace.table`, lowercased): a
 * query node over the rows the same principal may read, with its column names, or undefined when
 * the principal may not read the table (no grant, or no such table): the predicate then lets no
 * row through.
 */
export type RowFilterTableReader = (
  table: string,
) => Promise<{ node: AstNode; columns: readonly string[] } | undefined>;

/** What a filter may read besides its text: the filtered table's columns and the tables it names. */
export interface RowFilterSources {
  /**
   * The filtered table's columns. When given, a filter naming a column that neither this table,
   * the tables it reads, nor the filter itself defines is refused: inside a user's correlated
   * subquery or LATERAL join, DuckDB would bind that name to a column of the user's query.
   */
  columns?: readonly string[];
  /** Reads other catalog tables; without it, a filter that names a table is refused. */
  readTable?: RowFilterTableReader;
}

/**
 * Compile a table's row filter terms (`TableAccess.rowFilterTerms`: OR over roles, AND within a
 * role) for one principal into one predicate node. Each predicate is compiled by
 * `compileRowPredicate`; they are combined on the AST, never by pasting text.
 */
export async function compileRowFilter(
  terms: string[][],
  principal: AccessPrincipal,
  table: string,
  sources: RowFilterSources = {},
): Promise<AstNode> {
  if (terms.length === 0 || terms.some((filters) => filters.length === 0)) {
    throw new Error(
      `row filter terms for ${table} are empty: no filter is undefined terms, not an empty list`,
    );
  }
  const roles: AstNode[] = [];
  for (const filters of terms) {
    const predicates: AstNode[] = [];
    for (const filter of filters) {
      predicates.push(await compileRowPredicate(filter, principal, table, sources));
    }
    roles.push(conjunction('CONJUNCTION_AND', predicates));
  }
  return conjunction('CONJUNCTION_OR', roles);
}

function conjunction(type: 'CONJUNCTION_AND' | 'CONJUNCTION_OR', children: AstNode[]): AstNode {
  if (children.length === 1) return children[0]!;
  return { class: 'CONJUNCTION', type, alias: '', query_location: 0, children };
}

/**
 * Compile one row filter predicate (`state = principal_attr('state')`) for one principal: parse it,
 * and replace `principal_attr('x')` with the principal's attribute as a string literal (NULL when
 * the attribute is missing, so a comparison with it never passes) and `principal_name()` with the
 * principal's name. Substitution happens on the AST, so an attribute value can never become SQL.
 *
 * A predicate may read other catalog tables in subqueries
 * (`member_id IN (SELECT member_id FROM care.members)`) when `readTable` is given: each table it
 * names becomes the relation `readTable` returns for it, and when the principal may not read one
 * of them the whole predicate is FALSE (no row passes: not NULL, not an error, so `NOT IN` cannot
 * turn an unreadable table into every row). Such tables are named `namespace.table`, without AT
 * (a filter reads the current version); a name bound to the filter's own WITH is its own.
 *
 * Returns the predicate's expression node, ready to become the WHERE clause of a secure relation.
 * A filter that is not a single predicate, or reads something other than catalog tables, is a
 * `QueryError` that names the table: it is a catalog repo mistake.
 */
export async function compileRowPredicate(
  filter: string,
  principal: AccessPrincipal,
  table: string,
  sources: RowFilterSources = {},
): Promise<AstNode> {
  const { readTable } = sources;
  const problem = (message: string, cause?: unknown) =>
    new QueryError(`row filter for ${table} ${message}: ${filter}`, undefined, cause ? { cause } : undefined);
  let statement;
  try {
    statement = await parseSingleStatement(`SELECT 1 WHERE ${filter}`);
  } catch (error) {
    throw problem('does not parse as one SQL predicate', error);
  }
  const node = statement.node;
  const predicate = node.where_clause;
  const extraClauses =
    node.type !== 'SELECT_NODE' ||
    (node.modifiers as unknown[]).length > 0 ||
    node.having !== null ||
    node.qualify !== null ||
    (node.group_expressions as unknown[]).length > 0;
  if (!isAstNode(predicate) || extraClauses) throw problem('must be a single SQL predicate');
  const tables = new Set<string>();
  visitBaseTables(predicate, (reference) => {
    if (reference.boundToCte) return;
    if (!readTable) throw problem("may only read the table's own columns, not other tables");
    const name = String(reference.node.table_name);
    const qualified =
      String(reference.node.schema_name ?? '') !== '' && String(reference.node.catalog_name ?? '') === '';
    if (!qualified || /[./\\:]/.test(name)) {
      throw problem(`reads \`${reference.name}\`, which is not a catalog table; name tables namespace.table`);
    }
    if (reference.node.at_clause) {
      throw problem(
        `reads ${reference.name} with AT (...); a row filter reads the current version of a table`,
      );
    }
    tables.add(reference.name);
  });
  if (readsTableFunction(predicate))
    throw problem('may only read catalog tables (namespace.table), not table functions');
  substitutePrincipal(predicate, principal, problem);

  const relations = new Map<string, AstNode>();
  const columns = new Set((sources.columns ?? []).map((column) => column.toLowerCase()));
  for (const name of tables) {
    const relation = await readTable!(name);
    if (!relation) return falseConstant();
    relations.set(name, relation.node);
    for (const column of relation.columns) columns.add(column.toLowerCase());
  }
  if (sources.columns) checkColumnNames(predicate, columns, problem);
  if (relations.size === 0) return predicate;
  return rewriteTableReferencesInAst(predicate, (reference) => cloneAst(relations.get(reference.name)!));
}

/**
 * Refuse a column reference that nothing in the filter's reach defines. A name is known when it is
 * a column of the filtered table or of a table the filter reads, or a name the filter defines
 * itself (an alias, a table's bare name, a CTE, a lambda parameter). `a.b` needs `a` known: a
 * relation (then `b` must be a known column) or a column (then `b` is a struct field).
 */
function checkColumnNames(
  predicate: AstNode,
  columns: ReadonlySet<string>,
  problem: (message: string) => QueryError,
): void {
  const defined = new Set<string>();
  const relationNames = new Set<string>();
  collectDefinedNames(predicate, defined, relationNames);
  const isColumn = (name: string) => columns.has(name) || defined.has(name);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isAstNode(value)) return;
    if (value.class === 'COLUMN_REF' && Array.isArray(value.column_names)) {
      const names = (value.column_names as unknown[]).map((name) => String(name).toLowerCase());
      const known =
        names.length === 1
          ? isColumn(names[0]!) || relationNames.has(names[0]!)
          : isColumn(names[0]!) ||
            (relationNames.has(names[0]!) && isColumn(names[1]!)) ||
            (names.length > 2 && relationNames.has(`${names[0]}.${names[1]}`) && isColumn(names[2]!));
      if (!known) {
        throw problem(
          `names \`${(value.column_names as unknown[]).join('.')}\`, which is not a column of the table nor of a table it reads; fix the role's row filter`,
        );
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(predicate);
}

/** Names a filter defines: select and table aliases, tables' bare names, CTEs, lambda parameters. */
function collectDefinedNames(value: unknown, defined: Set<string>, relations: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectDefinedNames(item, defined, relations);
    return;
  }
  if (!isAstNode(value)) return;
  const alias = typeof value.alias === 'string' ? value.alias.toLowerCase() : '';
  if (alias !== '') ('class' in value ? defined : relations).add(alias);
  if (value.type === 'BASE_TABLE' && typeof value.table_name === 'string') {
    relations.add(value.table_name.toLowerCase());
    if (value.schema_name) relations.add(`${String(value.schema_name)}.${value.table_name}`.toLowerCase());
  }
  if (Array.isArray(value.column_name_alias)) {
    for (const name of value.column_name_alias) defined.add(String(name).toLowerCase());
  }
  const map = (value.cte_map as { map?: { key: string; value: { aliases?: string[] } }[] } | undefined)?.map;
  for (const entry of map ?? []) {
    relations.add(entry.key.toLowerCase());
    for (const name of entry.value.aliases ?? []) defined.add(name.toLowerCase());
  }
  if (value.class === 'LAMBDA') collectColumnNames(value.lhs, defined);
  for (const child of Object.values(value)) collectDefinedNames(child, defined, relations);
}

function collectColumnNames(value: unknown, names: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectColumnNames(item, names);
    return;
  }
  if (!isAstNode(value)) return;
  if (value.class === 'COLUMN_REF' && Array.isArray(value.column_names)) {
    for (const name of value.column_names) names.add(String(name).toLowerCase());
  }
  for (const child of Object.values(value)) collectColumnNames(child, names);
}

function readsTableFunction(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(readsTableFunction);
  if (!isAstNode(value)) return false;
  if (value.type === 'TABLE_FUNCTION' && !('class' in value)) return true;
  return Object.values(value).some(readsTableFunction);
}

/** FALSE: what a predicate that reads a table the principal may not read lets through. */
function falseConstant(): AstNode {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    query_location: 0,
    value: { type: { id: 'BOOLEAN', type_info: null }, is_null: false, value: false },
  };
}

function substitutePrincipal(
  value: unknown,
  principal: AccessPrincipal,
  problem: (message: string) => QueryError,
): void {
  if (Array.isArray(value)) {
    for (const item of value) substitutePrincipal(item, principal, problem);
    return;
  }
  if (!isAstNode(value)) return;
  if (value.class === 'FUNCTION' && typeof value.function_name === 'string') {
    const name = value.function_name.toLowerCase();
    const children = (value.children as AstNode[] | undefined) ?? [];
    if (name === 'principal_attr') {
      const argument = children[0];
      const key = (argument?.value as { value?: unknown } | undefined)?.value;
      if (children.length !== 1 || argument?.class !== 'CONSTANT' || typeof key !== 'string') {
        throw problem(
          "calls principal_attr with something other than one constant name, e.g. principal_attr('state')",
        );
      }
      const attribute = Object.entries(principal.attributes).find(
        ([name]) => name.toLowerCase() === key.toLowerCase(),
      );
      replaceNodeInPlace(value, stringConstantNode(attribute?.[1]));
      return;
    }
    if (name === 'principal_name') {
      if (children.length !== 0) throw problem('calls principal_name with arguments; it takes none');
      replaceNodeInPlace(value, stringConstantNode(principal.name));
      return;
    }
  }
  for (const child of Object.values(value)) substitutePrincipal(child, principal, problem);
}
