import {
  DuckDBInstance,
  LIST,
  VARCHAR,
  type DuckDBListValue,
  type DuckDBPreparedStatement,
} from '@duckdb/node-api';
import { QueryError } from '../diagnostics/errors.ts';
import type { AstNode } from './ast-node.ts';
import { firstNonQueryKeyword } from './statement-keywords.ts';
import { visitBaseTables } from './table-reference-walker.ts';

export type { AstNode } from './ast-node.ts';

/**
 * SQL text ↔ AST with DuckDB's own parser (`json_serialize_sql`), in a private in-memory
 * database that never sees data. Only SELECT statements serialize; anything else is an error.
 */

export interface ParsedStatement {
  /** The statement's root node (`SELECT_NODE`, `SET_OPERATION_NODE`, ...). */
  node: AstNode;
  /** The whole serialized document, to hand back to `deserializeSql`. */
  document: AstNode;
}

interface Parser {
  serialize: DuckDBPreparedStatement;
  serializeMany: DuckDBPreparedStatement;
  deserialize: DuckDBPreparedStatement;
}

let parser: Promise<Parser> | undefined;
/** The tail of the queue of calls on the parser's prepared statements: a binding is not safe to share. */
let parserQueue: Promise<unknown> = Promise.resolve();

/**
 * Run `work` on the parser alone. The two statements are prepared once: every query that reaches
 * governance is parsed and deserialized, and preparing each time cost twice as much as the work.
 */
function withParser<T>(work: (parser: Parser) => Promise<T>): Promise<T> {
  parser ??= DuckDBInstance.create(':memory:', { threads: '1' }).then(async (db) => {
    const connection = await db.connect();
    return {
      serialize: await connection.prepare('SELECT json_serialize_sql($1::VARCHAR) AS ast'),
      serializeMany: await connection.prepare(
        'SELECT list_transform($1::VARCHAR[], sql -> json_serialize_sql(sql)::VARCHAR) AS asts',
      ),
      deserialize: await connection.prepare('SELECT json_deserialize_sql($1::JSON) AS sql'),
    };
  });
  const result = parserQueue.then(async () => work(await parser!));
  parserQueue = result.catch(() => undefined);
  return result;
}

/**
 * Serialized ASTs by SQL text (parsing is pure): secure relations and row filters repeat on every
 * query, and a catalog repo's projections are parsed by several passes (lint, graph, lineage).
 * Least recently used first (a Map keeps insertion order; a hit moves the entry to the end).
 */
const serializedCache = new Map<string, string>();
/** The bound on the cache, in characters held (SQL and AST), whatever the entry count. */
const SERIALIZED_CACHE_CHARACTERS = 32_000_000;
let serializedCacheCharacters = 0;

function cachedSerialization(sql: string): string | undefined {
  const cached = serializedCache.get(sql);
  if (cached === undefined) return undefined;
  serializedCache.delete(sql);
  serializedCache.set(sql, cached);
  return cached;
}

function rememberSerialization(sql: string, serialized: string): void {
  const size = sql.length + serialized.length;
  if (size > SERIALIZED_CACHE_CHARACTERS || serializedCache.has(sql)) return;
  for (const [oldest, text] of serializedCache) {
    if (serializedCacheCharacters + size <= SERIALIZED_CACHE_CHARACTERS) break;
    serializedCache.delete(oldest);
    serializedCacheCharacters -= oldest.length + text.length;
  }
  serializedCache.set(sql, serialized);
  serializedCacheCharacters += size;
}

/**
 * The serialized AST of `sql` if it is in the parse cache, without parsing: a caller that keeps
 * parses across processes (the definitions cache) saves it. Opaque text, for `primeParse` only.
 */
export function cachedParse(sql: string): string | undefined {
  return serializedCache.get(sql);
}

/**
 * Put a parse saved by `cachedParse` (from the same Tessera and DuckDB) back in the parse cache,
 * so `parseSql(sql)` needs no parser. The caller vouches that it is intact (a checksum).
 */
export function primeParse(sql: string, serialized: string): void {
  rememberSerialization(sql, serialized);
}

/**
 * Parse many SQL texts in one call to the parser and keep them in the parse cache, so that the
 * `parseSql` of each that follows needs no parser: a catalog repo's thousands of projections cost
 * one query instead of one each. Texts already cached are skipped, and texts another call is
 * parsing are waited for, not parsed twice: a caller may start parsing early (while it does other
 * work) and a later call for the same texts only waits. What is kept is exactly what `parseSql`
 * would have kept (SQL that does not parse included: its document carries the error).
 */
export async function prepareParses(sqls: Iterable<string>): Promise<void> {
  const wanted = [...new Set(sqls)].filter((sql) => !serializedCache.has(sql));
  const missing = wanted.filter((sql) => !parsesInFlight.has(sql));
  for (let start = 0; start < missing.length; start += PREPARE_BATCH) {
    const batch = missing.slice(start, start + PREPARE_BATCH);
    const parsed = parseBatch(batch);
    for (const sql of batch) parsesInFlight.set(sql, parsed);
    // Settled either way: a failed batch is parsed again by the next call that wants it.
    const settle = () =>
      batch.forEach((sql) => parsesInFlight.get(sql) === parsed && parsesInFlight.delete(sql));
    parsed.then(settle, settle);
  }
  await Promise.all(new Set(wanted.flatMap((sql) => parsesInFlight.get(sql) ?? [])));
}

/** Batches of `prepareParses` not answered yet, by each SQL text they hold. */
const parsesInFlight = new Map<string, Promise<void>>();

async function parseBatch(batch: string[]): Promise<void> {
  const texts = await withParser(async ({ serializeMany }) => {
    serializeMany.bindList(1, batch, LIST(VARCHAR));
    const reader = await serializeMany.runAndReadAll();
    return (reader.getRows()[0]![0] as DuckDBListValue).items.map(String);
  });
  if (texts.length !== batch.length) throw new Error('the parser answered a batch with a different count');
  batch.forEach((sql, index) => rememberSerialization(sql, protectSerialization(texts[index]!)));
}

/** SQL texts per call of `prepareParses`: bounded so that one call never holds an unbounded result. */
const PREPARE_BATCH = 1_000;

async function serialize(sql: string): Promise<string> {
  const cached = cachedSerialization(sql);
  if (cached !== undefined) return cached;
  const text = await withParser(async ({ serialize }) => {
    serialize.bindVarchar(1, sql);
    const reader = await serialize.runAndReadAll();
    return String(reader.getRows()[0]![0]);
  });
  const protectedText = protectSerialization(text);
  rememberSerialization(sql, protectedText);
  return protectedText;
}

function protectSerialization(text: string): string {
  // Nodes without a position carry uint64 max, which a JS number cannot hold exactly (and the
  // deserializer then rejects); they carry no information, so zero them.
  return protectNumbers(text.replaceAll('"query_location":18446744073709551615', '"query_location":0'));
}

/**
 * Parse SQL text into statements. Throws `QueryError` with DuckDB's message when it does not
 * parse, and "only SELECT and WITH queries are allowed; `COPY` is refused" for anything that is
 * not a query (DuckDB's serializer only accepts SELECT statements). Every call returns a fresh
 * document: callers may edit it.
 */
export async function parseSql(sql: string): Promise<ParsedStatement[]> {
  const document = JSON.parse(await serialize(sql)) as AstNode;
  if (document.error) {
    const message = String(document.error_message ?? 'SQL does not parse');
    if (/only select statements/i.test(message)) {
      const keyword = firstNonQueryKeyword(sql);
      throw new QueryError(
        `only SELECT and WITH queries are allowed${keyword ? `; \`${keyword}\` is refused` : ''}`,
        sql,
      );
    }
    throw new QueryError(message, sql);
  }
  const statements = document.statements as { node: AstNode }[];
  return statements.map((statement) => ({
    node: statement.node,
    document: { ...document, statements: [statement] },
  }));
}

/** Parse SQL text that must hold exactly one query; more than one (`SELECT 1; SELECT 2`) is a `QueryError`. */
export async function parseSingleStatement(sql: string): Promise<ParsedStatement> {
  const statements = await parseSql(sql);
  if (statements.length !== 1) {
    throw new QueryError(
      statements.length === 0
        ? 'the SQL holds no statement'
        : `only one statement per query is allowed; this SQL holds ${statements.length}`,
      sql,
    );
  }
  return statements[0]!;
}

/** Turn an (edited) serialized AST back into SQL text. */
export async function deserializeSql(document: AstNode): Promise<string> {
  const json = restoreNumbers(JSON.stringify(document));
  return withParser(async ({ deserialize }) => {
    deserialize.bindVarchar(1, json);
    const reader = await deserialize.runAndReadAll();
    return String(reader.getRows()[0]![0]);
  });
}

export interface TableReference {
  /** `schema.table` as written, lowercased; a bare `table` when unqualified. */
  name: string;
  /** `AT (VERSION => n)` / `AT (TIMESTAMP => ...)`, when present. */
  at?: { unit: 'VERSION' | 'TIMESTAMP'; expression: AstNode };
}

/**
 * Every base table a statement reads, excluding names bound by its CTEs (at the scope where
 * they are visible, see `visitBaseTables`). Table functions are not tables and are not listed.
 */
export function referencedTables(node: AstNode): TableReference[] {
  const found: TableReference[] = [];
  visitBaseTables(node, (table) => {
    if (!table.boundToCte) found.push(tableReferenceOf(table.node, table.name));
  });
  return found;
}

/** The `TableReference` of one BASE_TABLE node. */
export function tableReferenceOf(node: AstNode, name: string): TableReference {
  const atClause = node.at_clause as { unit: string; expr: AstNode } | null | undefined;
  return {
    name,
    ...(atClause
      ? { at: { unit: atClause.unit.toUpperCase() as 'VERSION' | 'TIMESTAMP', expression: atClause.expr } }
      : {}),
  };
}

/**
 * JSON numbers a JS number cannot carry through a round trip: integers beyond 2^53 lose digits,
 * and DuckDB's deserializer rejects `10` where it wrote the double `10.0`. Such tokens become
 * marker strings in the parsed AST (`"\u0000number:10.0"`) and are written back verbatim by
 * `deserializeSql`. Small integers stay numbers.
 */
const NUMBER_MARKER = '\u0000number:';

function protectNumbers(json: string): string {
  // One regex pass (strings are matched whole, so digits inside them are never touched): a
  // character loop cost several times as much over a repo's thousands of parses.
  return json.replace(JSON_STRING_OR_NUMBER, (token) => {
    if (token.startsWith('"')) return token;
    const exact = !/[.eE]/.test(token) && Number.isSafeInteger(Number(token));
    return exact ? token : JSON.stringify(NUMBER_MARKER + token);
  });
}

/** A JSON string (escapes included) or a JSON number. */
const JSON_STRING_OR_NUMBER = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

function restoreNumbers(json: string): string {
  return json.replace(/"\\u0000number:([-+.\deE]+)"/g, '$1');
}
