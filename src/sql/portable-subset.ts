import { isAstNode, isExpressionNode, type AstNode } from './ast-node.ts';
import { PORTABLE_EXTRACT_FIELDS, locationOf, postgresRefusals } from './postgres-rendering.ts';
import { parseSql } from './sql-parser.ts';

/**
 * The portable subset: SQL that gives the same rows on DuckDB and on PostgreSQL once rendered with
 * `renderForPostgres`. Projection SQL of a project whose engine is PostgreSQL must stay inside it
 * (`tessera validate` reports `non-portable-sql`). docs/engines.md lists it; every function here is
 * run on both engines by test/sql/postgres-rendering.test.ts.
 */

/** Functions (lower-case names) that give the same result on DuckDB and PostgreSQL 15. */
export const PORTABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'bool_and',
  'bool_or',
  'string_agg',
  // window functions
  'row_number',
  'rank',
  'dense_rank',
  'lag',
  'lead',
  'first_value',
  'last_value',
  'ntile',
  // scalars
  'coalesce',
  'nullif',
  'upper',
  'lower',
  'length',
  'trim',
  'ltrim',
  'rtrim',
  'substring',
  'substr',
  'replace',
  'concat',
  'left',
  'right',
  'lpad',
  'rpad',
  'strpos',
  'split_part',
  'md5',
  'abs',
  'ceil',
  'ceiling',
  'floor',
  'sign',
  'sqrt',
  'greatest',
  'least',
  'make_date',
  'date_part',
  'extract',
  'position',
]);

/** What to write instead of some DuckDB-only functions, for the message. */
const INSTEAD: Record<string, string> = {
  list_contains: 'use `x IN (…)`',
  array_contains: 'use `x IN (…)`',
  list_has: 'use `x IN (…)`',
  contains: 'use `strpos(text, part) > 0`',
  len: 'use `length(text)`',
  strftime: 'format the value where it is read, or use `extract(… FROM …)`',
  strptime: 'use `CAST(text AS TIMESTAMP)` for ISO-8601 text',
  regexp_matches: 'use `LIKE`',
  regexp_extract: 'use `substring`/`split_part`, or `LIKE` to test',
  epoch_ms: 'use `extract(epoch …)` on one engine only, or keep the timestamp',
  datediff: 'subtract dates (`d1 - d2` gives days on both) or compare `extract(year …)`',
  date_diff: 'subtract dates (`d1 - d2` gives days on both) or compare `extract(year …)`',
  year: 'use `extract(year FROM …)`',
  month: 'use `extract(month FROM …)`',
  day: 'use `extract(day FROM …)`',
  round:
    'write `CAST(x AS DECIMAL(p, s))` instead (the engines round a DOUBLE differently; on a DOUBLE even the cast may round an exact half either way, so keep money as DECIMAL)',
  now: 'each engine reads the clock in its own time zone; pass the time in',
  date_trunc:
    'on a DATE DuckDB returns a DATE and PostgreSQL a TIMESTAMPTZ; compare `extract(…)` fields instead',
  list_value: 'use `x IN (…)`',
};

/** One construct outside the portable subset, at 1-based `line` and `column` of the SQL text. */
export interface NonPortableConstruct {
  /** What is not portable and, when there is an obvious answer, what to write instead. */
  message: string;
  line: number;
  column: number;
}

/**
 * Every construct of `sql` outside the portable subset: functions not in `PORTABLE_FUNCTIONS`, table
 * functions, DuckDB-only syntax (`* EXCLUDE`, `COLUMNS(…)`, lists, structs, `QUALIFY`, lambdas,
 * `AT (VERSION => …)`…), operators that differ (`~`, `/` between integers), and anything
 * `renderForPostgres` refuses; in text order. SQL that does not parse gives none (its parse error
 * is reported where SQL is parsed). `timeTravel`: the caller resolves `AT (VERSION => …)` on
 * catalog tables itself (the governed read path does), so AT clauses are no finding.
 * `substituted`: functions the caller replaces by constants before the SQL runs (a row filter's
 * `principal_attr`, `principal_name`), so they are no finding either.
 */
export async function nonPortableConstructs(
  sql: string,
  options: { timeTravel?: boolean; substituted?: ReadonlySet<string> } = {},
): Promise<NonPortableConstruct[]> {
  let statements;
  try {
    statements = await parseSql(sql);
  } catch {
    return [];
  }
  const found: { message: string; offset: number }[] = [];
  const report = (node: AstNode, message: string) => {
    const name = node.class === 'FUNCTION' ? String(node.function_name).toLowerCase() : undefined;
    if (name !== undefined && options.substituted?.has(name)) return;
    found.push({ message, offset: locationOf(node) ?? 0 });
  };
  for (const statement of statements) {
    for (const refusal of postgresRefusals(statement.node)) {
      if (options.timeTravel && refusal.construct === 'AT') continue;
      report(refusal.node, refusal.message);
    }
    walk(statement.node, undefined, report);
  }
  const seen = new Set<string>();
  return found
    .sort((a, b) => a.offset - b.offset)
    .map(({ message, offset }) => ({ message, ...lineAndColumn(sql, offset) }))
    .filter((finding) => {
      const key = `${finding.line}:${finding.column}:${finding.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** DuckDB's offsets count UTF-8 bytes. */
function lineAndColumn(sql: string, offset: number): { line: number; column: number } {
  const before = Buffer.from(sql, 'utf8').subarray(0, offset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

type Report = (node: AstNode, message: string) => void;

function walk(value: unknown, parent: AstNode | undefined, report: Report): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, parent, report);
    return;
  }
  if (!isAstNode(value)) return;
  if (isExpressionNode(value)) checkExpression(value, parent, report);
  // `INTERVAL n UNIT` is `to_days(CAST(trunc(CAST(n AS DOUBLE)) AS INTEGER))`: only `n` is the user's.
  const intervalNumber = intervalOperand(value);
  if (intervalNumber) return walk(intervalNumber, value, report);
  for (const [key, child] of Object.entries(value)) {
    // A table function is reported once, as a table function (renderForPostgres refuses it).
    if (value.type === 'TABLE_FUNCTION' && key === 'function') continue;
    walk(child, value, report);
  }
}

/** The number inside DuckDB's reading of `INTERVAL n UNIT`, when `node` is one. */
function intervalOperand(node: AstNode): AstNode | undefined {
  if (
    node.class !== 'FUNCTION' ||
    !/^to_(years|months|weeks|days|hours|minutes|seconds)$/.test(String(node.function_name))
  ) {
    return undefined;
  }
  let operand = (node.children as AstNode[] | undefined)?.[0];
  if (operand?.class === 'CAST') operand = operand.child as AstNode;
  if (operand?.class === 'FUNCTION' && operand.function_name === 'trunc') {
    operand = (operand.children as AstNode[] | undefined)?.[0];
  }
  if (operand?.class === 'CAST') operand = operand.child as AstNode;
  return operand;
}

const PORTABLE_OPERATORS = new Set(['+', '-', '*', '%', '||', '~~', '!~~', '~~*', '!~~*']);

/** Functions DuckDB's parser writes for syntax that is portable as written. */
const PORTABLE_PARSER_FUNCTIONS = new Set([
  'count_star',
  'like_escape',
  'not_like_escape',
  'ilike_escape',
  'not_ilike_escape',
  'to_years',
  'to_months',
  'to_weeks',
  'to_days',
  'to_hours',
  'to_minutes',
  'to_seconds',
]);

const VALUE_KEYWORDS = new Set([
  'current_date',
  'current_timestamp',
  'current_time',
  'localtime',
  'localtimestamp',
]);

function checkExpression(node: AstNode, parent: AstNode | undefined, report: Report): void {
  switch (node.class) {
    case 'FUNCTION':
      return checkFunction(node, parent, report);
    case 'WINDOW': {
      const name = String(node.function_name).toLowerCase();
      if (name !== 'count_star' && !PORTABLE_FUNCTIONS.has(name)) report(node, functionMessage(name));
      return;
    }
    case 'OPERATOR':
      if (node.type === 'ARRAY_EXTRACT' || node.type === 'ARRAY_SLICE' || node.type === 'ARRAY_CONSTRUCTOR') {
        report(
          node,
          'lists and subscripts (`x[1]`, `[1, 2]`) differ between DuckDB and PostgreSQL; keep lists out of projection SQL',
        );
      }
      return;
    case 'COLUMN_REF': {
      const names = node.column_names as string[];
      if (names.length === 1 && VALUE_KEYWORDS.has(names[0]!.toLowerCase())) {
        report(
          node,
          `\`${names[0]!.toLowerCase()}\` is read in each engine's own time zone; pass the date or time in as a literal`,
        );
      }
      return;
    }
    default:
      return;
  }
}

function checkFunction(node: AstNode, parent: AstNode | undefined, report: Report): void {
  const name = String(node.function_name).toLowerCase();
  const children = (node.children as AstNode[] | undefined) ?? [];
  if (node.is_operator) {
    if (name === '/') {
      const castToDouble = children.some(
        (child) => child.class === 'CAST' && (child.cast_type as { id?: string }).id === 'DOUBLE',
      );
      if (!castToDouble) {
        report(
          node,
          '`/` divides integers differently (DuckDB: 1/2 = 0.5, PostgreSQL: 1/2 = 0); write `CAST(a AS DOUBLE) / b`',
        );
      }
      return;
    }
    if (!PORTABLE_OPERATORS.has(name)) {
      const hint =
        name === '~*' || name === '!~*'
          ? '; use `lower(x) LIKE …`'
          : name === '//'
            ? '; write `floor(CAST(a AS DOUBLE) / b)`'
            : '';
      report(node, `operator \`${name}\` is not portable between DuckDB and PostgreSQL${hint}`);
    }
    return;
  }
  if (name === 'regexp_full_match' && !node.schema) {
    const infixNot = parent?.type === 'OPERATOR_NOT' && node.query_location === 0;
    report(
      infixNot ? parent! : node,
      '`~` is a whole-text match in DuckDB and a partial match in PostgreSQL (and `SIMILAR TO` differs too); use `LIKE`',
    );
    return;
  }
  if (node.schema === 'main') {
    if (name === 'date_part') {
      const field =
        children[0]?.class === 'CONSTANT' ? (children[0].value as { value?: unknown }).value : undefined;
      if (typeof field !== 'string' || !PORTABLE_EXTRACT_FIELDS.has(field.toLowerCase())) {
        report(
          node,
          `\`extract(${String(field)} …)\` differs between DuckDB and PostgreSQL; portable fields: ${[...PORTABLE_EXTRACT_FIELDS].join(', ')}`,
        );
      }
      return;
    }
    if (['position', 'substring', 'trim', 'ltrim', 'rtrim'].includes(name)) return;
    // list_value, struct_pack, …: renderForPostgres refuses them with their own message.
    if (['list_value', 'struct_pack'].includes(name)) return;
    report(node, functionMessage(name));
    return;
  }
  if (name === 'date_part') {
    const field =
      children[0]?.class === 'CONSTANT' ? (children[0].value as { value?: unknown }).value : undefined;
    if (typeof field !== 'string' || !PORTABLE_EXTRACT_FIELDS.has(field.toLowerCase())) {
      report(
        node,
        `\`date_part(${String(field)}, …)\` differs between DuckDB and PostgreSQL; portable fields: ${[...PORTABLE_EXTRACT_FIELDS].join(', ')}`,
      );
    }
    return;
  }
  if (PORTABLE_PARSER_FUNCTIONS.has(name) || PORTABLE_FUNCTIONS.has(name)) return;
  report(node, functionMessage(name));
}

function functionMessage(name: string): string {
  const instead =
    INSTEAD[name] ??
    (name.startsWith('list_') || name.startsWith('array_') ? 'use `x IN (…)` or a join' : undefined);
  const what = `\`${name}\` is not portable between DuckDB and PostgreSQL`;
  return instead
    ? `${what}; with a PostgreSQL engine ${instead}`
    : `${what} (the portable functions are listed in docs/engines.md)`;
}
