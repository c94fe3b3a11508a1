/**
 * Small, shape-level helpers over DuckDB's serialized AST (`json_serialize_sql`). The AST is
 * plain JSON; these helpers name the few shapes the rest of `sql/` and `governance/` rely on.
 */

/** A node of DuckDB's serialized AST: plain JSON. */
export type AstNode = { [key: string]: unknown };

/** True for a JSON object (not an array, not null). */
export function isAstNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for an expression node. Every serialized `ParsedExpression` carries a `class`
 * (COLUMN_REF, FUNCTION, CONSTANT, ...); table references and query nodes do not.
 */
export function isExpressionNode(value: unknown): value is AstNode {
  return isAstNode(value) && typeof value.class === 'string';
}

/**
 * True for a table reference (the FROM clause's elements: BASE_TABLE, JOIN, SUBQUERY,
 * TABLE_FUNCTION, ...). Every serialized `TableRef` carries `alias` and `sample` and no `class`.
 */
export function isTableRefNode(value: unknown): value is AstNode {
  return (
    isAstNode(value) &&
    typeof value.type === 'string' &&
    'alias' in value &&
    'sample' in value &&
    !('class' in value)
  );
}

/** True for a query node (SELECT_NODE, SET_OPERATION_NODE, RECURSIVE_CTE_NODE, ...). */
export function isQueryNode(value: unknown): value is AstNode {
  return (
    isAstNode(value) && typeof value.type === 'string' && value.type.endsWith('_NODE') && 'modifiers' in value
  );
}

/** The entries of a query node's `WITH` clause, in declaration order (empty when there is none). */
export function cteEntries(node: AstNode): { name: string; query: AstNode; aliases: string[] }[] {
  const map = (node.cte_map as { map?: { key: string; value: AstNode }[] } | undefined)?.map ?? [];
  return map.map((entry) => ({
    name: entry.key,
    query: ((entry.value.query as AstNode | undefined)?.node ?? {}) as AstNode,
    aliases: (entry.value.aliases as string[] | undefined) ?? [],
  }));
}

/** A VARCHAR constant expression; `undefined` gives a NULL constant. */
export function stringConstantNode(value: string | undefined): AstNode {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    query_location: 0,
    value:
      value === undefined
        ? { type: { id: 'NULL', type_info: null }, is_null: true }
        : { type: { id: 'VARCHAR', type_info: null }, is_null: false, value },
  };
}

/** Replace a node's content in place, keeping the object identity (parents keep pointing at it). */
export function replaceNodeInPlace(target: AstNode, replacement: AstNode): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, replacement);
}

/** A deep copy, so rewrites never mutate a caller's document. */
export function cloneAst<T>(value: T): T {
  return structuredClone(value);
}
