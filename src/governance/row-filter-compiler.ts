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
 * query node over the rows the same principal may read, or undefined when the principal may not
 * read the table (no grant, or no such table): the predicate then lets no row through.
 */
export type RowFilterTableReader = (table: string) => Promise<AstNode | undefined>;

/**
 * Compile a table's row filter terms (`TableAccess.rowFilterTerms`: OR over roles, AND within a
 * role) for one principal into one predicate node. Each predicate is compiled by
 * `compileRowPredicate`; they are combined on the AST, never by pasting text.
 */
export async function compileRowFilter(
  terms: string[][],
  principal: AccessPrincipal,
  table: string,
  readTable?: RowFilterTableReader,
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
      predicates.push(await compileRowPredicate(filter, principal, table, readTable));
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
  readTable?: RowFilterTableReader,
): Promise<AstNode> {
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
  if (tables.size === 0 || !readTable) return predicate;

  const relations = new Map<string, AstNode>();
  for (const name of tables) {
    const relation = await readTable(name);
    if (!relation) return falseConstant();
    relations.set(name, relation);
  }
  return rewriteTableReferencesInAst(predicate, (reference) => cloneAst(relations.get(reference.name)!));
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
