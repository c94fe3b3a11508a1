import { QueryError } from '../diagnostics/errors.ts';
import {
  isAstNode,
  parseSingleStatement,
  replaceNodeInPlace,
  stringConstantNode,
  visitBaseTables,
  type AstNode,
} from '../sql/index.ts';
import type { AccessPrincipal } from './access-resolver.ts';

/**
 * Compile a table's row filter terms (`TableAccess.rowFilterTerms`: OR over roles, AND within a
 * role) for one principal into one predicate node. Each predicate is compiled by
 * `compileRowPredicate`; they are combined on the AST, never by pasting text.
 */
export async function compileRowFilter(
  terms: string[][],
  principal: AccessPrincipal,
  table: string,
): Promise<AstNode> {
  if (terms.length === 0 || terms.some((filters) => filters.length === 0)) {
    throw new Error(
      `row filter terms for ${table} are empty: no filter is undefined terms, not an empty list`,
    );
  }
  const roles: AstNode[] = [];
  for (const filters of terms) {
    const predicates: AstNode[] = [];
    for (const filter of filters) predicates.push(await compileRowPredicate(filter, principal, table));
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
 * Returns the predicate's expression node, ready to become the WHERE clause of a secure relation.
 * A filter that is not a single predicate over the table's own columns is a `QueryError` that
 * names the table: it is a catalog repo mistake.
 */
export async function compileRowPredicate(
  filter: string,
  principal: AccessPrincipal,
  table: string,
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
  let readsTables = false;
  visitBaseTables(predicate, () => {
    readsTables = true;
  });
  if (readsTables) throw problem("may only read the table's own columns, not other tables");
  substitutePrincipal(predicate, principal, problem);
  return predicate;
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
