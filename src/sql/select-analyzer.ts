import { cteEntries, isAstNode, type AstNode } from './ast-node.ts';
import {
  parseSingleStatement,
  tableReferenceOf,
  type ParsedStatement,
  type TableReference,
} from './sql-parser.ts';
import { visitBaseTables } from './table-reference-walker.ts';

/** What one query reads, found without binding it. */
export interface SelectAnalysis {
  /** The parsed statement, for further walking or rewriting. */
  statement: ParsedStatement;
  /** Base tables read, in query order, with their AT clauses; CTE references are not tables. */
  tables: TableReference[];
  /** Names declared by WITH clauses anywhere in the query, lowercased, in declaration order. */
  cteNames: string[];
  /** Table functions in FROM clauses (`read_parquet`, `range`, ...), lowercased, in query order. */
  tableFunctions: string[];
}

/**
 * Parse a query that must be exactly one SELECT statement and list the tables, CTE names and
 * table functions it uses. Throws `QueryError` when it does not parse, is not a query, or holds
 * more than one statement.
 */
export async function analyzeSelect(sql: string): Promise<SelectAnalysis> {
  const statement = await parseSingleStatement(sql);
  const tables: TableReference[] = [];
  visitBaseTables(statement.node, (table) => {
    if (!table.boundToCte) tables.push(tableReferenceOf(table.node, table.name));
  });
  const cteNames: string[] = [];
  const tableFunctions: string[] = [];
  collect(statement.node, cteNames, tableFunctions);
  return { statement, tables, cteNames, tableFunctions };
}

function collect(value: unknown, cteNames: string[], tableFunctions: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, cteNames, tableFunctions);
    return;
  }
  if (!isAstNode(value)) return;
  for (const entry of cteEntries(value)) cteNames.push(entry.name.toLowerCase());
  if (value.type === 'TABLE_FUNCTION' && !('class' in value)) {
    const name = (value.function as AstNode | undefined)?.function_name;
    if (typeof name === 'string') tableFunctions.push(name.toLowerCase());
  }
  for (const child of Object.values(value)) collect(child, cteNames, tableFunctions);
}
