import {
  cloneAst,
  isAstNode,
  isExpressionNode,
  isQueryNode,
  stringConstantNode,
  type AstNode,
} from '../sql/index.ts';
import { expressionName } from './select-item-names.ts';

/**
 * Comparisons of HASH-masked columns on their digests' binary halves instead of their hex text.
 *
 * A HASH mask shows 64 hex digits. Joining, or counting distinct values of, 64-character strings
 * costs DuckDB far more than the raw values did (an SSN's 11 characters fit its inlined strings; a
 * digest does not). Where a version holds precomputed hashes, it also holds each digest as two
 * 128-bit halves (`digestHalvesSql`), and equal halves ⇔ equal digests. So inside one SELECT, over
 * secure relations that hold them, this rewrite turns
 *
 *     p.ssn = c.subscriber_ssn       into  (p.<ssn hi> = c.<sub hi> AND (p.<ssn lo> = c.<sub lo>) IS NOT FALSE)
 *     (also IS NOT DISTINCT FROM; <> and IS DISTINCT FROM become an OR of both halves)
 *     count(DISTINCT p.ssn)          into  count(DISTINCT CASE WHEN p.<hi> IS NULL THEN NULL ELSE (p.<hi>, p.<lo>) END)
 *
 * and adds the halves to those relations' select lists. The answer is the same, value for value;
 * only the work differs. The halves reveal nothing beyond the digest the principal already sees.
 *
 * So that the added columns never show up in an answer, a SELECT is left as it is when anything
 * in it could list a relation's columns wholesale: `*`, `COLUMNS(...)`, a relation named as a value
 * (`SELECT p`, `to_json(p)`), or a NATURAL join; or when it names a half itself (`p.ssn__hash_hi`),
 * which then fails to bind as it would without the rewrite. Column references must be qualified with the
 * relation's alias (`p.ssn`); an unqualified `ssn` keeps comparing text.
 */

/** The secure relations that hold digest halves: relation's SELECT node → field (lowercase) → [high, low] columns. */
export type DigestRelationOf = (
  queryNode: AstNode,
) => ReadonlyMap<string, readonly [string, string]> | undefined;

/**
 * Comparison types that compare the halves as they would the digests. For equality the low halves'
 * comparison is wrapped in `IS NOT FALSE`: DuckDB then joins on the high halves alone and checks
 * the low ones on the pairs found (a hash join on both halves cost as much as the hex join saved),
 * and the result is still the digests' comparison in three-valued logic (a NULL digest has NULL
 * halves: `NULL AND TRUE` is NULL; different digests differ in a half: FALSE).
 */
const COMPARISONS: Record<string, { joinWith: 'CONJUNCTION_AND' | 'CONJUNCTION_OR' }> = {
  COMPARE_EQUAL: { joinWith: 'CONJUNCTION_AND' },
  COMPARE_NOT_DISTINCT_FROM: { joinWith: 'CONJUNCTION_AND' },
  COMPARE_NOTEQUAL: { joinWith: 'CONJUNCTION_OR' },
  COMPARE_DISTINCT_FROM: { joinWith: 'CONJUNCTION_OR' },
};

/** Rewrite, in place, every SELECT of `document` that qualifies; see the module comment. */
export async function rewriteDigestComparisons(
  document: AstNode,
  digestRelationOf: DigestRelationOf,
): Promise<void> {
  for (const node of selectNodes(document, digestRelationOf)) await rewriteSelect(node, digestRelationOf);
}

/** A secure relation in a SELECT's FROM clause, by the alias the query names it with. */
interface DigestRelation {
  /** The relation's SELECT node, to which used halves are added. */
  query: AstNode;
  digests: ReadonlyMap<string, readonly [string, string]>;
  alias: string;
  /** Halves already added to the relation's select list. */
  added: Set<string>;
}

async function rewriteSelect(node: AstNode, digestRelationOf: DigestRelationOf): Promise<void> {
  const relations = new Map<string, DigestRelation>();
  let natural = false;
  visitFrom(node.from_table, (reference) => {
    if (reference.type === 'JOIN' && reference.ref_type === 'NATURAL') natural = true;
    if (reference.type !== 'SUBQUERY' || typeof reference.alias !== 'string') return;
    if (Array.isArray(reference.column_name_alias) && reference.column_name_alias.length > 0) return;
    const query = (reference.subquery as AstNode | undefined)?.node as AstNode | undefined;
    const digests = query && digestRelationOf(query);
    if (query && digests && digests.size > 0) {
      relations.set(reference.alias.toLowerCase(), {
        query,
        digests,
        alias: reference.alias,
        added: new Set(),
      });
    }
  });
  if (relations.size === 0 || natural || listsColumnsWholesale(node, relations, digestRelationOf)) return;

  const rewriter = new ExpressionRewriter(relations);
  // Select-list items first: one that changes keeps the name DuckDB gave the original expression.
  const selectList = (node.select_list as AstNode[] | undefined) ?? [];
  for (const [index, item] of selectList.entries()) {
    const copy = [cloneAst(item)];
    if (!rewriter.rewriteField(copy, 0)) continue;
    if (copy[0]!.alias === '') copy[0]!.alias = await expressionName(item);
    selectList[index] = copy[0]!;
  }
  for (const key of Object.keys(node)) {
    if (key !== 'select_list' && key !== 'from_table' && key !== 'cte_map') rewriter.rewriteField(node, key);
  }
  visitFrom(node.from_table, (reference) => {
    if (reference.type === 'JOIN') rewriter.rewriteField(reference, 'condition');
  });
  for (const relation of relations.values()) {
    const list = relation.query.select_list as AstNode[];
    for (const column of relation.added) list.push(columnRef([column]));
  }
}

/** Rewrites comparisons and distinct counts over qualified references to digest-holding columns. */
class ExpressionRewriter {
  constructor(private readonly relations: ReadonlyMap<string, DigestRelation>) {}

  /** Rewrite `parent[key]` in place, itself or anything under it; true when anything changed. */
  rewriteField(parent: AstNode | unknown[], key: string | number): boolean {
    const value = (parent as Record<string | number, unknown>)[key];
    const replacement = isExpressionNode(value) ? this.replacement(value) : undefined;
    if (replacement) {
      (parent as Record<string | number, unknown>)[key] = replacement;
      return true;
    }
    if (Array.isArray(value)) {
      let changed = false;
      for (let index = 0; index < value.length; index++) changed = this.rewriteField(value, index) || changed;
      return changed;
    }
    // Subqueries and lambdas have scopes of their own: their names may not mean this SELECT's relations.
    if (!isAstNode(value) || opensScope(value)) return false;
    let changed = false;
    for (const child of Object.keys(value)) changed = this.rewriteField(value, child) || changed;
    return changed;
  }

  private replacement(expression: AstNode): AstNode | undefined {
    if (expression.class === 'COMPARISON' && typeof expression.type === 'string') {
      const comparison = COMPARISONS[expression.type];
      const left = this.halves(expression.left);
      const right = this.halves(expression.right);
      if (!comparison || !left || !right) return undefined;
      return {
        class: 'CONJUNCTION',
        type: comparison.joinWith,
        alias: expression.alias,
        query_location: expression.query_location ?? 0,
        children: [0, 1].map((half) => {
          const compared: AstNode = {
            class: 'COMPARISON',
            type: expression.type,
            alias: '',
            query_location: 0,
            left: left[half],
            right: right[half],
          };
          return half === 1 && comparison.joinWith === 'CONJUNCTION_AND' ? isNotFalse(compared) : compared;
        }),
      };
    }
    if (isDistinctCount(expression)) {
      const halves = this.halves((expression.children as unknown[])[0]);
      if (!halves) return undefined;
      // (high, low) is never NULL as a row; count(DISTINCT ...) must still skip NULL digests.
      const pair: AstNode = {
        class: 'CASE',
        type: 'CASE_EXPR',
        alias: '',
        query_location: 0,
        case_checks: [
          {
            when_expr: {
              class: 'OPERATOR',
              type: 'OPERATOR_IS_NULL',
              alias: '',
              query_location: 0,
              children: [halves[0]],
            },
            then_expr: stringConstantNode(undefined),
          },
        ],
        else_expr: functionCall('row', halves),
      };
      return { ...expression, children: [pair] };
    }
    return undefined;
  }

  /** Column references to the halves of `p.field`, when `p` is a relation here and `field` has them. */
  private halves(expression: unknown): [AstNode, AstNode] | undefined {
    if (!isAstNode(expression) || expression.class !== 'COLUMN_REF') return undefined;
    const names = expression.column_names;
    if (!Array.isArray(names) || names.length !== 2) return undefined;
    const relation = this.relations.get(String(names[0]).toLowerCase());
    const columns = relation?.digests.get(String(names[1]).toLowerCase());
    if (!relation || !columns) return undefined;
    for (const column of columns) relation.added.add(column);
    return [columnRef([relation.alias, columns[0]]), columnRef([relation.alias, columns[1]])];
  }
}

function opensScope(node: AstNode): boolean {
  return node.class === 'SUBQUERY' || node.class === 'LAMBDA' || isQueryNode(node);
}

function isDistinctCount(expression: AstNode): boolean {
  const orders = (expression.order_bys as { orders?: unknown[] } | undefined)?.orders ?? [];
  return (
    expression.class === 'FUNCTION' &&
    String(expression.function_name).toLowerCase() === 'count' &&
    ['', 'main'].includes(String(expression.schema ?? '').toLowerCase()) &&
    String(expression.catalog ?? '') === '' &&
    expression.distinct === true &&
    expression.export_state !== true &&
    orders.length === 0 &&
    Array.isArray(expression.children) &&
    expression.children.length === 1
  );
}

/**
 * True when something in the SELECT (its subqueries included) could list a relation's columns
 * without naming them: a star, `COLUMNS(...)`, or a relation's alias used as a value; or names one
 * of the halves itself (`r.ssn__hash_hi`), which would bind once added. The secure relations' own
 * SELECTs are ours and hold none of these.
 */
function listsColumnsWholesale(
  node: AstNode,
  relations: ReadonlyMap<string, DigestRelation>,
  digestRelationOf: DigestRelationOf,
): boolean {
  const halves = new Set(
    [...relations.values()].flatMap((relation) =>
      [...relation.digests.values()].flat().map((column) => column.toLowerCase()),
    ),
  );
  const visit = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(visit);
    if (!isAstNode(value)) return false;
    if (isQueryNode(value) && digestRelationOf(value)) return false;
    if (value.class === 'STAR') return true;
    if (value.class === 'COLUMN_REF') {
      const names = value.column_names;
      if (Array.isArray(names) && names.length === 1 && relations.has(String(names[0]).toLowerCase()))
        return true;
      if (Array.isArray(names) && names.some((name) => halves.has(String(name).toLowerCase()))) return true;
    }
    return Object.values(value).some(visit);
  };
  return visit(node);
}

/** Every SELECT_NODE in the document, the secure relations' own excepted. */
function selectNodes(root: unknown, digestRelationOf: DigestRelationOf): AstNode[] {
  const found: AstNode[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isAstNode(value)) return;
    if (isQueryNode(value) && digestRelationOf(value)) return;
    if (value.type === 'SELECT_NODE' && isQueryNode(value)) found.push(value);
    for (const child of Object.values(value)) visit(child);
  };
  visit(root);
  return found;
}

/** Visit a FROM clause's table references through joins, without entering subqueries. */
function visitFrom(reference: unknown, visit: (reference: AstNode) => void): void {
  if (!isAstNode(reference)) return;
  visit(reference);
  if (reference.type === 'JOIN') {
    visitFrom(reference.left, visit);
    visitFrom(reference.right, visit);
  }
}

/** `(condition) IS NOT FALSE`, as DuckDB's parser writes it. */
function isNotFalse(condition: AstNode): AstNode {
  return {
    class: 'COMPARISON',
    type: 'COMPARE_DISTINCT_FROM',
    alias: '',
    query_location: 0,
    left: condition,
    right: {
      class: 'CONSTANT',
      type: 'VALUE_CONSTANT',
      alias: '',
      query_location: 0,
      value: { type: { id: 'BOOLEAN', type_info: null }, is_null: false, value: false },
    },
  };
}

function columnRef(names: string[]): AstNode {
  return { class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', query_location: 0, column_names: names };
}

function functionCall(name: string, children: AstNode[]): AstNode {
  return {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: '',
    query_location: 0,
    function_name: name,
    schema: 'main',
    children,
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
    catalog: '',
  };
}
