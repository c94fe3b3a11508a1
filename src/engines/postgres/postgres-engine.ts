import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Dialect } from '../dialect.ts';
import type {
  ColumnInfo,
  Engine,
  EngineSession,
  QueryResult,
  ReadOptions,
  SessionOptions,
  VersionColumn,
  VersionTables,
} from '../engine.ts';
import { postgresDialect } from './postgres-dialect.ts';
import { duckdbCsvRelation, duckdbTypeOfPostgres, postgresInterchangeSelect } from './version-interchange.ts';

/** int8: a number when exact, else its text. */
function parseBigint(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** numeric: a number when it prints back to the same value, else its text. */
function parseNumeric(text: string): number | string {
  const value = Number(text);
  const canonical = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return Number.isFinite(value) && String(value) === canonical ? value : text;
}

/** Values as JSON-compatible as DuckDB's: dates and timestamps as ISO-8601 text (`…Z` with a zone). */
const TYPE_PARSERS: Record<number, (text: string) => unknown> = {
  20: parseBigint,
  1700: parseNumeric,
  1082: (text) => text,
  1114: (text) => text.replace(' ', 'T'),
  1184: (text) => text.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z'),
};

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return (TYPE_PARSERS[oid] as never) ?? pg.types.getTypeParser(oid, format as 'text');
  },
};

class PostgresSession implements EngineSession {
  /** Set once a statement was cancelled: the connection is then closed rather than pooled again. */
  private interrupted = false;

  constructor(
    readonly client: pg.PoolClient,
    private readonly connectionString: string,
  ) {}

  async run(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  async query(sql: string, options: ReadOptions = {}): Promise<QueryResult> {
    const limited =
      options.maxRows === undefined ? sql : `SELECT * FROM (${sql}) AS q LIMIT ${options.maxRows + 1}`;
    const result = await this.client.query({ text: limited, types });
    const columns = await this.columns(result.fields);
    const rows = result.rows as Record<string, unknown>[];
    if (options.maxRows !== undefined && rows.length > options.maxRows) {
      return { columns, rows: rows.slice(0, options.maxRows), truncated: true };
    }
    return { columns, rows };
  }

  async describe(sql: string): Promise<ColumnInfo[]> {
    const result = await this.client.query({ text: `SELECT * FROM (${sql}) AS q LIMIT 0`, types });
    return this.columns(result.fields);
  }

  interrupt(): void {
    this.interrupted = true;
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid === undefined) return;
    const canceller = new pg.Client({ connectionString: this.connectionString });
    void canceller
      .connect()
      .then(() => canceller.query('SELECT pg_cancel_backend($1)', [pid]))
      .catch(() => undefined)
      .finally(() => void canceller.end());
  }

  /**
   * Back to the pool with nothing left of this session (`DISCARD ALL`: settings such as the hash
   * key and read-only mode, temporary objects, prepared statements); an interrupted or broken
   * connection is closed instead.
   */
  close(): void {
    const client = this.client;
    if (this.interrupted) {
      client.release(true);
      return;
    }
    void client.query('DISCARD ALL').then(
      () => client.release(),
      (error: Error) => client.release(error),
    );
  }

  private async columns(fields: pg.FieldDef[]): Promise<ColumnInfo[]> {
    if (fields.length === 0) return [];
    const names = await this.client.query<{ type: string }>(
      `SELECT format_type(oid, mod) AS type FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS f(oid, mod, n) ORDER BY n`,
      [fields.map((field) => field.dataTypeID), fields.map((field) => field.dataTypeModifier)],
    );
    return fields.map((field, index) => ({ name: field.name, type: names.rows[index]!.type }));
  }
}

/** PostgreSQL's longest identifier, in bytes: longer names are cut silently, so two could meet. */
const MAX_IDENTIFIER_BYTES = 63;
/** A version table's name beyond its table's: `__v` and up to ten digits. */
const VERSION_SUFFIX_BYTES = 13;

/**
 * The name a table's view and version tables are built on: the table's own name when the longest
 * version table name still fits PostgreSQL's 63 bytes, else a prefix of it and a hash of the whole
 * (`analytics.a_very_long…_3f9a1c07b2`), the same for every version, distinct per table.
 */
export function postgresBaseName(table: string): string {
  if (Buffer.byteLength(table) + VERSION_SUFFIX_BYTES <= MAX_IDENTIFIER_BYTES) return table;
  const hash = createHash('sha256').update(table).digest('hex').slice(0, 10);
  let prefix = '';
  for (const character of table) {
    if (Buffer.byteLength(prefix + character) > MAX_IDENTIFIER_BYTES - VERSION_SUFFIX_BYTES - hash.length - 1)
      break;
    prefix += character;
  }
  return `${prefix}_${hash}`;
}

/**
 * `?schema=name` is Tessera's, as for the catalog URL (libpq does not know it): the engine's tables
 * live in that schema, which is created when missing.
 */
function withoutSchemaParameter(connectionString: string): { url: string; schema?: string } {
  const parsed = new URL(connectionString);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema === undefined) return { url: connectionString };
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

/**
 * The schema as a `search_path` startup option: quoted as an identifier, with what the option
 * syntax treats specially (spaces, backslashes) escaped; `public` follows, for pgcrypto's functions.
 */
function searchPathOption(schema: string): string {
  return `${postgresDialect.identifier(schema)},public`.replace(/[\\ ]/g, (character) => `\\${character}`);
}

/** `server_version_num` of PostgreSQL 15.0. */
const MINIMUM_SERVER_VERSION = 150000;

/** How many connections an engine keeps at most; further sessions wait for one to be free. */
const POOL_SIZE = 10;

/**
 * An engine whose sessions run in a PostgreSQL database (`engine: postgres://…`), on a pool of at
 * most ten connections with `TimeZone` UTC (a burst of queries waits for a connection rather than
 * exhausting the server's). Creating the engine creates `pgcrypto` when it can (HMAC-SHA256 for
 * HASH masks).
 */
export class PostgresEngine implements Engine {
  readonly name = 'postgres';
  readonly dialect: Dialect = postgresDialect;
  private readonly pool: pg.Pool;

  /** The schema Tessera's tables live in when the URL names one (`?schema=name`), else the default. */
  private readonly schema: string | undefined;

  private constructor(private readonly connectionString: string) {
    const { url, schema } = withoutSchemaParameter(connectionString);
    this.schema = schema;
    // TimeZone (and the schema) as startup options: the session defaults `DISCARD ALL` returns to.
    const options = ['-c TimeZone=UTC', ...(schema ? [`-c search_path=${searchPathOption(schema)}`] : [])];
    this.pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, options: options.join(' ') });
    // An idle connection the server closed must not crash the process; the pool drops it.
    this.pool.on('error', () => undefined);
  }

  /**
   * Connect and prepare the database: the schema when the URL names one, and `pgcrypto` when this
   * role may create it (a project without HASH masks needs none, so failing to create it is not an
   * error: HASH then fails with PostgreSQL's "function hmac(…) does not exist"). Refuses a server
   * older than PostgreSQL 15, whose SQL lacks what masks and checks are written with (`regexp_like`).
   */
  static async create(connectionString: string): Promise<PostgresEngine> {
    const engine = new PostgresEngine(connectionString);
    try {
      const session = await engine.openSession();
      try {
        const version = await session.query(
          `SELECT current_setting('server_version_num') AS n, version() AS v`,
        );
        if (Number(version.rows[0]?.n) < MINIMUM_SERVER_VERSION) {
          throw new Error(
            `the PostgreSQL engine needs PostgreSQL 15 or later (masks use regexp_like); this server is ${String(version.rows[0]?.v).split(' on ')[0]}`,
          );
        }
        if (engine.schema)
          await session.run(`CREATE SCHEMA IF NOT EXISTS ${postgresDialect.identifier(engine.schema)}`);
        await session.run('CREATE EXTENSION IF NOT EXISTS pgcrypto').catch(() => undefined);
      } finally {
        session.close();
      }
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /**
   * A sandboxed session (user SQL, already guarded to one SELECT) is read-only besides: every
   * transaction it starts is `READ ONLY`. A session is one pooled connection, wiped (`DISCARD ALL`)
   * before another session takes it, so nothing it set (the hash key) outlives it.
   */
  async openSession(options: SessionOptions = {}): Promise<EngineSession> {
    const client = await this.pool.connect();
    if (options.sandbox) {
      try {
        await client.query('SET default_transaction_read_only = on');
      } catch (error) {
        client.release(true);
        throw error;
      }
    }
    return new PostgresSession(client, this.connectionString);
  }

  /** Versions as tables `<table>__v<N>`, the table's view pointing at the current one. */
  readonly versionTables: VersionTables = {
    relation: (table, version) => this.versionTable(table, version),
    has: async (table, version) => {
      const client = await this.connect();
      try {
        const result = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
          this.versionTable(table, version),
        ]);
        return result.rows[0]?.found !== null;
      } finally {
        client.release();
      }
    },
    interchangeSelect: (columns) => postgresInterchangeSelect(columns),
    load: (table, version, columns, csvFile) => this.loadVersion(table, version, columns, csvFile),
    publish: (table, version) => this.publishVersion(table, version),
    retain: (table, versions) => this.retainVersions(table, versions),
    exportCsv: async (session, sql, csvFile) => {
      if (!(session instanceof PostgresSession)) throw new Error('not a PostgreSQL session');
      const columns = await session.describe(sql);
      await pipeline(
        session.client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT csv, HEADER true)`)),
        createWriteStream(csvFile),
      );
      const read = columns.map((column) => ({ name: column.name, type: duckdbTypeOfPostgres(column.type) }));
      return { columns: read, duckdbRelation: duckdbCsvRelation(csvFile, read) };
    },
  };

  /** The table holding version `version` of `table`: `<table>__v<version>` (see `postgresBaseName`). */
  versionTable(table: string, version: number): string {
    return postgresDialect.identifier(`${postgresBaseName(table)}__v${version}`);
  }

  /**
   * Store version `version` of `table` as its own table, loaded with `COPY … FROM STDIN` from a CSV
   * file with a header (what DuckDB writes after conforming: `COPY … TO 'f.csv' (HEADER)`). The
   * file's bytes stream to the server; no row passes through JavaScript. Nothing reads the version
   * until `publishVersion`.
   */
  async loadVersion(
    table: string,
    version: number,
    columns: VersionColumn[],
    csvFile: string,
  ): Promise<void> {
    const client = await this.connect();
    // Loaded under a name of its own, then renamed in one transaction: a reader never sees a
    // half-loaded version, and of two processes loading the same version the second keeps the first's.
    const loading = `tessera_loading_${randomUUID().replaceAll('-', '')}`;
    let failed = false;
    try {
      const definitions = columns.map(
        (column) => `${postgresDialect.identifier(column.name)} ${postgresDialect.columnType(column.type)}`,
      );
      await client.query(`CREATE TABLE ${postgresDialect.identifier(loading)} (${definitions.join(', ')})`);
      const names = columns.map((column) => postgresDialect.identifier(column.name)).join(', ');
      const stream = client.query(
        copyFrom(
          `COPY ${postgresDialect.identifier(loading)} (${names}) FROM STDIN (FORMAT csv, HEADER true)`,
        ),
      );
      await pipeline(createReadStream(csvFile), stream);
      await client.query('BEGIN');
      // One loader at a time decides for this version (the lock ends with the transaction).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `tessera version ${table}__v${version}`,
      ]);
      const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
        this.versionTable(table, version),
      ]);
      if (exists.rows[0]?.found === null) {
        await client.query(
          `ALTER TABLE ${postgresDialect.identifier(loading)} RENAME TO ${postgresDialect.identifier(`${postgresBaseName(table)}__v${version}`)}`,
        );
      } else {
        await client.query(`DROP TABLE ${postgresDialect.identifier(loading)}`);
      }
      await client.query('COMMIT');
    } catch (error) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      await client
        .query(`DROP TABLE IF EXISTS ${postgresDialect.identifier(loading)}`)
        .catch(() => undefined);
      throw error;
    } finally {
      // A connection a load failed on is closed, not pooled again.
      client.release(failed);
    }
  }

  /** Drop the version tables of `table` whose version is not in `versions`. */
  async retainVersions(table: string, versions: readonly number[]): Promise<void> {
    const client = await this.connect();
    try {
      const prefix = `${postgresBaseName(table)}__v`;
      const result = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND left(c.relname, $1) = $2`,
        [prefix.length, prefix],
      );
      const kept = new Set(versions);
      for (const { name } of result.rows) {
        const version = /^(\d+)$/.exec(name.slice(prefix.length))?.[1];
        if (version === undefined || kept.has(Number(version))) continue;
        await client.query(`DROP TABLE IF EXISTS ${postgresDialect.identifier(name)} CASCADE`);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Make version `version` the current one: the view `table` now selects from its table. One
   * transaction, so a reader sees the old version or the new one, never neither.
   */
  async publishVersion(table: string, version: number): Promise<void> {
    const client = await this.connect();
    try {
      const view = postgresDialect.identifier(postgresBaseName(table));
      await client.query('BEGIN');
      await client.query(`DROP VIEW IF EXISTS ${view}`);
      await client.query(`CREATE VIEW ${view} AS SELECT * FROM ${this.versionTable(table, version)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** A pooled connection for the engine's own work; `release` it when done (`release(true)` after a failure). */
  private connect(): Promise<pg.PoolClient> {
    return this.pool.connect();
  }
}
