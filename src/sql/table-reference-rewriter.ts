import { cloneAst, isAstNode, replaceNodeInPlace, type AstNode } from './ast-node.ts';
import { deserializeSql, parseSingleStatement, tableReferenceOf, type TableReference } from './sql-parser.ts';
import { visitBaseTables } from './table-reference-walker.ts';

/** A table reference as met in the query, with the alias it was given (`FROM x.y AS a`), if any. */
export type AliasedTableReference = TableReference & { alias?: string };

/** Returns a SELECT (SQL text) that stands for the referenced relation. */
export type TableReferenceReplacer = (reference: AliasedTableReference) => string;

/** Returns a SELECT, as SQL text or as a parsed query node, that stands for the referenced relation. */
export type TableReferenceAstReplacer = (
  reference: AliasedTableReference,
) => Promise<string | AstNode> | string | AstNode;

/**
 * Replace every catalog table reference (every `BASE_TABLE` that is not a CTE in scope) with a
 * subquery over the SELECT that `replace` returns, and give back the SQL text.
 *
 * The subquery keeps the reference's alias; an unaliased reference is aliased with its bare table
 * name, and three-part column references (`clinical.patients.ssn`) to it are shortened to
 * `patients.ssn`, so every way of naming its columns keeps working. Column aliases
 * (`AS p(a, b)`) and samples move to the subquery; the AT clause is consumed (the replacement
 * already reads the right version).
 */
export async function rewriteTableReferences(
  document: AstNode,
  replace: TableReferenceReplacer,
): Promise<string> {
  return deserializeSql(await rewriteTableReferencesInAst(document, replace));
}

/** `rewriteTableReferences` without the final deserialization: returns the rewritten document (a copy). */
export async function rewriteTableReferencesInAst(
  document: AstNode,
  replace: TableReferenceAstReplacer,
): Promise<AstNode> {
  const copy = cloneAst(document);
  const references: { node: AstNode; reference: AliasedTableReference }[] = [];
  visitBaseTables(copy, (table) => {
    if (table.boundToCte) return;
    const alias =
      typeof table.node.alias === 'string' && table.node.alias !== '' ? table.node.alias : undefined;
    references.push({
      node: table.node,
      reference: { ...tableReferenceOf(table.node, table.name), ...(alias ? { alias } : {}) },
    });
  });

  // Shorten `schema.table.column` refs first, while only user-written column refs are in the tree.
  const qualifiedUnaliased = new Set(
    references
      .filter(({ node, reference }) => !reference.alias && node.schema_name && !node.catalog_name)
      .map(
        ({ node }) => `${String(node.schema_name).toLowerCase()}.${String(node.table_name).toLowerCase()}`,
      ),
  );
  if (qualifiedUnaliased.size > 0) shortenQualifiedColumnRefs(copy, qualifiedUnaliased);

  for (const { node, reference } of references) {
    const replacement = await replace(reference);
    const query =
      typeof replacement === 'string' ? (await parseSingleStatement(replacement)).node : replacement;
    replaceNodeInPlace(node, {
      type: 'SUBQUERY',
      alias: reference.alias ?? String(node.table_name),
      sample: node.sample ?? null,
      query_location: node.query_location ?? 0,
      subquery: { node: query, named_param_map: [] },
      column_name_alias: node.column_name_alias ?? [],
    });
  }
  return copy;
}

function shortenQualifiedColumnRefs(value: unknown, qualified: ReadonlySet<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) shortenQualifiedColumnRefs(item, qualified);
    return;
  }
  if (!isAstNode(value)) return;
  if (value.class === 'COLUMN_REF' && Array.isArray(value.column_names) && value.column_names.length >= 3) {
    const names = value.column_names as string[];
    if (qualified.has(`${names[0]!.toLowerCase()}.${names[1]!.toLowerCase()}`)) {
      value.column_names = names.slice(1);
    }
  }
  for (const child of Object.values(value)) shortenQualifiedColumnRefs(child, qualified);
}
