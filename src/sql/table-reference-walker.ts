import { cteEntries, isAstNode, type AstNode } from './ast-node.ts';

/** One `BASE_TABLE` node met while walking a statement. */
export interface BaseTableVisit {
  /** The node itself; rewriters may replace its content in place. */
  node: AstNode;
  /** `catalog.schema.table`, `schema.table` or `table` as written, lowercased. */
  name: string;
  /** True when the name is an unqualified reference to a CTE visible at this point. */
  boundToCte: boolean;
}

/**
 * Visit every `BASE_TABLE` node of a statement (or any AST fragment) with DuckDB's CTE scoping:
 *
 * - a CTE is visible in the query that declares it and everything nested in it;
 * - a CTE's own body sees only the CTEs declared *before* it (DuckDB binds `WITH a AS (SELECT *
 *   FROM a)` to an outer table `a`, not to itself);
 * - a recursive CTE sees itself only in the recursive (right) side of its UNION;
 * - a qualified name (`main.x`) never binds to a CTE.
 *
 * Getting this wrong in the permissive direction would let a name the guard believes is a CTE be
 * resolved by DuckDB to something else (a table, a file through a replacement scan), so every
 * doubt resolves to "not a CTE".
 */
export function visitBaseTables(root: unknown, visit: (table: BaseTableVisit) => void): void {
  walk(root, new Set(), visit);
}

function walk(value: unknown, scope: ReadonlySet<string>, visit: (table: BaseTableVisit) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, scope, visit);
    return;
  }
  if (!isAstNode(value)) return;
  const node = value;

  let inner = scope;
  // Most nodes declare no CTEs: asking first keeps the walk from allocating at every node.
  const entries = node.cte_map === undefined ? [] : cteEntries(node);
  if (entries.length > 0) {
    const declared = new Set(scope);
    const map = (node.cte_map as { map: { value: AstNode }[] }).map;
    entries.forEach((entry, index) => {
      walk(map[index]!.value, declared, visit);
      declared.add(entry.name.toLowerCase());
    });
    inner = declared;
  }

  if (node.type === 'RECURSIVE_CTE_NODE' && typeof node.cte_name === 'string') {
    walk(node.left, inner, visit);
    walk(node.right, new Set([...inner, node.cte_name.toLowerCase()]), visit);
    for (const key of Object.keys(node)) {
      if (key !== 'cte_map' && key !== 'left' && key !== 'right') walk(node[key], inner, visit);
    }
    return;
  }

  if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string' && !('class' in node)) {
    const catalog = String(node.catalog_name ?? '').toLowerCase();
    const schema = String(node.schema_name ?? '').toLowerCase();
    const table = node.table_name.toLowerCase();
    visit({
      node,
      name: [catalog, schema, table].filter(Boolean).join('.'),
      boundToCte: !catalog && !schema && inner.has(table),
    });
  }

  for (const key of Object.keys(node)) {
    if (key !== 'cte_map') walk(node[key], inner, visit);
  }
}
