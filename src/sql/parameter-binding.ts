/**
 * Bind `$1…$n` placeholders into SQL text as literals, before the SQL guard sees the statement.
 *
 * Why literals and not engine-side prepared parameters: the guard judges and rewrites the exact
 * statement that will run, and the audit log records it; a value spliced in as a quoted literal
 * can never change the statement's shape (it is one token the guard then inspects like any other),
 * so binding first keeps "the guard sees what runs" true. Strings become string literals, which
 * take their type from where they are used (`birth_date > $1` compares dates), the way PostgreSQL
 * types a parameter sent without a type.
 */
import { UsageError } from '../diagnostics/errors.ts';

export type ParameterValue = string | number | bigint | boolean | null | Uint8Array | Date;

/** The highest `$n` the statement uses (0 when none): the parameters a client must send. */
export function parameterCount(sql: string): number {
  let highest = 0;
  scanPlaceholders(sql, (number) => {
    highest = Math.max(highest, number);
    return undefined;
  });
  return highest;
}

/**
 * `sql` with each `$n` outside strings, quoted identifiers and comments replaced by the literal of
 * `values[n - 1]`. A placeholder without a value is a `UsageError`; values past the highest
 * placeholder are ignored (drivers send what they were given).
 */
export function bindParameters(sql: string, values: readonly ParameterValue[]): string {
  return scanPlaceholders(sql, (number) => {
    if (number < 1 || number > values.length) {
      throw new UsageError(
        `the statement uses $${number} but ${values.length} parameter(s) were sent; send one value per placeholder`,
      );
    }
    return sqlLiteral(values[number - 1]!);
  });
}

/** One value as a SQL literal. */
export function sqlLiteral(value: ParameterValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `'${value}'::DOUBLE`;
    // Parenthesized when negative: `a -$1` must not become the comment `a --5`.
    return value < 0 || Object.is(value, -0) ? `(${value})` : String(value);
  }
  if (value instanceof Date) return quote(value.toISOString());
  if (value instanceof Uint8Array) {
    return `'${Array.from(value, (byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}'::BLOB`;
  }
  return quote(value);
}

function quote(text: string): string {
  if (text.includes('\u0000')) {
    throw new UsageError('a text parameter cannot contain the NUL character (\\0); send it as bytes');
  }
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Walk `sql`, skipping string literals ('…', E'…' with backslash escapes, $tag$…$tag$), quoted
 * identifiers and comments (nested block comments too), and call `replace` for each `$n`. Returns
 * the text with each placeholder replaced by what `replace` returned (left as is for undefined).
 */
function scanPlaceholders(sql: string, replace: (number: number) => string | undefined): string {
  let out = '';
  let copiedUpTo = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const char = sql[i]!;
    if (char === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !isIdentifierChar(sql[i - 2]);
      i = skipQuoted(sql, i, "'", escapes);
    } else if (char === '"') {
      i = skipQuoted(sql, i, '"', false);
    } else if (char === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (char === '/' && sql[i + 1] === '*') {
      i = skipBlockComment(sql, i);
    } else if (char === '$' && !isIdentifierChar(sql[i - 1])) {
      const digits = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (digits) {
        const replacement = replace(Number(digits[1]));
        const end = i + digits[0].length;
        if (replacement !== undefined) {
          out += sql.slice(copiedUpTo, i) + replacement;
          copiedUpTo = end;
        }
        i = end;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
      } else {
        i += 1;
      }
    } else {
      i += 1;
    }
  }
  return copiedUpTo === 0 ? sql : out + sql.slice(copiedUpTo);
}

function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_$]/.test(char);
}

/** Index just past the closing quote (a doubled quote is part of the text). */
function skipQuoted(sql: string, start: number, quoteChar: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const char = sql[i]!;
    if (backslashEscapes && char === '\\') {
      i += 2;
      continue;
    }
    if (char === quoteChar) {
      if (sql[i + 1] === quoteChar) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}
