/**
 * Catalog introspection for PostgreSQL clients (`psql`'s `\dt` and `\d`, drivers' and BI tools'
 * `information_schema` and `pg_catalog` queries), answered over only what one principal may see.
 *
 * Each view of the catalog gets a scratch database (`Engine.openScratchSession`: empty, in memory,
 * no file access) holding EMPTY tables with the visible columns, typed as the principal reads them,
 * and their descriptions as comments. The client's query runs there, so the engine's own
 * `pg_catalog` and `information_schema` describe exactly those tables; a denied table or column is
 * absent, not refused. No table data is ever in that database, so nothing can leak through it.
 *
 * A query is introspection only when every relation it reads is a catalog relation (decided by
 * DuckDB's parser, after the shims below); anything else goes to the governed query path.
 */
import { createHash } from 'node:crypto';
import {
  quoteIdentifier,
  quoteLiteral,
  type Engine,
  type EngineSession,
  type QueryResult,
} from '../engines/engine.ts';
import { QueryError } from '../diagnostics/errors.ts';
import {
  bindParameters,
  parseSql,
  referencedTables,
  rewriteTableReferences,
  type ParameterValue,
} from '../sql/index.ts';
import type { VisibleTable } from './visible-catalog.ts';

/** Scratch databases kept, one per distinct view of the catalog (principals with the same view share one). */
const MAX_SCRATCH_DATABASES = 16;

/** Relations outside `pg_catalog`/`information_schema` a client may name bare (PostgreSQL's search path has pg_catalog first). */
const BARE_CATALOG_RELATION = /^pg_[a-z_]+$/;

/**
 * Functions psql 15 and drivers call that DuckDB's `pg_catalog` lacks or spells differently, as
 * macros of the scratch database (unqualified: the rewrites below drop `pg_catalog.` from calls
 * to them, since a macro cannot live in DuckDB's built-in pg_catalog schema).
 */
const SHIM_MACROS = [
  `CREATE MACRO pg_get_userbyid(id) AS 'tessera'`,
  `CREATE MACRO pg_table_is_visible(id) AS true`,
  `CREATE MACRO pg_get_expr(expression, relation) AS NULL::VARCHAR, (expression, relation, pretty) AS NULL::VARCHAR`,
  `CREATE MACRO pg_encoding_to_char(encoding) AS 'UTF8'`,
  `CREATE MACRO pg_relation_is_publishable(id) AS false`,
  `CREATE MACRO array_upper(list, dimension) AS len(list)`,
  `CREATE MACRO pg_get_partkeydef(id) AS NULL::VARCHAR`,
  `CREATE MACRO pg_get_viewdef(id) AS NULL::VARCHAR, (id, pretty) AS NULL::VARCHAR`,
  `CREATE MACRO pg_get_triggerdef(id) AS NULL::VARCHAR, (id, pretty) AS NULL::VARCHAR`,
  `CREATE MACRO pg_get_ruledef(id) AS NULL::VARCHAR, (id, pretty) AS NULL::VARCHAR`,
  `CREATE MACRO pg_table_size(id) AS 0::BIGINT`,
  `CREATE MACRO pg_total_relation_size(id) AS 0::BIGINT`,
  `CREATE MACRO pg_relation_size(id) AS 0::BIGINT`,
  `CREATE MACRO pg_size_pretty(size) AS format('{} bytes', size)`,
  `CREATE MACRO pg_get_statisticsobjdef_columns(id) AS NULL::VARCHAR`,
  `CREATE MACRO pg_get_indexdef(id) AS NULL::VARCHAR, (id, column_number, pretty) AS NULL::VARCHAR`,
  `CREATE MACRO pg_get_constraintdef(id) AS NULL::VARCHAR, (id, pretty) AS NULL::VARCHAR`,
];

/**
 * Text rewrites for PostgreSQL syntax DuckDB's parser does not take. They touch only spellings of
 * operators, collations and catalog function names: never a relation name, so they cannot turn a
 * data query into a catalog one (the parse after them decides that).
 */
export function shimCatalogSql(sql: string): string {
  let text = sql
    .replace(/OPERATOR\s*\(\s*pg_catalog\s*\.\s*([~!<>=*+-]+)\s*\)/gi, ' $1 ')
    .replace(/\s+COLLATE\s+pg_catalog\s*\.\s*"?default"?/gi, '')
    .replace(
      /::\s*(?:pg_catalog\s*\.\s*)?"?([a-z_0-9]+)"?(\[\])?/gi,
      (whole, type: string, array?: string) => {
        const mapped = CAST_TYPES[type.toLowerCase()];
        return mapped ? `::${mapped}${array ?? ''}` : whole;
      },
    );
  // PostgreSQL lets a one-column function's alias name its value; DuckDB reads it as the row.
  text = text.replace(
    /(generate_series\s*\((?:[^()]|\([^()]*\))*\))\s+(?:AS\s+)?([a-z_]+)\b(?!\s*\()/gi,
    (whole, call: string, alias: string) =>
      /^(on|where|join|left|right|inner|cross|group|order|limit|union)$/i.test(alias)
        ? whole
        : `${call} AS ${alias}(${alias})`,
  );
  // Function calls drop their `pg_catalog.` (DuckDB resolves functions there anyway and would read
  // `pg_catalog.f(x)` as a method call on a column; the shim macros live outside pg_catalog).
  text = text.replace(/\bpg_catalog\s*\.\s*([a-z_][a-z0-9_]*)\s*\(/gi, '$1(');
  return text;
}

/** PostgreSQL-only cast targets drivers use, as the DuckDB types the scratch catalog holds them in. */
const CAST_TYPES: Record<string, string> = {
  regclass: 'VARCHAR',
  regtype: 'VARCHAR',
  regproc: 'VARCHAR',
  regprocedure: 'VARCHAR',
  regnamespace: 'VARCHAR',
  oid: 'BIGINT',
  name: 'VARCHAR',
  text: 'VARCHAR',
  char: 'VARCHAR',
  int2: 'SMALLINT',
  int4: 'INTEGER',
  int8: 'BIGINT',
  bool: 'BOOLEAN',
  oidvector: 'VARCHAR',
  int2vector: 'VARCHAR',
};

/** The schema of the scratch database's own catalog relations; hidden from every listing. */
const EXTRAS = 'tessera_catalog';

/** The schemas no listing shows: the engine's default one and the extras'. */
const HIDDEN_SCHEMAS = `('${EXTRAS}', 'main')`;

/**
 * Catalog relations as PostgreSQL 15 clients read them, where DuckDB's lack columns they select or
 * list schemas they must not see. A reference to one is replaced by a read of its view here.
 */
const CATALOG_VIEWS: Record<string, string> = {
  'pg_catalog.pg_class': `SELECT *, false AS relforcerowsecurity, '' AS relhasoids_text
    FROM pg_catalog.pg_class WHERE relnamespace NOT IN (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname IN ${HIDDEN_SCHEMAS})`,
  'pg_catalog.pg_namespace': `SELECT * FROM pg_catalog.pg_namespace WHERE nspname NOT IN ${HIDDEN_SCHEMAS}`,
  'pg_catalog.pg_database': `SELECT 0::BIGINT AS oid, 'tessera' AS datname, 0::BIGINT AS datdba, 6 AS encoding,
    'C' AS datcollate, 'C' AS datctype, NULL::VARCHAR AS daticulocale, 'c' AS datlocprovider, false AS datistemplate,
    true AS datallowconn, -1 AS datconnlimit, NULL::VARCHAR[] AS datacl`,
  // Catalogs DuckDB has not: empty, with the columns psql 15's \d reads.
  'pg_catalog.pg_policy': `SELECT NULL::VARCHAR AS polname, true AS polpermissive, NULL::BIGINT[] AS polroles,
    NULL::VARCHAR AS polqual, NULL::VARCHAR AS polwithcheck, NULL::VARCHAR AS polcmd, NULL::BIGINT AS polrelid, NULL::BIGINT AS oid LIMIT 0`,
  'pg_catalog.pg_statistic_ext': `SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid, NULL::VARCHAR AS stxname,
    NULL::BIGINT AS stxnamespace, NULL::VARCHAR[] AS stxkind, NULL::INTEGER AS stxstattarget, NULL::VARCHAR AS stxkeys LIMIT 0`,
  'pg_catalog.pg_statistic_ext_data': `SELECT NULL::BIGINT AS stxoid, NULL::BOOLEAN AS stxdinherit LIMIT 0`,
  'pg_catalog.pg_publication': `SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname, false AS puballtables,
    false AS pubviaroot LIMIT 0`,
  'pg_catalog.pg_publication_rel': `SELECT NULL::BIGINT AS oid, NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid,
    NULL::VARCHAR AS prqual, NULL::SMALLINT[] AS prattrs LIMIT 0`,
  'pg_catalog.pg_publication_namespace': `SELECT NULL::BIGINT AS oid, NULL::BIGINT AS pnpubid, NULL::BIGINT AS pnnspid LIMIT 0`,
  'pg_catalog.pg_inherits': `SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent, NULL::INTEGER AS inhseqno,
    false AS inhdetachpending LIMIT 0`,
  'pg_catalog.pg_trigger': `SELECT NULL::BIGINT AS oid, NULL::BIGINT AS tgrelid, NULL::VARCHAR AS tgname,
    NULL::BIGINT AS tgparentid, false AS tgisinternal, NULL::VARCHAR AS tgenabled LIMIT 0`,
  'pg_catalog.pg_rewrite': `SELECT NULL::BIGINT AS oid, NULL::BIGINT AS ev_class, NULL::VARCHAR AS rulename,
    NULL::VARCHAR AS ev_type, NULL::VARCHAR AS ev_enabled, false AS is_instead LIMIT 0`,
  'pg_catalog.pg_partitioned_table': `SELECT NULL::BIGINT AS partrelid, NULL::VARCHAR AS partstrat LIMIT 0`,
  'pg_catalog.pg_roles': `SELECT 0::BIGINT AS oid, 'tessera' AS rolname, false AS rolsuper, false AS rolcanlogin LIMIT 0`,
  'pg_catalog.pg_foreign_table': `SELECT NULL::BIGINT AS ftrelid, NULL::BIGINT AS ftserver, NULL::VARCHAR[] AS ftoptions LIMIT 0`,
  'information_schema.tables': `SELECT * FROM information_schema.tables WHERE table_schema NOT IN ${HIDDEN_SCHEMAS}`,
  'information_schema.columns': `SELECT * FROM information_schema.columns WHERE table_schema NOT IN ${HIDDEN_SCHEMAS}`,
  'information_schema.schemata': `SELECT * FROM information_schema.schemata WHERE schema_name NOT IN ${HIDDEN_SCHEMAS}`,
};

/** The catalog relation a reference names (`pg_class` and `pg_catalog.pg_class` alike), or undefined. */
function catalogRelation(name: string): string | undefined {
  const parts = name.split('.');
  if (parts.length === 1) return BARE_CATALOG_RELATION.test(parts[0]!) ? `pg_catalog.${parts[0]}` : undefined;
  const schema = parts[parts.length - 2]!;
  return schema === 'pg_catalog' || schema === 'information_schema'
    ? `${schema}.${parts[parts.length - 1]}`
    : undefined;
}

/**
 * The (shimmed) query with its catalog relations pointed at the scratch database's views, or
 * undefined when it reads anything but catalog relations (or none at all).
 */
export async function catalogOnlyQuery(sql: string): Promise<string | undefined> {
  let statements;
  try {
    statements = await parseSql(sql);
  } catch {
    return undefined; // Not a query DuckDB parses: the governed path answers with the proper error.
  }
  if (statements.length !== 1) return undefined;
  const tables = referencedTables(statements[0]!.node);
  if (tables.length === 0 || !tables.every(({ name }) => catalogRelation(name) !== undefined))
    return undefined;
  if (!tables.some(({ name }) => CATALOG_VIEWS[catalogRelation(name)!])) return sql;
  return rewriteTableReferences(statements[0]!.document, (reference) => {
    const relation = catalogRelation(reference.name)!;
    return CATALOG_VIEWS[relation]
      ? `SELECT * FROM ${EXTRAS}.${relation.replace('.', '__')}`
      : `SELECT * FROM ${relation}`;
  });
}

interface ScratchDatabase {
  session: Promise<EngineSession>;
  /** Statements on one connection run one at a time. */
  queue: Promise<unknown>;
}

/** Builds and keeps the scratch databases; one per platform. */
export class CatalogIntrospection {
  private readonly databases = new Map<string, ScratchDatabase>();

  constructor(private readonly engine: () => Promise<Engine>) {}

  /**
   * The answer to a catalog query over `tables` (the caller's visible catalog), or `undefined` when
   * the query reads anything but the catalog. Parameters are bound as the governed path binds them.
   */
  async answer(
    sql: string,
    tables: () => Promise<VisibleTable[]>,
    parameters: readonly ParameterValue[] = [],
  ): Promise<QueryResult | undefined> {
    const bound = parameters.length > 0 ? bindParameters(sql, parameters) : sql;
    const rewritten = await catalogOnlyQuery(shimCatalogSql(bound));
    if (rewritten === undefined) return undefined;
    const database = await this.databaseFor(await tables());
    const result = database.queue.then(async () => (await database.session).query(rewritten));
    database.queue = result.catch(() => undefined);
    try {
      return await result;
    } catch (error) {
      // The client's catalog query uses something the emulated catalog lacks: say so, as an engine error.
      throw new QueryError(
        `catalog introspection: ${error instanceof Error ? error.message : String(error)}`,
        sql,
        { code: 'query_failed', cause: error },
      );
    }
  }

  private async databaseFor(tables: VisibleTable[]): Promise<ScratchDatabase> {
    const ddl = scratchDdl(tables);
    const key = createHash('sha256').update(ddl.join(';\n')).digest('hex');
    let database = this.databases.get(key);
    if (database) {
      // Most recently used last, so the oldest is evicted first.
      this.databases.delete(key);
      this.databases.set(key, database);
      return database;
    }
    const engine = await this.engine();
    if (!engine.openScratchSession) {
      throw new Error(`the ${engine.name} engine has no scratch sessions: catalog introspection needs them`);
    }
    const session = engine.openScratchSession().then(async (opened) => {
      for (const statement of [...SHIM_MACROS, ...extrasDdl(), ...ddl]) await opened.run(statement);
      return opened;
    });
    database = { session, queue: session };
    this.databases.set(key, database);
    session.catch(() => this.databases.delete(key));
    for (const [oldKey, old] of this.databases) {
      if (this.databases.size <= MAX_SCRATCH_DATABASES) break;
      this.databases.delete(oldKey);
      void old.queue.then(async () => (await old.session).close());
    }
    return database;
  }

  /** Close every scratch database. */
  async close(): Promise<void> {
    const open = [...this.databases.values()];
    this.databases.clear();
    await Promise.all(
      open.map((database) => database.queue.then(async () => (await database.session).close())),
    );
  }
}

/** The scratch database's own catalog views (see CATALOG_VIEWS). */
function extrasDdl(): string[] {
  return [
    `CREATE SCHEMA ${EXTRAS}`,
    ...Object.entries(CATALOG_VIEWS).map(
      ([relation, select]) => `CREATE VIEW ${EXTRAS}.${relation.replace('.', '__')} AS ${select}`,
    ),
  ];
}

/** The statements that build one view of the catalog: schemas, empty tables, comments. */
function scratchDdl(tables: VisibleTable[]): string[] {
  const statements: string[] = [];
  const schemas = new Set<string>();
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    const [schema, name] = table.name.includes('.') ? table.name.split('.', 2) : ['main', table.name];
    if (!schemas.has(schema!)) {
      schemas.add(schema!);
      statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema!)}`);
    }
    const qualified = `${quoteIdentifier(schema!)}.${quoteIdentifier(name!)}`;
    const columns = table.columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`);
    statements.push(`CREATE TABLE ${qualified} (${columns.join(', ')})`);
    if (table.description)
      statements.push(`COMMENT ON TABLE ${qualified} IS ${quoteLiteral(table.description)}`);
    for (const column of table.columns) {
      if (column.description) {
        statements.push(
          `COMMENT ON COLUMN ${qualified}.${quoteIdentifier(column.name)} IS ${quoteLiteral(column.description)}`,
        );
      }
    }
  }
  return statements;
}
