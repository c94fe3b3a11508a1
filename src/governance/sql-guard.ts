import { QueryError } from '../diagnostics/errors.ts';
import { quoteIdentifier } from '../engines/engine.ts';
import type { FieldDef, MaskKind, RoleDef } from '../model/index.ts';
import {
  cloneAst,
  cteEntries,
  deserializeSql,
  isAstNode,
  isExpressionNode,
  isQueryNode,
  isTableRefNode,
  parseSingleStatement,
  referencedColumns,
  rewriteTableReferencesInAst,
  visitBaseTables,
  type AliasedTableReference,
  type AstNode,
} from '../sql/index.ts';
import { resolveAccess, type AccessPrincipal, type TableAccess } from './access-resolver.ts';
import { rewriteDigestComparisons } from './digest-comparisons.ts';
import {
  ALLOWED_TABLE_FUNCTIONS,
  KEYED_HASH_RECOMPUTE_FUNCTIONS,
  deniedFunctionReason,
  isAllowedFunction,
} from './function-allowlist.ts';
import { digestHexSql, fieldTypeSql, maskExpression, maskedType, type MaskContext } from './mask-compiler.ts';
import { compileRowFilter } from './row-filter-compiler.ts';
import { nameSelectItemsFromUserText } from './select-item-names.ts';
import type { RowFilterLineage } from './row-filter-inheritance.ts';

/** Which version of a table the query asks for: the current one, or an `AT (...)` clause's constant. */
export interface RelationRequest {
  /** `namespace.table`, lowercased. */
  table: string;
  /** `AT (VERSION => 3)` gives `{ unit: 'VERSION', value: 3 }`; `AT (TIMESTAMP => TIMESTAMP '2026-11-01')` gives the text. */
  at?: { unit: 'VERSION'; value: number } | { unit: 'TIMESTAMP'; value: string };
}

/** How to read one version of a table, given by the caller (who knows the catalog and storage). */
export interface ResolvedRelation {
  /** A relation in engine SQL, what follows FROM: e.g. `read_parquet(['/abs/part-0.parquet'])`. Trusted. */
  sql: string;
  /** The columns of that version, with sensitivity and mask. Columns not listed are never exposed. */
  fields: FieldDef[];
  /**
   * Optional: columns holding a precomputed keyed hash of a HASH-masked column as hex
   * (`{ ssn: 'ssn__hash' }`), written with the same key when the version was published (versions
   * written before the halves alone were stored). HASH then reads the stored hash instead of
   * computing HMAC per row (the cost the architecture notes measure).
   */
  hashColumns?: Record<string, string>;
  /**
   * Optional: columns holding a precomputed keyed hash of a HASH-masked column as its digest's two
   * 128-bit halves (`{ ssn: ['ssn__hash_hi', 'ssn__hash_lo'] }`), written with the same key. HASH
   * rebuilds the hex from them (`digestHexSql`) unless `hashColumns` names the hex itself; joins and
   * distinct counts on the masked column compare the halves (`digest-comparisons.ts`).
   */
  digestColumns?: Record<string, readonly [string, string]>;
  /**
   * How this version stores its fields, as recorded when it was published (`Version.storedMasks`):
   * field name → the mask its values were written with. Nothing else decides it (not the table's
   * current `store:`). A field listed holds no raw value: it is read as stored by whoever would see
   * it through that mask or in clear, and masked again only when the principal's mask is another
   * one. Every field not listed is read as raw: masked per the principal's access. Default `{}`.
   */
  storedMasks?: Readonly<Record<string, MaskKind>>;
}

/** Everything the guard needs besides the SQL. */
export interface GuardContext {
  principal: AccessPrincipal;
  roles: RoleDef[];
  /**
   * Resolve a catalog table (at a version) to a relation. Return undefined when the table or the
   * version does not exist; the guard then reports "table x not found", exactly as for a table the
   * principal holds no grant on. Only called for tables the principal may read.
   */
  resolveRelation(request: RelationRequest): Promise<ResolvedRelation | undefined>;
  /** The hash key and as-of date used by masks. */
  masks: MaskContext;
  /**
   * How row filters follow rows into derived tables (`inheritRowFilters`, computed once per set of
   * definitions). Default: none, so a table is filtered only by its own roles' filters.
   */
  rowFilterLineage?: RowFilterLineage;
  /**
   * Rewrites kept across queries (`GuardCache`), for a caller whose roles and row filter lineage
   * stay the same objects. Default: none, so every query is rewritten from its text.
   */
  cache?: GuardCache;
  /**
   * The engine's SQL text for the rewritten query. Default: DuckDB's (`deserializeSql`); another
   * engine passes its renderer (`renderForPostgres`), which refuses what it cannot render exactly.
   */
  render?: (document: AstNode) => Promise<string>;
  /**
   * A further limit the engine puts on user SQL, beyond the reviewed allowlist: why `sql` is
   * refused, or undefined. With a PostgreSQL engine, whatever lies outside the portable subset
   * (`nonPortableConstructs`), so a query's answer never depends on the engine that computed it.
   */
  refuseSql?: (sql: string) => Promise<string | undefined>;
}

/** A query made safe to run, and what it touches (for the audit log). */
export interface GuardedQuery {
  /** The rewritten SQL: every table is a secure relation. Run it in a sandboxed engine session. */
  sql: string;
  /** Catalog tables read, sorted. */
  tables: string[];
  /** Visible table columns the query reads anywhere (an over-approximation: `*` counts all). */
  columns: { table: string; column: string }[];
  /** Masks applied to the columns the query reads. */
  masksApplied: { table: string; column: string; mask: MaskKind }[];
  /** Row filters applied, as declared (combined over the principal's roles). */
  rowFiltersApplied: { table: string; filter: string }[];
}

/** Query node types that make up a SELECT. */
const QUERY_NODE_TYPES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

/** FROM clause elements a query may use; TABLE_FUNCTION is further limited to ALLOWED_TABLE_FUNCTIONS. */
const TABLE_REF_TYPES = new Set([
  'BASE_TABLE',
  'JOIN',
  'SUBQUERY',
  'EMPTY',
  'EXPRESSION_LIST',
  'TABLE_FUNCTION',
  'PIVOT',
]);

/** Expression classes a query may use; FUNCTION and WINDOW are further limited to the function allowlist. */
const EXPRESSION_CLASSES = new Set([
  'BETWEEN',
  'CASE',
  'CAST',
  'COLLATE',
  'COLUMN_REF',
  'COMPARISON',
  'CONJUNCTION',
  'CONSTANT',
  'FUNCTION',
  'LAMBDA',
  'LAMBDA_REF',
  'OPERATOR',
  'POSITIONAL_REFERENCE',
  'STAR',
  'SUBQUERY',
  'WINDOW',
]);

/** What SHOW_REF stands for in the user's words. */
const SHOW_KEYWORDS: Record<string, string> = { DESCRIBE: 'DESCRIBE', SUMMARY: 'SUMMARIZE', SHOW: 'SHOW' };

/**
 * The governed SQL surface. `guard(sql)` accepts one SELECT over catalog tables and returns it
 * rewritten so that each table reference reads a *secure relation*:
 *
 *     (SELECT <visible columns, masked where the principal may not see them in clear>
 *        FROM <the caller's relation for that table and version>
 *       WHERE <the principal's row filter>) AS <alias>
 *
 * Denied columns are absent, so `SELECT *` never returns them and naming one fails as "column not
 * found"; the filter sits inside the relation, so nothing in the user's query can widen it. A table
 * that does not exist and a table the principal may not read give the same "table x not found".
 *
 * Everything that could reach data another way is refused before rewriting: non-SELECT statements,
 * several statements, table functions other than `range`/`generate_series`/`unnest`, file paths in
 * FROM, functions outside the reviewed allowlist (file readers, settings, environment, engine
 * catalog, the query text), `DESCRIBE`/`SUMMARIZE`/`SHOW`, query parameters, AT clauses that are
 * not constants. The rewritten SQL must still run in a sandboxed session (allowed directories = the
 * warehouse, no external access, locked configuration): the guard and the sandbox are two walls.
 */
export class QueryGuard {
  constructor(private readonly context: GuardContext) {}

  /** Check and rewrite one query. Throws `QueryError` with a message fit for the user when it is refused. */
  async guard(sql: string): Promise<GuardedQuery> {
    const statement = await parseSingleStatement(sql);
    checkQueryShape(statement.node, sql);
    const engineRefusal = await this.context.refuseSql?.(sql);
    if (engineRefusal) throw new QueryError(engineRefusal, sql);
    const accessByTable = new Map<string, TableAccess>();
    checkTableReferences(statement.node, sql, (table) => this.access(table, accessByTable, sql));

    const relations = new Map<string, Promise<SecureRelation>>();
    const reads: FilterReads = { relations: new Map(), applied: new Map() };
    const secureRelationFor = (reference: AliasedTableReference): Promise<SecureRelation> => {
      const table = reference.name;
      const access = this.access(table, accessByTable, sql);
      const at = reference.at ? evaluateAtClause(reference.at, sql) : undefined;
      const key = JSON.stringify([table, at]);
      let relation = relations.get(key);
      if (!relation) {
        relation = this.secureRelation({ table, ...(at ? { at } : {}) }, access, sql, reads);
        relations.set(key, relation);
      }
      return relation;
    };

    // Result columns are named from the user's text, before any rewrite can change it.
    await nameSelectItemsFromUserText(statement.document);
    const digestRelations = new Map<AstNode, SecureRelation['digests']>();
    const rewritten = await rewriteTableReferencesInAst(statement.document, async (reference) => {
      const relation = await secureRelationFor(reference);
      const node = cloneAst(relation.node);
      if (relation.digests.size > 0) digestRelations.set(node, relation.digests);
      return node;
    });
    await rewriteDigestComparisons(rewritten, (node) => digestRelations.get(node));
    const resolved = await Promise.all(relations.values());
    checkNoHashRecomputation(statement.node, resolved, sql);
    const visibleColumns = new Map<string, SecureRelation>();
    for (const relation of resolved)
      if (!visibleColumns.has(relation.table)) visibleColumns.set(relation.table, relation);

    const columns = (
      await referencedColumns(statement.node, (table) =>
        visibleColumns.get(table)?.columns.map((column) => column.name),
      )
    ).filter((source) => visibleColumns.has(source.table));
    const read = new Set(columns.map((column) => `${column.table}\u0000${column.column.toLowerCase()}`));
    const masksApplied = uniqueBy(
      resolved.flatMap((relation) =>
        relation.columns
          .filter((column) => column.mask && read.has(`${relation.table}\u0000${column.name.toLowerCase()}`))
          .map((column) => ({ table: relation.table, column: column.name, mask: column.mask! })),
      ),
      (entry) => `${entry.table}.${entry.column}`,
    );
    const rowFiltersApplied = uniqueBy(
      [...accessByTable.values(), ...reads.applied.values()]
        .filter((access) => access.rowFilter !== undefined)
        .map((access) => ({ table: access.table, filter: access.rowFilter! })),
      (entry) => entry.table,
    );
    return {
      sql: await (this.context.render ?? deserializeSql)(rewritten),
      tables: [...accessByTable.keys()].sort(),
      columns,
      masksApplied,
      rowFiltersApplied,
    };
  }

  private access(table: string, cache: Map<string, TableAccess>, sql: string): TableAccess {
    let access = cache.get(table);
    if (!access) {
      access = resolveAccess(
        this.context.principal,
        this.context.roles,
        table,
        this.context.rowFilterLineage,
      );
      if (!access) throw notFound(table, sql);
      cache.set(table, access);
    }
    return access;
  }

  private async secureRelation(
    request: RelationRequest,
    access: TableAccess,
    sql: string,
    reads: FilterReads,
  ): Promise<SecureRelation> {
    const relation = await this.context.resolveRelation(request);
    if (!relation) throw notFound(request.table, sql);
    const hidden = new Set(access.hiddenColumns.map((column) => column.toLowerCase()));
    const columns: SecureColumn[] = [];
    const projections: string[] = [];
    const digests = new Map<string, readonly [string, string]>();
    const storedMasks = new Map(
      Object.entries(relation.storedMasks ?? {}).map(([name, mask]) => [name.toLowerCase(), mask]),
    );
    for (const field of relation.fields) {
      if (hidden.has(field.name.toLowerCase())) continue;
      const stored = storedMasks.get(field.name.toLowerCase());
      const wanted = maskFor(field, access);
      // Stored masked: no raw value exists, so clear or the same mask is the value as stored.
      const mask = stored !== undefined && (wanted === undefined || wanted === stored) ? undefined : wanted;
      const column = quoteIdentifier(field.name);
      let expression = column;
      const hexColumn = relation.hashColumns?.[field.name];
      const halves = relation.digestColumns?.[field.name];
      if (mask === 'HASH' && stored === undefined && (hexColumn || halves)) {
        expression = hexColumn
          ? quoteIdentifier(hexColumn)
          : digestHexSql(quoteIdentifier(halves![0]), quoteIdentifier(halves![1]));
        if (halves) digests.set(field.name.toLowerCase(), halves);
      } else if (mask) {
        expression = this.maskedColumn(mask, field, stored, request.table, sql);
      }
      projections.push(expression === column ? column : `${expression} AS ${column}`);
      const storedHash = stored === 'HASH' && mask === undefined;
      columns.push({ name: field.name, ...(mask ? { mask } : {}), ...(storedHash ? { storedHash } : {}) });
    }
    if (projections.length === 0) {
      throw new QueryError(`table ${request.table} has no columns you may read`, sql);
    }
    const node = (await parseSingleStatement(`SELECT ${projections.join(', ')} FROM ${relation.sql}`)).node;
    if (access.rowFilterTerms) {
      const all = relation.fields.map((field) => field.name);
      addFilter(node, await this.rowFilter(request.table, access, all, [], reads, sql));
    }
    return { table: request.table, node, columns, digests };
  }

  /**
   * The principal's row filter on `table`, compiled. Tables the filter reads become filter relations
   * (`filterRelation`); `chain` lists the tables whose filters are being compiled around this one.
   */
  private rowFilter(
    table: string,
    access: TableAccess,
    columns: readonly string[],
    chain: string[],
    reads: FilterReads,
    sql: string,
  ): Promise<AstNode> {
    return compileRowFilter(access.rowFilterTerms!, this.context.principal, table, {
      columns,
      readTable: (read) => this.filterRelation(read, [...chain, table], reads, sql),
    });
  }

  /**
   * What a row filter reads for a catalog table: the current version's rows that this principal may
   * read (its own row filter applies, recursively), with every field in clear, denied ones included.
   * The filter is the catalog repo's SQL, and the principal only ever sees whether a row of the
   * filtered table passes; a masked value compared with a raw one would break the filter. Undefined
   * when the principal may not read the table (the predicate then lets nothing through). A filter
   * that reads, through other filters, its own table is refused: no version of it could be computed.
   */
  private filterRelation(
    table: string,
    chain: string[],
    reads: FilterReads,
    sql: string,
  ): Promise<FilterRelation | undefined> {
    if (chain.includes(table)) {
      const cycle = [...chain.slice(chain.indexOf(table)), table].join(' → ');
      throw new QueryError(
        `row filters read each other in a cycle (${cycle}): a table's row filter may not read the table itself, directly or through other tables' row filters; change the roles' row_filters`,
        sql,
      );
    }
    let relation = reads.relations.get(table);
    if (!relation) {
      relation = this.readForFilter(table, chain, reads, sql);
      reads.relations.set(table, relation);
    }
    return relation;
  }

  private async readForFilter(
    table: string,
    chain: string[],
    reads: FilterReads,
    sql: string,
  ): Promise<FilterRelation | undefined> {
    const access = resolveAccess(this.context.principal, this.context.roles, table);
    if (!access) return undefined;
    const relation = await this.context.resolveRelation({ table });
    if (!relation || relation.fields.length === 0) return undefined;
    const columns = relation.fields.map((field) => field.name);
    const node = (
      await parseSingleStatement(`SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${relation.sql}`)
    ).node;
    if (access.rowFilterTerms) {
      addFilter(node, await this.rowFilter(table, access, columns, chain, reads, sql));
      reads.applied.set(table, access);
    }
    return { node, columns };
  }

  /**
   * `field` masked with `mask`, from values stored raw (`stored` undefined) or stored masked with
   * another mask. Raw values of a non-text field are read as its type first (`TRY_CAST`, free when
   * the file holds that type): a version may hold values another way than its record says raw (an append
   * chain mixing raw and masked files, a version published before the record), and a value that
   * does not read as the type is masked as NULL rather than failing the query. A value stored
   * masked has the masked type (a HASH is text): the mask applies to it when it can, and REDACT
   * when it cannot (DATE_YEAR of a stored hash).
   */
  private maskedColumn(
    mask: MaskKind,
    field: FieldDef,
    stored: MaskKind | undefined,
    table: string,
    sql: string,
  ): string {
    const column = quoteIdentifier(field.name);
    try {
      if (stored === undefined) {
        const type = fieldTypeSql(field.type);
        // An engine holding versions as tables (PostgreSQL) loaded them with the declared types.
        const loadedTyped = (this.context.masks.dialect?.name ?? 'duckdb') !== 'duckdb';
        const typed = type === 'VARCHAR' || loadedTyped ? column : `TRY_CAST(${column} AS ${type})`;
        return maskExpression(mask, typed, field.type, this.context.masks);
      }
      const type = maskedType(stored, field.type);
      try {
        return maskExpression(mask, column, type, this.context.masks);
      } catch {
        return maskExpression('REDACT', column, type, this.context.masks);
      }
    } catch (error) {
      throw new QueryError(`table ${table}, column ${field.name}: ${(error as Error).message}`, sql, {
        cause: error,
      });
    }
  }
}

/**
 * Check and rewrite one query; see `QueryGuard`. With `context.cache`, a query already rewritten for
 * the same principal, roles, lineage and masks is not rewritten again when every relation its
 * rewrite read resolves now as it did then (same version files, fields, stored masks and hash
 * columns): the rewrite is a function of those, so it would come out the same.
 */
export async function guardQuery(sql: string, context: GuardContext): Promise<GuardedQuery> {
  const cache = context.cache;
  if (!cache) return new QueryGuard(context).guard(sql);
  const key = JSON.stringify([sql, context.principal, context.masks]);
  const cached = cache.lookup(key, context);
  if (cached && (await resolvesAsRecorded(cached.resolutions, context)))
    return structuredClone(cached.guarded);
  const resolutions: RecordedResolution[] = [];
  const guarded = await new QueryGuard({
    ...context,
    resolveRelation: async (request) => {
      const resolved = await context.resolveRelation(request);
      resolutions.push({ request, resolved: JSON.stringify(resolved ?? null) });
      return resolved;
    },
  }).guard(sql);
  cache.remember(key, {
    roles: context.roles,
    rowFilterLineage: context.rowFilterLineage,
    resolutions,
    guarded: structuredClone(guarded),
  });
  return guarded;
}

/** One relation a rewrite read, and what it resolved to then (as JSON). */
interface RecordedResolution {
  request: RelationRequest;
  resolved: string;
}

interface CachedRewrite {
  /** The roles and lineage it was made with, compared by identity. */
  roles: RoleDef[];
  rowFilterLineage: RowFilterLineage | undefined;
  resolutions: RecordedResolution[];
  guarded: GuardedQuery;
}

/**
 * Resolve the relations a cached rewrite read, in the same order (the caller leases what it
 * resolves, as for a fresh rewrite), stopping at the first one that differs.
 */
async function resolvesAsRecorded(
  resolutions: RecordedResolution[],
  context: GuardContext,
): Promise<boolean> {
  for (const { request, resolved } of resolutions) {
    const now = await context.resolveRelation(request);
    if (JSON.stringify(now ?? null) !== resolved) return false;
  }
  return true;
}

/** Queries longer than this are not kept: a cache of rewrites should not hold megabytes of SQL. */
const GUARD_CACHE_MAX_SQL_LENGTH = 20_000;

/**
 * Rewrites of allowed queries by (SQL text, principal, masks), at most `limit` of them, least
 * recently used dropped first. A refused query is never kept: it is checked again each time. Safe
 * to share across principals (each is part of the key) but not across role definitions: an entry
 * made with other roles or another row filter lineage is ignored.
 */
export class GuardCache {
  private readonly entries = new Map<string, CachedRewrite>();

  constructor(private readonly limit = 500) {}

  /** How many rewrites are kept. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key` if it was made with this context's roles and lineage. */
  lookup(key: string, context: GuardContext): CachedRewrite | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.roles !== context.roles || entry.rowFilterLineage !== context.rowFilterLineage) {
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  remember(key: string, entry: CachedRewrite): void {
    if (key.length > GUARD_CACHE_MAX_SQL_LENGTH) return;
    this.entries.delete(key);
    while (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
  }
}

/**
 * An engine error message fit to show the user: DuckDB quotes the failing line of the SQL it ran
 * (`LINE 1: SELECT ... read_parquet(['/warehouse/...'])...`), which for a guarded query is the
 * rewritten SQL with storage paths and, when given as a literal, the hash key. Drop that part.
 */
export function sanitizeEngineErrorMessage(message: string): string {
  const withoutSql = message.replace(/\n+LINE \d+:[\s\S]*$/, '').trim();
  // A value that failed to convert is quoted in the message. The row filter runs before the user's
  // predicates in every case tested, but DuckDB does not promise that order: never echo the value.
  return /^(Conversion|Invalid Input|Out of Range) Error/.test(withoutSql)
    ? withoutSql.replace(/'(?:[^']|'')*'/g, "'…'")
    : withoutSql;
}

/** A table as a row filter reads it: the query node, and its columns. */
interface FilterRelation {
  node: AstNode;
  columns: readonly string[];
}

/** One guard call's relations read by row filters (see `QueryGuard.filterRelation`). */
interface FilterReads {
  relations: Map<string, Promise<FilterRelation | undefined>>;
  /** Tables whose row filters applied inside other tables' row filters. */
  applied: Map<string, TableAccess>;
}

/** AND a filter into a SELECT node's WHERE: a relation that already filters (a caller's own WHERE) keeps its filter. */
function addFilter(node: AstNode, filter: AstNode): void {
  node.where_clause = isAstNode(node.where_clause)
    ? {
        class: 'CONJUNCTION',
        type: 'CONJUNCTION_AND',
        alias: '',
        query_location: 0,
        children: [node.where_clause, filter],
      }
    : filter;
}

interface SecureColumn {
  name: string;
  mask?: MaskKind;
  /** True when the version stores the column's keyed hash (`storedMasks`) and the principal sees it as stored. */
  storedHash?: boolean;
}

interface SecureRelation {
  table: string;
  node: AstNode;
  columns: SecureColumn[];
  /** Visible field (lowercase) → its digest's halves, for HASH-masked fields read from precomputed hashes. */
  digests: ReadonlyMap<string, readonly [string, string]>;
}

/** The mask a principal sees a field through, or undefined for clear. A sensitive field without a mask is redacted. */
function maskFor(field: FieldDef, access: TableAccess): MaskKind | undefined {
  if (!field.sensitivity || access.unmasked.includes(field.sensitivity)) return undefined;
  return field.mask ?? 'REDACT';
}

/**
 * Refuse the digest functions that could recompute a keyed hash (`KEYED_HASH_RECOMPUTE_FUNCTIONS`)
 * in a query that reads any relation where the principal sees a column as a keyed hash.
 */
function checkNoHashRecomputation(root: AstNode, relations: SecureRelation[], sql: string): void {
  const hashed = relations.flatMap((relation) =>
    relation.columns
      .filter((column) => column.mask === 'HASH' || column.storedHash)
      .map((column) => `${relation.table}.${column.name}`),
  );
  if (hashed.length === 0) return;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isAstNode(value)) return;
    if ((value.class === 'FUNCTION' || value.class === 'WINDOW') && typeof value.function_name === 'string') {
      const name = value.function_name.toLowerCase();
      if (KEYED_HASH_RECOMPUTE_FUNCTIONS.has(name)) {
        const shown = [...new Set(hashed)].slice(0, 3).join(', ');
        throw new QueryError(
          `function ${name} is not allowed in a query that reads keyed-hash (HASH-masked) columns (${shown}${hashed.length > 3 ? ', …' : ''}): ` +
            'it could recompute the hash from guessed values; compare hashed columns with each other instead',
          sql,
        );
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(root);
}

function notFound(table: string, sql: string): QueryError {
  return new QueryError(`table ${table} not found`, sql);
}

/**
 * Check every table reference before anything is resolved: a CTE reference may not carry AT; any
 * other reference must be a plain `namespace.table` the principal may read. Paths and quoted
 * dotted names (`FROM '/x/y.parquet'`, `FROM "clinical.patients"`) are one identifier to DuckDB,
 * a file to its replacement scans: never a catalog table.
 */
function checkTableReferences(root: AstNode, sql: string, access: (table: string) => TableAccess): void {
  visitBaseTables(root, (table) => {
    if (table.boundToCte) {
      if (table.node.at_clause) {
        throw new QueryError(
          `AT (...) applies to catalog tables; ${table.name} is defined in the query's WITH clause`,
          sql,
        );
      }
      return;
    }
    const tableName = String(table.node.table_name);
    if (/[/\\:]/.test(tableName)) {
      throw new QueryError(
        `\`FROM '${tableName}'\` reads a file, which is not allowed: queries may only read catalog tables (namespace.table)`,
        sql,
      );
    }
    const qualified =
      String(table.node.schema_name ?? '') !== '' && String(table.node.catalog_name ?? '') === '';
    if (!qualified || tableName.includes('.')) {
      throw new QueryError(
        !qualified && tableName.includes('.')
          ? `table "${tableName}" not found; quote each part of a name, not the whole: FROM ${tableName}`
          : table.name.includes('.')
            ? `table ${table.name} not found`
            : `table ${table.name} not found; catalog tables are named namespace.table (or define ${table.name} in a WITH clause)`,
        sql,
      );
    }
    access(table.name);
  });
}

/** The constant an AT clause names; anything that is not a constant is refused (it would run before governance). */
function evaluateAtClause(at: NonNullable<AliasedTableReference['at']>, sql: string): RelationRequest['at'] {
  const expression = at.expression;
  if (at.unit === 'VERSION') {
    const value = constantValue(expression);
    const version = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
      throw new QueryError('AT (VERSION => …) needs a constant version number, e.g. AT (VERSION => 3)', sql);
    }
    return { unit: 'VERSION', value: version };
  }
  if (at.unit === 'TIMESTAMP') {
    let value = constantValue(expression);
    if (value === undefined && expression.class === 'CAST') {
      const target = String((expression.cast_type as { id?: string } | undefined)?.id ?? '');
      if (/^(TIMESTAMP.*|DATE|VARCHAR)$/.test(target)) value = constantValue(expression.child);
    }
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
      throw new QueryError(
        "AT (TIMESTAMP => …) needs a constant timestamp, e.g. AT (TIMESTAMP => TIMESTAMP '2026-11-01 00:00:00')",
        sql,
      );
    }
    return { unit: 'TIMESTAMP', value };
  }
  throw new QueryError(`AT (${String(at.unit)} => …) is not supported; use VERSION or TIMESTAMP`, sql);
}

function constantValue(expression: unknown): string | number | undefined {
  if (!isAstNode(expression) || expression.class !== 'CONSTANT') return undefined;
  const value = (expression.value as { value?: unknown; is_null?: boolean } | undefined)?.value;
  if (typeof value === 'number') return value;
  // Large or fractional numbers arrive as marker strings from the parser (see sql-parser.ts).
  if (typeof value === 'string') return value.replace(/^\u0000number:/, '');
  return undefined;
}

/**
 * Walk the whole statement and refuse anything outside the allowed shapes. Every node is visited
 * (expressions, FROM elements, query nodes, AT clauses, window frames...), and the checks are
 * allowlists, so a construct nobody reviewed is refused rather than let through.
 */
function checkQueryShape(root: AstNode, sql: string): void {
  const refuse = (message: string) => new QueryError(message, sql);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isAstNode(value)) return;
    const node: AstNode = value;
    const role = roleOf(node);
    if (role === 'expression') checkExpression(node, refuse);
    else if (role === 'table') checkTableRef(node, refuse);
    else if (role === 'query') {
      if (!QUERY_NODE_TYPES.has(String(node.type)))
        throw refuse(`${String(node.type)} queries are not supported`);
      for (const entry of cteEntries(node)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.name)) {
          throw refuse(
            `WITH name "${entry.name}" is not allowed; use a plain identifier (letters, digits, _)`,
          );
        }
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(root);
}

/** Every `TableReferenceType` DuckDB serializes, so a FROM element is recognised even if its shape changes. */
const KNOWN_TABLE_REF_TYPES = new Set([...TABLE_REF_TYPES, 'SHOW_REF', 'COLUMN_DATA', 'DELIM_GET']);

function roleOf(node: unknown): 'expression' | 'table' | 'query' | 'other' {
  if (isExpressionNode(node)) return 'expression';
  if (isTableRefNode(node) || KNOWN_TABLE_REF_TYPES.has(String((node as AstNode).type))) return 'table';
  if (isQueryNode(node) || String((node as AstNode).type ?? '').endsWith('_NODE')) return 'query';
  return 'other';
}

function checkExpression(node: AstNode, refuse: (message: string) => QueryError): void {
  const kind = String(node.class);
  if (kind === 'PARAMETER')
    throw refuse('query parameters ($1, ?) are not supported; write the values into the SQL');
  if (!EXPRESSION_CLASSES.has(kind)) throw refuse(`${kind.toLowerCase()} expressions are not supported`);
  if (kind === 'FUNCTION' || kind === 'WINDOW') checkFunction(node, refuse);
}

function checkFunction(node: AstNode, refuse: (message: string) => QueryError): void {
  const name = String(node.function_name ?? '');
  const schema = String(node.schema ?? '').toLowerCase();
  const catalog = String(node.catalog ?? '').toLowerCase();
  if (catalog !== '' || (schema !== '' && schema !== 'main')) {
    throw refuse(
      `function ${[catalog, schema, name].filter(Boolean).join('.')} is not allowed; call functions by their plain name`,
    );
  }
  if (isAllowedFunction(name)) return;
  const reason = deniedFunctionReason(name);
  if (/^principal_(attr|name)$/i.test(name)) {
    throw refuse(`${name}() is only available in role row filters; your rows are already filtered for you`);
  }
  throw refuse(
    reason
      ? `function ${name} is not allowed: it ${reason}; queries may only read catalog tables`
      : `function ${name} is not allowed (it is not on the list of reviewed functions)`,
  );
}

function checkTableRef(node: AstNode, refuse: (message: string) => QueryError): void {
  const type = String(node.type);
  if (type === 'SHOW_REF') {
    const keyword = SHOW_KEYWORDS[String(node.show_type)] ?? 'SHOW';
    throw refuse(
      `only SELECT and WITH queries are allowed; \`${keyword}\` is refused (the catalog describes every table)`,
    );
  }
  if (!TABLE_REF_TYPES.has(type)) throw refuse(`${type.toLowerCase()} in FROM is not supported`);
  if (type === 'TABLE_FUNCTION') {
    const fn = node.function as AstNode;
    const name = String(fn.function_name ?? '').toLowerCase();
    const qualified = String(fn.schema ?? '') !== '' || String(fn.catalog ?? '') !== '';
    if (qualified || !ALLOWED_TABLE_FUNCTIONS.has(name)) {
      throw refuse(
        `table function ${name} is not allowed; queries may only read catalog tables (allowed table functions: ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')})`,
      );
    }
  }
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
