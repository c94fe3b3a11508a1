import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { QueryError } from '../diagnostics/errors.ts';

/**
 * SQL text ↔ AST with DuckDB's own parser (`json_serialize_sql`), in a private in-memory
 * database that never sees data. Only SELECT statements serialize; anything else is an error.
 */

/** A node of DuckDB's serialized AST: plain JSON. */
export type AstNode = { [key: string]: unknown };

export interface ParsedStatement {
  /** The statement's root node (`SELECT_NODE`, `SET_OPERATION_NODE`, ...). */
  node: AstNode;
  /** The whole serialized document, to hand back to `deserializeSql`. */
  document: AstNode;
}

let parserConnection: Promise<DuckDBConnection> | undefined;

function connection(): Promise<DuckDBConnection> {
  parserConnection ??= DuckDBInstance.create(':memory:', { threads: '1' }).then((db) => db.connect());
  return parserConnection;
}

/** Parse SQL text into statements. Throws `QueryError` with DuckDB's message when it does not parse or is not a SELECT. */
export async function parseSql(sql: string): Promise<ParsedStatement[]> {
  const db = await connection();
  const reader = await db.runAndReadAll('SELECT json_serialize_sql($sql::VARCHAR) AS ast', { sql });
  // Nodes without a position carry uint64 max, which a JS number cannot hold exactly (and the
  // deserializer then rejects); they carry no information, so zero them.
  const text = String(reader.getRows()[0]![0]).replaceAll('"query_location":18446744073709551615', '"query_location":0');
  const document = JSON.parse(text) as AstNode;
  if (document.error) {
    throw new QueryError(`${String(document.error_message ?? 'SQL does not parse')}`, sql);
  }
  const statements = document.statements as { node: AstNode }[];
  return statements.map((statement) => ({
    node: statement.node,
    document: { ...document, statements: [statement] },
  }));
}

/** Turn an (edited) serialized AST back into SQL text. */
export async function deserializeSql(document: AstNode): Promise<string> {
  const db = await connection();
  const reader = await db.runAndReadAll('SELECT json_deserialize_sql($ast::JSON) AS sql', {
    ast: JSON.stringify(document),
  });
  return String(reader.getRows()[0]![0]);
}

export interface TableReference {
  /** `schema.table` as written, lowercased; a bare `table` when unqualified. */
  name: string;
  /** `AT (VERSION => n)` / `AT (TIMESTAMP => ...)`, when present. */
  at?: { unit: 'VERSION' | 'TIMESTAMP'; expression: AstNode };
}

/**
 * Every base table a statement reads, excluding names bound by its CTEs (at the scope where
 * they are visible). Table functions are not tables and are not listed.
 */
export function referencedTables(node: AstNode): TableReference[] {
  const found: TableReference[] = [];
  walk(node, new Set(), found);
  return found;
}

function walk(value: unknown, cteNames: Set<string>, found: TableReference[]): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, cteNames, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as AstNode;
  let scope = cteNames;
  const cteMap = (node.cte_map as { map?: { key: string; value: AstNode }[] } | undefined)?.map;
  if (cteMap && cteMap.length > 0) {
    scope = new Set(cteNames);
    for (const entry of cteMap) scope.add(entry.key.toLowerCase());
  }
  if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string') {
    const schema = String(node.schema_name ?? '').toLowerCase();
    const table = node.table_name.toLowerCase();
    if (schema || !scope.has(table)) {
      const atClause = node.at_clause as { unit: string; expr: AstNode } | null;
      found.push({
        name: schema ? `${schema}.${table}` : table,
        ...(atClause
          ? { at: { unit: atClause.unit.toUpperCase() as 'VERSION' | 'TIMESTAMP', expression: atClause.expr } }
          : {}),
      });
    }
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'at_clause') continue;
    walk(child, scope, found);
  }
}
