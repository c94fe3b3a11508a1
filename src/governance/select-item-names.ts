import {
  cloneAst,
  deserializeSql,
  isAstNode,
  isQueryNode,
  parseSingleStatement,
  type AstNode,
} from '../sql/index.ts';

/**
 * The names of a query's result columns come from the user's own SQL, never from the rewritten one.
 *
 * DuckDB names an unaliased select-list expression after its SQL text (`upper(mrn)`,
 * `count_star()`, `(SELECT max(mrn) FROM clinical.patients)`). The guard rewrites that text: a
 * catalog table inside a scalar subquery becomes a secure relation (storage paths, mask SQL that
 * reads the hash key's variable, row filter literals), a three-part column reference is shortened,
 * a digest comparison reads `__hash_hi` columns. Left alone, the rewritten text would become the
 * column's name and reach the user.
 *
 * So, before anything is rewritten, every unaliased item whose text a rewrite may change gets as
 * alias the name DuckDB gives the user's text: in every SELECT of the query (a subquery's or a
 * CTE's names surface through `*`, `to_json(t)`, `UNPIVOT`, `UNION BY NAME`), not only the
 * outermost one. Plain column references keep their own name (DuckDB names them after the
 * column), and an item holding a star or `COLUMNS(...)` outside a subquery is named by DuckDB
 * after each expanded column, so neither is touched.
 */
export async function nameSelectItemsFromUserText(root: AstNode): Promise<void> {
  const items: AstNode[] = [];
  collectSelectItems(root, items);
  // Names first, aliases after: an outer item's name is its text without the aliases given inside it.
  const names: string[] = [];
  for (const item of items) names.push(await expressionName(item));
  items.forEach((item, index) => (item.alias = names[index]));
}

/** The name DuckDB gives an unaliased select-list expression: its SQL text, as DuckDB prints it. */
export async function expressionName(expression: AstNode): Promise<string> {
  selectOneTemplate ??= parseSingleStatement('SELECT 1');
  const document = cloneAst((await selectOneTemplate).document);
  const node = (document.statements as { node: AstNode }[])[0]!.node;
  node.select_list = [{ ...expression, alias: '' }];
  return (await deserializeSql(document)).replace(/^SELECT /, '');
}

let selectOneTemplate: ReturnType<typeof parseSingleStatement> | undefined;

function collectSelectItems(value: unknown, items: AstNode[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectSelectItems(item, items);
    return;
  }
  if (!isAstNode(value)) return;
  if (value.type === 'SELECT_NODE' && isQueryNode(value) && Array.isArray(value.select_list)) {
    for (const item of value.select_list as unknown[]) {
      if (isAstNode(item) && item.alias === '' && item.class !== 'COLUMN_REF' && !expandsStar(item)) {
        if (mayBeRewritten(item)) items.push(item);
      }
    }
  }
  for (const child of Object.values(value)) collectSelectItems(child, items);
}

/** True when a star or `COLUMNS(...)` in this expression (not in a subquery of it) expands to columns. */
function expandsStar(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(expandsStar);
  if (!isAstNode(value)) return false;
  if (value.class === 'STAR') return true;
  if (value.class === 'SUBQUERY' || isQueryNode(value)) return false;
  return Object.values(value).some(expandsStar);
}

/**
 * True when the guard's rewrites may change the expression's text: it holds a subquery (its tables
 * become secure relations) or a qualified column reference (three-part names are shortened,
 * comparisons of `p.ssn` may read digest halves).
 */
function mayBeRewritten(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mayBeRewritten);
  if (!isAstNode(value)) return false;
  if (value.class === 'SUBQUERY') return true;
  if (value.class === 'COLUMN_REF' && Array.isArray(value.column_names) && value.column_names.length > 1) {
    return true;
  }
  return Object.values(value).some(mayBeRewritten);
}
