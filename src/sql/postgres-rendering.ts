import { QueryError } from '../diagnostics/errors.ts';
import { isAstNode, type AstNode } from './ast-node.ts';

/**
 * PostgreSQL text for a SELECT that DuckDB's parser read (and governance may have rewritten). DuckDB's
 * own deparser writes DuckDB SQL (`count_star()`, `CAST(x AS DOUBLE)`, `to_days(…)`, `f(x)[1]`), so
 * this is a printer of its own over the serialized AST: every node it knows is written in PostgreSQL's
 * spelling, and every node it does not know exactly is refused with `NonPortableSqlError`, never
 * guessed at.
 *
 * What a rendering means on PostgreSQL:
 * - Text PostgreSQL reads the same as DuckDB keeps its meaning (`count(*)`, joins, `CASE`, casts).
 * - Where DuckDB's parse replaced PostgreSQL syntax by a DuckDB function, the syntax is written back:
 *   `a ~ b` (DuckDB: `regexp_full_match`, a whole-text match; PostgreSQL: a partial match) is written
 *   as `~` again, `AT TIME ZONE`, `extract(… FROM …)`, `position(… IN …)`, `substring(… FROM … FOR …)`,
 *   `(…)[n]` subscripts. So SQL written for PostgreSQL (the PostgreSQL dialect's masks and row
 *   filters) runs as written.
 * - Where the two differ and the AST keeps DuckDB's meaning, DuckDB's is kept: `INTERVAL 1 DAY`
 *   (`to_days`) becomes `make_interval(days => …)`, `ORDER BY` without `NULLS` says `NULLS LAST`
 *   (DuckDB's default; PostgreSQL's puts NULLs first when descending), and `LIKE` has no escape
 *   character (`ESCAPE ''`) unless the SQL names one.
 * - `/` is written as `/`: PostgreSQL divides integers to an integer (`1/2` = 0) where DuckDB gives
 *   0.5. Portable SQL casts one side to DOUBLE (`nonPortableConstructs` says so).
 */

/** SQL that has no exact PostgreSQL rendering: a DuckDB-only construct, or one whose meaning would change. */
export class NonPortableSqlError extends QueryError {
  constructor(
    message: string,
    /** The construct refused, as SQL spells it (`QUALIFY`, `list_value`, `TRY_CAST`). */
    readonly construct: string,
    /** The character offset of the construct in the SQL it was parsed from, when known. */
    readonly location?: number,
  ) {
    super(message);
  }
}

/** One construct `renderForPostgres` refused, at the parser's offset (when the node has one). */
export interface Refusal {
  /** What to report: what the construct is and, where there is one, what to write instead. */
  message: string;
  /** The construct as SQL spells it. */
  construct: string;
  /** The node it was found in (its `query_location`, or a child's, says where). */
  node: AstNode;
}

/**
 * PostgreSQL SQL text for a parsed (and possibly rewritten) SELECT document (`parseSql(…)[i].document`),
 * with the same meaning. Throws `NonPortableSqlError` for the first construct it cannot render
 * exactly; the error's `location` is that node's offset in the text it was parsed from.
 */
export async function renderForPostgres(document: AstNode): Promise<string> {
  const printer = new PostgresPrinter((refusal) => {
    throw new NonPortableSqlError(refusal.message, refusal.construct, locationOf(refusal.node));
  });
  return printer.document(document);
}

/**
 * Every construct of `node` (a statement's root node) that `renderForPostgres` refuses, in the order
 * they are met; the whole tree is walked. For `nonPortableConstructs`, which reports them all.
 */
export function postgresRefusals(node: AstNode): Refusal[] {
  const refusals: Refusal[] = [];
  new PostgresPrinter((refusal) => refusals.push(refusal)).query(node);
  return refusals;
}

/** The parser's offset of a node: its own `query_location`, else the first a descendant carries. */
export function locationOf(node: AstNode): number | undefined {
  const own = node.query_location;
  if (typeof own === 'number' && own > 0) return own;
  for (const value of Object.values(node)) {
    const children = Array.isArray(value) ? value : [value];
    for (const child of children) {
      if (!isAstNode(child)) continue;
      const found = locationOf(child);
      if (found !== undefined) return found;
    }
  }
  return typeof own === 'number' ? own : undefined;
}

/** The smallest parser offset in a subtree: where an expression starts in the text. */
function leftmostLocation(node: AstNode): number | undefined {
  let found: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isAstNode(value)) return;
    const own = value.query_location;
    if (typeof own === 'number' && own > 0 && (found === undefined || own < found)) found = own;
    Object.values(value).forEach(visit);
  };
  visit(node);
  return found;
}

/** PostgreSQL spellings of DuckDB's type ids (a field's column type, as the PostgreSQL dialect writes it). */
const TYPES: Record<string, string> = {
  VARCHAR: 'text',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  SMALLINT: 'smallint',
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  HUGEINT: 'numeric(39,0)',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  BOOLEAN: 'boolean',
  BLOB: 'bytea',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
  INTERVAL: 'interval',
  UUID: 'uuid',
};

const COMPARISONS: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_DISTINCT_FROM: 'IS DISTINCT FROM',
  COMPARE_NOT_DISTINCT_FROM: 'IS NOT DISTINCT FROM',
};

/** Binary operators written as they are in both dialects. */
const BINARY_OPERATORS = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '||',
  '^',
  '&',
  '|',
  '<<',
  '>>',
  '->',
  '->>',
  '@>',
  '<@',
  '&&',
]);

/** DuckDB's LIKE family as operators (`~~` is how DuckDB's parser names LIKE). */
const LIKE_OPERATORS: Record<string, string> = {
  '~~': 'LIKE',
  '!~~': 'NOT LIKE',
  '~~*': 'ILIKE',
  '!~~*': 'NOT ILIKE',
};

/** `like_escape(a, b, c)` and its siblings: `a LIKE b ESCAPE c`. */
const LIKE_ESCAPE_FUNCTIONS: Record<string, string> = {
  like_escape: 'LIKE',
  not_like_escape: 'NOT LIKE',
  ilike_escape: 'ILIKE',
  not_ilike_escape: 'NOT ILIKE',
};

/** PostgreSQL's POSIX regex operators other than `~`, which DuckDB keeps as operator functions. */
const REGEX_OPERATORS = new Set(['~*', '!~*']);

/** DuckDB's `INTERVAL n UNIT` functions, as `make_interval` arguments (all take integers but `secs`). */
const INTERVAL_FUNCTIONS: Record<string, string> = {
  to_years: 'years',
  to_months: 'months',
  to_weeks: 'weeks',
  to_days: 'days',
  to_hours: 'hours',
  to_minutes: 'mins',
  to_seconds: 'secs',
};

/** Fields of `extract(field FROM …)` that give the same numbers on both engines. */
export const PORTABLE_EXTRACT_FIELDS: ReadonlySet<string> = new Set([
  'year',
  'quarter',
  'month',
  'week',
  'day',
  'dow',
  'isodow',
  'doy',
  'hour',
  'minute',
]);

/** Keywords PostgreSQL does not take as a bare column or table name (reserved and type/function names). */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint ' +
    'create current_catalog current_date current_role current_time current_timestamp current_user default ' +
    'deferrable desc distinct do else end except false fetch for foreign from grant group having in ' +
    'initially intersect into lateral leading limit localtime localtimestamp not null offset on only or ' +
    'order placing primary references returning select session_user some symmetric table then to trailing ' +
    'true union unique user using variadic when where window with authorization binary collation ' +
    'concurrently cross current_schema freeze full ilike inner is isnull join left like natural notnull ' +
    'outer overlaps right similar tablesample verbose'
  ).split(' '),
);

/** Names a bare column reference may carry that PostgreSQL reads as SQL value functions (as DuckDB does). */
const VALUE_KEYWORDS = new Set([
  'current_date',
  'current_timestamp',
  'current_time',
  'localtime',
  'localtimestamp',
  'current_user',
  'session_user',
  'current_role',
  'current_catalog',
  'current_schema',
]);

/** A name, bare when PostgreSQL reads it bare (it folds it to lower case, as DuckDB matches names), else quoted. */
export function postgresIdentifier(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

function stringLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A number token as DuckDB's AST carries it (a JS number, or a marker string for exact doubles and large integers). */
function numberText(value: unknown): string {
  const text = String(value);
  return text.startsWith('\u0000number:') ? text.slice('\u0000number:'.length) : text;
}

function decimalText(raw: unknown, scale: number): string {
  const digits = BigInt(numberText(raw));
  const negative = digits < 0n;
  const magnitude = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? magnitude : `${magnitude.slice(0, -scale)}.${magnitude.slice(-scale)}`;
  return negative ? `-${whole}` : whole;
}

type Refuse = (refusal: Refusal) => void;

/** The printer. `refuse` throws (rendering) or records and lets the walk go on (finding every refusal). */
class PostgresPrinter {
  constructor(private readonly onRefusal: Refuse) {}

  private refuse(node: AstNode, construct: string, message: string): string {
    this.onRefusal({ node, construct, message });
    return `/* ${construct} */ NULL`;
  }

  document(document: AstNode): string {
    const statements = (document.statements as { node: AstNode }[] | undefined) ?? [];
    if (statements.length !== 1)
      throw new Error('renderForPostgres renders a document of exactly one statement');
    return this.query(statements[0]!.node);
  }

  query(node: AstNode): string {
    const withClause = this.withClause(node);
    let body: string;
    switch (node.type) {
      case 'SELECT_NODE':
        body = this.select(node);
        break;
      case 'SET_OPERATION_NODE':
        body = this.setOperation(node);
        break;
      default:
        return this.refuse(
          node,
          String(node.type),
          `a ${String(node.type)} query has no PostgreSQL rendering`,
        );
    }
    return withClause + body + this.modifiers(node);
  }

  private withClause(node: AstNode): string {
    const entries = (
      (node.cte_map as { map?: { key: string; value: AstNode }[] } | undefined)?.map ?? []
    ).map((entry) => ({ name: entry.key, value: entry.value }));
    if (entries.length === 0) return '';
    let recursive = false;
    const parts = entries.map(({ name, value }) => {
      const query = (value.query as AstNode).node as AstNode;
      const aliases = (value.aliases as string[] | undefined) ?? [];
      const columns = aliases.length > 0 ? `(${aliases.map(postgresIdentifier).join(', ')})` : '';
      const materialized =
        value.materialized === 'CTE_MATERIALIZE_ALWAYS'
          ? 'MATERIALIZED '
          : value.materialized === 'CTE_MATERIALIZE_NEVER'
            ? 'NOT MATERIALIZED '
            : '';
      let body: string;
      if (query.type === 'RECURSIVE_CTE_NODE') {
        recursive = true;
        if ((query.key_targets as unknown[] | undefined)?.length) {
          body = this.refuse(query, 'USING KEY', '`USING KEY` in a recursive CTE is DuckDB-only');
        } else {
          const union = query.union_all ? 'UNION ALL' : 'UNION';
          body = `${this.query(query.left as AstNode)} ${union} ${this.query(query.right as AstNode)}`;
        }
      } else {
        body = this.query(query);
      }
      return `${postgresIdentifier(name)}${columns} AS ${materialized}(${body})`;
    });
    return `WITH ${recursive ? 'RECURSIVE ' : ''}${parts.join(', ')} `;
  }

  private select(node: AstNode): string {
    let sql = 'SELECT ';
    const distinct = ((node.modifiers as AstNode[] | undefined) ?? []).find(
      (m) => m.type === 'DISTINCT_MODIFIER',
    );
    if (distinct) {
      const targets = (distinct.distinct_on_targets as AstNode[] | undefined) ?? [];
      sql +=
        targets.length > 0
          ? `DISTINCT ON (${targets.map((t) => this.expression(t)).join(', ')}) `
          : 'DISTINCT ';
    }
    sql += ((node.select_list as AstNode[] | undefined) ?? []).map((e) => this.selectItem(e)).join(', ');
    const from = node.from_table as AstNode | undefined;
    if (from && from.type !== 'EMPTY') sql += ` FROM ${this.tableRef(from)}`;
    if (node.where_clause) sql += ` WHERE ${this.expression(node.where_clause as AstNode)}`;
    if (node.aggregate_handling === 'FORCE_AGGREGATES') {
      sql += this.refuse(node, 'GROUP BY ALL', '`GROUP BY ALL` is DuckDB-only; list the grouping columns');
    }
    sql += this.groupBy(node);
    if (node.having) sql += ` HAVING ${this.expression(node.having as AstNode)}`;
    if (node.qualify) {
      // The keyword has no node: point at the start of its condition.
      this.refuse(
        { query_location: leftmostLocation(node.qualify as AstNode) },
        'QUALIFY',
        '`QUALIFY` is DuckDB-only; filter the window function in an outer query (`SELECT … FROM (SELECT …, row_number() OVER (…) AS n …) WHERE n = 1`)',
      );
    }
    if (node.sample) this.refuse(node, 'USING SAMPLE', '`USING SAMPLE` is DuckDB-only');
    return sql;
  }

  private groupBy(node: AstNode): string {
    const expressions = (node.group_expressions as AstNode[] | undefined) ?? [];
    if (expressions.length === 0) return '';
    const sets = (node.group_sets as number[][] | undefined) ?? [];
    const printed = expressions.map((e) => this.expression(e));
    const plain =
      sets.length === 1 && sets[0]!.length === expressions.length && sets[0]!.every((i, n) => i === n);
    if (plain) return ` GROUP BY ${printed.join(', ')}`;
    const setsSql = sets.map((set) => `(${set.map((i) => printed[i]).join(', ')})`);
    return ` GROUP BY GROUPING SETS (${setsSql.join(', ')})`;
  }

  private setOperation(node: AstNode): string {
    const operators: Record<string, string> = { UNION: 'UNION', EXCEPT: 'EXCEPT', INTERSECT: 'INTERSECT' };
    const operator = operators[String(node.setop_type)];
    const children = (node.children as AstNode[] | undefined) ?? [
      node.left as AstNode,
      node.right as AstNode,
    ];
    if (!operator) {
      return this.refuse(
        node,
        String(node.setop_type),
        `\`${String(node.setop_type).replaceAll('_', ' ')}\` is DuckDB-only`,
      );
    }
    const all = node.setop_all ? ' ALL' : '';
    return children.map((child) => `(${this.query(child)})`).join(` ${operator}${all} `);
  }

  private modifiers(node: AstNode): string {
    let sql = '';
    for (const modifier of (node.modifiers as AstNode[] | undefined) ?? []) {
      switch (modifier.type) {
        case 'DISTINCT_MODIFIER':
          if (node.type !== 'SELECT_NODE')
            this.refuse(modifier, 'DISTINCT', 'DISTINCT over a set operation has no PostgreSQL rendering');
          break;
        case 'ORDER_MODIFIER':
          sql += ` ORDER BY ${this.orders(modifier.orders as AstNode[])}`;
          break;
        case 'LIMIT_MODIFIER':
          if (modifier.limit) sql += ` LIMIT ${this.expression(modifier.limit as AstNode)}`;
          if (modifier.offset) sql += ` OFFSET ${this.expression(modifier.offset as AstNode)}`;
          break;
        default:
          sql += this.refuse(
            modifier,
            String(modifier.type),
            `${String(modifier.type)} is DuckDB-only (e.g. \`LIMIT 10%\`)`,
          );
      }
    }
    return sql;
  }

  private orders(orders: AstNode[]): string {
    return orders
      .map((order) => {
        const direction = order.type === 'DESCENDING' ? ' DESC' : '';
        // DuckDB puts NULLs last in both directions unless told; PostgreSQL puts them first when descending.
        const nulls =
          order.null_order === 'NULLS FIRST' || order.null_order === 'NULLS_FIRST'
            ? ' NULLS FIRST'
            : ' NULLS LAST';
        return `${this.expression(order.expression as AstNode)}${direction}${nulls}`;
      })
      .join(', ');
  }

  private selectItem(expression: AstNode): string {
    const alias =
      typeof expression.alias === 'string' && expression.alias !== '' ? expression.alias : undefined;
    const sql = this.expression(expression);
    return alias ? `${sql} AS ${postgresIdentifier(alias)}` : sql;
  }

  private tableAlias(ref: AstNode): string {
    const alias = typeof ref.alias === 'string' && ref.alias !== '' ? ref.alias : undefined;
    const columns = (ref.column_name_alias as string[] | undefined) ?? [];
    if (!alias) return '';
    return ` AS ${postgresIdentifier(alias)}${columns.length ? `(${columns.map(postgresIdentifier).join(', ')})` : ''}`;
  }

  private tableRef(ref: AstNode): string {
    if (ref.sample) this.refuse(ref, 'TABLESAMPLE', 'DuckDB sampling has no exact PostgreSQL rendering');
    switch (ref.type) {
      case 'BASE_TABLE': {
        if (ref.at_clause) {
          this.refuse(
            ref,
            'AT',
            '`AT (VERSION => …)` time travel is DuckDB-only; read the version in Tessera instead',
          );
        }
        const parts = [ref.catalog_name, ref.schema_name, ref.table_name].filter(
          (part): part is string => typeof part === 'string' && part !== '',
        );
        return parts.map(postgresIdentifier).join('.') + this.tableAlias(ref);
      }
      case 'SUBQUERY':
        // PostgreSQL 15 wants an alias on every subquery in FROM; DuckDB names one without it so.
        return `(${this.query((ref.subquery as AstNode).node as AstNode)})${this.tableAlias(ref) || ' AS unnamed_subquery'}`;
      case 'JOIN':
        return this.join(ref);
      case 'EXPRESSION_LIST': {
        const rows = (ref.values as AstNode[][]).map(
          (row) => `(${row.map((v) => this.expression(v)).join(', ')})`,
        );
        return `(VALUES ${rows.join(', ')})${this.tableAlias(ref) || ' AS valueslist'}`;
      }
      case 'TABLE_FUNCTION': {
        const name = String((ref.function as AstNode | undefined)?.function_name ?? 'table function');
        return this.refuse(ref, name, `table function \`${name}\` is not portable; read a table`);
      }
      default:
        return this.refuse(ref, String(ref.type), `a ${String(ref.type)} table reference is DuckDB-only`);
    }
  }

  private join(ref: AstNode): string {
    const left = this.tableRef(ref.left as AstNode);
    const right = this.tableRef(ref.right as AstNode);
    const kinds: Record<string, string> = {
      INNER: 'JOIN',
      LEFT: 'LEFT JOIN',
      RIGHT: 'RIGHT JOIN',
      FULL: 'FULL JOIN',
      OUTER: 'FULL JOIN',
    };
    switch (ref.ref_type) {
      case 'CROSS':
        return `${left} CROSS JOIN ${right}`;
      case 'DEPENDENT':
        return `${left} CROSS JOIN LATERAL ${right}`;
      case 'NATURAL':
      case 'REGULAR': {
        const kind = kinds[String(ref.join_type)];
        if (!kind) {
          return this.refuse(
            ref,
            `${String(ref.join_type)} JOIN`,
            `\`${String(ref.join_type)} JOIN\` is DuckDB-only; use EXISTS / NOT EXISTS`,
          );
        }
        if (ref.ref_type === 'NATURAL') return `${left} NATURAL ${kind} ${right}`;
        const using = (ref.using_columns as string[] | undefined) ?? [];
        if (using.length > 0)
          return `${left} ${kind} ${right} USING (${using.map(postgresIdentifier).join(', ')})`;
        const condition = ref.condition ? this.expression(ref.condition as AstNode) : 'TRUE';
        return `${left} ${kind} ${right} ON ${condition}`;
      }
      default:
        return this.refuse(
          ref,
          `${String(ref.ref_type)} JOIN`,
          `\`${String(ref.ref_type)} JOIN\` is DuckDB-only`,
        );
    }
  }

  expression(node: AstNode): string {
    switch (node.class) {
      case 'COLUMN_REF':
        return this.columnRef(node);
      case 'CONSTANT':
        return this.constant(node);
      case 'CAST':
        return this.cast(node);
      case 'COMPARISON':
        return `(${this.expression(node.left as AstNode)} ${COMPARISONS[String(node.type)] ?? this.refuse(node, String(node.type), `comparison ${String(node.type)} has no PostgreSQL rendering`)} ${this.expression(node.right as AstNode)})`;
      case 'CONJUNCTION': {
        const operator = node.type === 'CONJUNCTION_AND' ? ' AND ' : ' OR ';
        return `(${(node.children as AstNode[]).map((c) => this.expression(c)).join(operator)})`;
      }
      case 'OPERATOR':
        return this.operator(node);
      case 'BETWEEN':
        return `(${this.expression(node.input as AstNode)} BETWEEN ${this.expression(node.lower as AstNode)} AND ${this.expression(node.upper as AstNode)})`;
      case 'CASE': {
        const checks = (node.case_checks as { when_expr: AstNode; then_expr: AstNode }[]).map(
          (check) => ` WHEN ${this.expression(check.when_expr)} THEN ${this.expression(check.then_expr)}`,
        );
        return `CASE${checks.join('')} ELSE ${this.expression(node.else_expr as AstNode)} END`;
      }
      case 'FUNCTION':
        return this.function(node);
      case 'WINDOW':
        return this.window(node);
      case 'SUBQUERY':
        return this.subquery(node);
      case 'STAR':
        return this.star(node);
      case 'LAMBDA':
        return this.refuse(node, '->', 'lambdas (`x -> …`) are DuckDB-only');
      case 'COLLATE':
        return this.refuse(
          node,
          'COLLATE',
          'collations differ between DuckDB and PostgreSQL; compare `lower(…)` instead',
        );
      case 'PARAMETER':
        return this.refuse(node, 'parameter', 'bind query parameters before rendering');
      default:
        return this.refuse(
          node,
          String(node.class),
          `a ${String(node.class)} expression has no PostgreSQL rendering`,
        );
    }
  }

  private columnRef(node: AstNode): string {
    const names = node.column_names as string[];
    if (names.length === 1 && VALUE_KEYWORDS.has(names[0]!.toLowerCase())) return names[0]!.toLowerCase();
    return names.map(postgresIdentifier).join('.');
  }

  private constant(node: AstNode): string {
    const value = node.value as {
      type: { id: string; type_info?: AstNode | null };
      is_null: boolean;
      value?: unknown;
    };
    if (value.is_null)
      return value.type.id === 'NULL' ? 'NULL' : `CAST(NULL AS ${this.type(value.type, node)})`;
    switch (value.type.id) {
      case 'VARCHAR':
        return stringLiteral(String(value.value));
      case 'INTEGER':
      case 'BIGINT':
      case 'SMALLINT':
      case 'TINYINT':
        return numberText(value.value);
      case 'HUGEINT':
      case 'UHUGEINT': {
        const parts = value.value as { upper: unknown; lower: unknown };
        const number = (BigInt(numberText(parts.upper)) << 64n) + BigInt(numberText(parts.lower));
        return number.toString();
      }
      case 'DECIMAL': {
        const scale = Number((value.type.type_info as { scale?: number } | null)?.scale ?? 0);
        return decimalText(value.value, scale);
      }
      case 'DOUBLE':
      case 'FLOAT':
        // PostgreSQL reads `1e3` and `1.5` as numeric; DuckDB's constant is a double.
        return `CAST(${stringLiteral(numberText(value.value))} AS ${TYPES[value.type.id]})`;
      case 'BOOLEAN':
        return value.value ? 'TRUE' : 'FALSE';
      default:
        return this.refuse(node, value.type.id, `a ${value.type.id} constant has no PostgreSQL rendering`);
    }
  }

  private type(type: { id: string; type_info?: AstNode | null }, node: AstNode): string {
    if (type.id === 'DECIMAL') {
      const info = type.type_info as { width: number; scale: number };
      return `numeric(${info.width},${info.scale})`;
    }
    if (type.id === 'LIST') {
      return `${this.type((type.type_info as AstNode).child_type as { id: string }, node)}[]`;
    }
    const spelled = TYPES[type.id];
    if (spelled) return spelled;
    return this.refuse(node, type.id, `type ${type.id} is DuckDB-only`);
  }

  private cast(node: AstNode): string {
    if (node.try_cast) {
      return this.refuse(
        node,
        'TRY_CAST',
        '`TRY_CAST` is DuckDB-only; test the value with CASE before casting',
      );
    }
    const type = node.cast_type as { id: string; type_info?: AstNode | null };
    return `CAST(${this.expression(node.child as AstNode)} AS ${this.type(type, node)})`;
  }

  private operator(node: AstNode): string {
    const children = (node.children as AstNode[] | undefined) ?? [];
    const printed = () => children.map((c) => this.expression(c));
    switch (node.type) {
      case 'OPERATOR_NOT': {
        const child = children[0]!;
        if (this.isInfixFullMatch(child, node)) {
          const [text, pattern] = this.regexOperands(child);
          return `(${text} !~ ${pattern})`;
        }
        return `(NOT ${this.expression(child)})`;
      }
      case 'OPERATOR_IS_NULL':
        return `(${this.expression(children[0]!)} IS NULL)`;
      case 'OPERATOR_IS_NOT_NULL':
        return `(${this.expression(children[0]!)} IS NOT NULL)`;
      case 'COMPARE_IN':
      case 'COMPARE_NOT_IN': {
        const [value, ...members] = printed();
        return `(${value} ${node.type === 'COMPARE_IN' ? 'IN' : 'NOT IN'} (${members.join(', ')}))`;
      }
      case 'OPERATOR_COALESCE':
        return `coalesce(${printed().join(', ')})`;
      case 'ARRAY_EXTRACT': {
        const [array, index] = printed();
        return `(${array})[${index}]`;
      }
      case 'ARRAY_SLICE': {
        const [array, from, to] = printed();
        if (children.length > 3) return this.refuse(node, '[::]', 'list slices with a step are DuckDB-only');
        return `(${array})[${from}:${to}]`;
      }
      case 'ARRAY_CONSTRUCTOR':
        return `ARRAY[${printed().join(', ')}]`;
      default:
        return this.refuse(node, String(node.type), `${String(node.type)} has no PostgreSQL rendering`);
    }
  }

  /**
   * True when a `regexp_full_match` node is DuckDB's parse of the infix `~` (its own offset lies
   * after its left operand's and close before the pattern), not a call of the function nor
   * `SIMILAR TO` (whose keywords put the pattern at least ten characters further). `!~` puts the
   * offset on the NOT node around it (`outer`).
   */
  private isInfixFullMatch(node: AstNode, outer?: AstNode): boolean {
    if (node.class !== 'FUNCTION' || node.function_name !== 'regexp_full_match' || node.schema) return false;
    const children = (node.children as AstNode[] | undefined) ?? [];
    if (children.length !== 2) return false;
    const at = (outer ? outer.query_location : node.query_location) as number | undefined;
    if (outer && node.query_location !== 0) return false;
    const left = locationOf(children[0]!);
    const right = children[1]!.query_location as number | undefined;
    if (at === undefined || left === undefined || right === undefined || at === 0) return false;
    return at > left && right > at && right - at < 10;
  }

  private regexOperands(node: AstNode): [string, string] {
    const [text, pattern] = node.children as AstNode[];
    return [this.expression(text!), this.expression(pattern!)];
  }

  private aggregateTail(node: AstNode, args: string): string {
    const orders = ((node.order_bys as AstNode | undefined)?.orders as AstNode[] | undefined) ?? [];
    const orderBy = orders.length > 0 ? ` ORDER BY ${this.orders(orders)}` : '';
    const filter = node.filter ? ` FILTER (WHERE ${this.expression(node.filter as AstNode)})` : '';
    return `(${node.distinct ? 'DISTINCT ' : ''}${args}${orderBy})${filter}`;
  }

  private function(node: AstNode): string {
    const name = String(node.function_name);
    const children = (node.children as AstNode[] | undefined) ?? [];
    const args = () => children.map((c) => this.expression(c));
    const schema = typeof node.schema === 'string' && node.schema !== '' ? node.schema : undefined;
    if (node.export_state) return this.refuse(node, 'EXPORT_STATE', '`EXPORT_STATE` is DuckDB-only');

    if (node.is_operator) {
      if (LIKE_OPERATORS[name]) {
        const [text, pattern] = children as [AstNode, AstNode];
        return `(${this.expression(text)} ${LIKE_OPERATORS[name]} ${this.expression(pattern)}${this.likeEscape(pattern)})`;
      }
      if (children.length === 1 && (name === '-' || name === '+'))
        return `(${name}${this.expression(children[0]!)})`;
      if (children.length === 2 && (BINARY_OPERATORS.has(name) || REGEX_OPERATORS.has(name))) {
        const [left, right] = args();
        return `(${left} ${name} ${right})`;
      }
      const hint =
        name === '//'
          ? '; write `floor(a / b)` over integers, or `div(a, b)` on PostgreSQL'
          : name === '~~~'
            ? '; write `LIKE` with `%` and `_`'
            : '';
      return this.refuse(node, name, `operator \`${name}\` is DuckDB-only${hint}`);
    }

    if (name === 'regexp_full_match' && !schema) {
      if (this.isInfixFullMatch(node)) {
        const [text, pattern] = this.regexOperands(node);
        return `(${text} ~ ${pattern})`;
      }
      return this.refuse(
        node,
        'regexp_full_match',
        '`regexp_full_match` (or `SIMILAR TO`, which DuckDB reads as it) is DuckDB-only; anchor a PostgreSQL `~` pattern with `^…$` instead',
      );
    }
    if (name === 'count_star' && children.length === 0 && !schema) {
      return `count(*)${node.filter ? ` FILTER (WHERE ${this.expression(node.filter as AstNode)})` : ''}`;
    }
    if (LIKE_ESCAPE_FUNCTIONS[name] && children.length === 3) {
      const [text, pattern, escape] = args();
      return `(${text} ${LIKE_ESCAPE_FUNCTIONS[name]} ${pattern} ESCAPE ${escape})`;
    }
    if (INTERVAL_FUNCTIONS[name] && children.length === 1 && !schema) {
      const unit = INTERVAL_FUNCTIONS[name];
      const argument = args()[0]!;
      return `make_interval(${unit} => ${unit === 'secs' ? argument : `CAST(${argument} AS integer)`})`;
    }
    if (name === 'timezone' && children.length === 2) {
      const [zone, value] = args();
      return `(${value} AT TIME ZONE ${zone})`;
    }
    if (schema === 'main') return this.parserFunction(node, name, children);

    const qualified = schema ? `${postgresIdentifier(schema)}.` : '';
    return `${qualified}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : postgresIdentifier(name)}${this.aggregateTail(node, args().join(', '))}`;
  }

  /** `LIKE` has no escape character in DuckDB; PostgreSQL's default is backslash, so say there is none. */
  private likeEscape(pattern: AstNode): string {
    const value = pattern.class === 'CONSTANT' ? (pattern.value as { value?: unknown }).value : undefined;
    return typeof value === 'string' && !value.includes('\\') ? '' : " ESCAPE ''";
  }

  /** Functions DuckDB's parser writes for SQL syntax (`schema: main`): the syntax they came from. */
  private parserFunction(node: AstNode, name: string, children: AstNode[]): string {
    const args = children.map((c) => this.expression(c));
    switch (name) {
      case 'date_part': {
        const field =
          children[0]?.class === 'CONSTANT' ? (children[0].value as { value?: unknown }).value : undefined;
        if (children.length === 2 && typeof field === 'string' && /^[a-z_]+$/i.test(field)) {
          return `extract(${field} FROM ${args[1]})`;
        }
        return `date_part(${args.join(', ')})`;
      }
      case 'position':
        return `position(${args[1]} IN ${args[0]})`;
      case 'substring':
        return `substring(${args[0]} FROM ${args[1]}${args[2] ? ` FOR ${args[2]}` : ''})`;
      case 'trim':
      case 'ltrim':
      case 'rtrim': {
        const side = { trim: 'BOTH', ltrim: 'LEADING', rtrim: 'TRAILING' }[name];
        return args.length === 2
          ? `trim(${side} ${args[1]} FROM ${args[0]})`
          : `trim(${side} FROM ${args[0]})`;
      }
      case 'row':
        return `ROW(${args.join(', ')})`;
      case 'list_value':
        return this.refuse(
          node,
          '[…]',
          'lists (`[1, 2]`) are DuckDB-only; with a PostgreSQL engine write `x IN (1, 2)` or `ARRAY[1, 2]`',
        );
      case 'struct_pack':
        return this.refuse(node, '{…}', "structs (`{'a': 1}`) are DuckDB-only");
      default:
        return this.refuse(
          node,
          name,
          `\`${name}\` (DuckDB's reading of SQL syntax) has no PostgreSQL rendering`,
        );
    }
  }

  private window(node: AstNode): string {
    const name = String(node.function_name);
    const children = (node.children as AstNode[] | undefined) ?? [];
    if (node.ignore_nulls) this.refuse(node, 'IGNORE NULLS', '`IGNORE NULLS` is DuckDB-only');
    if (node.exclude_clause && node.exclude_clause !== 'NO_OTHER') {
      this.refuse(node, 'EXCLUDE', 'window frame `EXCLUDE` has no PostgreSQL rendering here');
    }
    if ((node.arg_orders as AstNode[] | undefined)?.length) {
      this.refuse(node, 'ORDER BY', 'ORDER BY inside a window function call is DuckDB-only');
    }
    const args = children.map((c) => this.expression(c));
    if (node.offset_expr) args.push(this.expression(node.offset_expr as AstNode));
    if (node.default_expr) args.push(this.expression(node.default_expr as AstNode));
    const call =
      // DuckDB writes `count(*) OVER (…)` as a window `count` without arguments.
      (name === 'count_star' || name === 'count') && children.length === 0
        ? 'count(*)'
        : `${name}(${node.distinct ? 'DISTINCT ' : ''}${args.join(', ')})`;
    const filter = node.filter_expr ? ` FILTER (WHERE ${this.expression(node.filter_expr as AstNode)})` : '';
    const over: string[] = [];
    const partitions = (node.partitions as AstNode[] | undefined) ?? [];
    if (partitions.length) over.push(`PARTITION BY ${partitions.map((p) => this.expression(p)).join(', ')}`);
    const orders = (node.orders as AstNode[] | undefined) ?? [];
    if (orders.length) over.push(`ORDER BY ${this.orders(orders)}`);
    const frame = this.frame(node);
    if (frame) over.push(frame);
    return `${call}${filter} OVER (${over.join(' ')})`;
  }

  private frame(node: AstNode): string {
    const start = String(node.start);
    const end = String(node.end);
    if (start === 'UNBOUNDED_PRECEDING' && end === 'CURRENT_ROW_RANGE') return '';
    const mode = [start, end].map((b) => /_(ROWS|RANGE|GROUPS)$/.exec(b)?.[1]).find(Boolean) ?? 'RANGE';
    const bound = (boundary: string, expression: unknown) => {
      if (boundary === 'UNBOUNDED_PRECEDING') return 'UNBOUNDED PRECEDING';
      if (boundary === 'UNBOUNDED_FOLLOWING') return 'UNBOUNDED FOLLOWING';
      if (boundary.startsWith('CURRENT_ROW')) return 'CURRENT ROW';
      const direction = boundary.startsWith('EXPR_PRECEDING') ? 'PRECEDING' : 'FOLLOWING';
      return `${this.expression(expression as AstNode)} ${direction}`;
    };
    return `${mode} BETWEEN ${bound(start, node.start_expr)} AND ${bound(end, node.end_expr)}`;
  }

  private subquery(node: AstNode): string {
    const query = this.query((node.subquery as AstNode).node as AstNode);
    switch (node.subquery_type) {
      case 'SCALAR':
        return `(${query})`;
      case 'EXISTS':
        return `EXISTS (${query})`;
      case 'NOT_EXISTS':
        return `NOT EXISTS (${query})`;
      case 'ANY': {
        const child = this.expression(node.child as AstNode);
        if (node.comparison_type === 'COMPARE_EQUAL') return `(${child} IN (${query}))`;
        const operator = COMPARISONS[String(node.comparison_type)];
        if (!operator)
          return this.refuse(node, 'ANY', `${String(node.comparison_type)} ANY has no PostgreSQL rendering`);
        return `(${child} ${operator} ANY (${query}))`;
      }
      default:
        return this.refuse(
          node,
          String(node.subquery_type),
          `a ${String(node.subquery_type)} subquery has no PostgreSQL rendering`,
        );
    }
  }

  private star(node: AstNode): string {
    if (node.columns) {
      return this.refuse(node, 'COLUMNS(…)', '`COLUMNS(…)` is DuckDB-only; list the columns');
    }
    if (
      (node.exclude_list as unknown[] | undefined)?.length ||
      (node.qualified_exclude_list as unknown[] | undefined)?.length
    ) {
      return this.refuse(node, '* EXCLUDE', '`* EXCLUDE (…)` is DuckDB-only; list the columns to keep');
    }
    if ((node.replace_list as unknown[] | undefined)?.length) {
      return this.refuse(node, '* REPLACE', '`* REPLACE (…)` is DuckDB-only; list the columns');
    }
    if ((node.rename_list as unknown[] | undefined)?.length) {
      return this.refuse(node, '* RENAME', '`* RENAME (…)` is DuckDB-only; list the columns with aliases');
    }
    if (node.expr) return this.refuse(node, '*', 'this `*` form is DuckDB-only');
    const relation =
      typeof node.relation_name === 'string' && node.relation_name !== '' ? node.relation_name : undefined;
    return relation ? `${postgresIdentifier(relation)}.*` : '*';
  }
}
