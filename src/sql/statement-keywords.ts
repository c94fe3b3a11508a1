/**
 * The leading keyword of each statement in a SQL text, for error messages only
 * ("`COPY` is refused"). DuckDB's serializer refuses non-SELECT statements without saying which
 * one it met; this small lexer finds it. Security decisions never rest on it: the parser does.
 */

/** Keywords that start a read-only query DuckDB serializes. */
export const QUERY_KEYWORDS: ReadonlySet<string> = new Set([
  'SELECT',
  'WITH',
  'FROM',
  'VALUES',
  'TABLE',
  '(',
]);

/**
 * The first word of every statement in `sql`, uppercased, skipping comments, string literals and
 * quoted identifiers; `(` stands for a parenthesised query. Empty statements are skipped.
 */
export function statementKeywords(sql: string): string[] {
  const keywords: string[] = [];
  let expectKeyword = true;
  let index = 0;
  while (index < sql.length) {
    const char = sql[index]!;
    const next = sql[index + 1];
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? sql.length : end + 1;
    } else if (char === '/' && next === '*') {
      index = skipBlockComment(sql, index);
    } else if (char === ';') {
      expectKeyword = true;
      index += 1;
    } else if (char === "'" || char === '"') {
      expectKeyword = false;
      index = skipQuoted(sql, index, char);
    } else if (char === '$') {
      expectKeyword = false;
      index = skipDollarQuoted(sql, index);
    } else {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(index))?.[0] ?? char;
      if (expectKeyword) keywords.push(word.toUpperCase());
      expectKeyword = false;
      index += word.length;
    }
  }
  return keywords;
}

/** The first statement keyword that does not start a query, e.g. `COPY`; undefined if all do. */
export function firstNonQueryKeyword(sql: string): string | undefined {
  return statementKeywords(sql).find((keyword) => !QUERY_KEYWORDS.has(keyword));
}

function skipBlockComment(sql: string, start: number): number {
  // DuckDB (like PostgreSQL) nests block comments.
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth += 1;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  return sql.length;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) index += 2;
      else return index + 1;
    } else {
      index += 1;
    }
  }
  return sql.length;
}

function skipDollarQuoted(sql: string, start: number): number {
  const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(start))?.[0];
  if (!tag) return start + 1;
  const end = sql.indexOf(tag, start + tag.length);
  return end === -1 ? sql.length : end + tag.length;
}
