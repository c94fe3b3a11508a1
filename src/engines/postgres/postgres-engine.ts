import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FieldType } from '../../model/index.ts';
import type { Dialect } from '../dialect.ts';
import type { ColumnInfo, Engine, EngineSession, QueryResult, ReadOptions } from '../engine.ts';
import { postgresDialect } from './postgres-dialect.ts';

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
  constructor(
    private readonly client: pg.Client,
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
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (pid === undefined) return;
    const canceller = new pg.Client({ connectionString: this.connectionString });
    void canceller
      .connect()
      .then(() => canceller.query('SELECT pg_cancel_backend($1)', [pid]))
      .catch(() => undefined)
      .finally(() => void canceller.end());
  }

  close(): void {
    void this.client.end().catch(() => undefined);
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

/**
 * An engine whose sessions run in a PostgreSQL database (`engine: postgres://…`). Each session is
 * a connection of its own, with `TimeZone` UTC. Creating the engine creates `pgcrypto` when it can
 * (HMAC-SHA256 for HASH masks).
 */
export class PostgresEngine implements Engine {
  readonly name = 'postgres';
  readonly dialect: Dialect = postgresDialect;

  private constructor(private readonly connectionString: string) {}

  static async create(connectionString: string): Promise<PostgresEngine> {
    const engine = new PostgresEngine(connectionString);
    const session = await engine.openSession();
    try {
      await session.run('CREATE EXTENSION IF NOT EXISTS pgcrypto');
    } finally {
      session.close();
    }
    return engine;
  }

  async openSession(): Promise<EngineSession> {
    return new PostgresSession(await this.connect(), this.connectionString);
  }

  /** The table holding version `version` of `table`: `<table>__v<version>`. */
  versionTable(table: string, version: number): string {
    return postgresDialect.identifier(`${table}__v${version}`);
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
    columns: { name: string; type: FieldType }[],
    csvFile: string,
  ): Promise<void> {
    const client = await this.connect();
    try {
      const target = this.versionTable(table, version);
      const definitions = columns.map(
        (column) => `${postgresDialect.identifier(column.name)} ${postgresDialect.columnType(column.type)}`,
      );
      await client.query(`CREATE TABLE ${target} (${definitions.join(', ')})`);
      const names = columns.map((column) => postgresDialect.identifier(column.name)).join(', ');
      const stream = client.query(copyFrom(`COPY ${target} (${names}) FROM STDIN (FORMAT csv, HEADER true)`));
      await pipeline(createReadStream(csvFile), stream);
    } finally {
      await client.end();
    }
  }

  /**
   * Make version `version` the current one: the view `table` now selects from its table. One
   * transaction, so a reader sees the old version or the new one, never neither.
   */
  async publishVersion(table: string, version: number): Promise<void> {
    const client = await this.connect();
    try {
      const view = postgresDialect.identifier(table);
      await client.query('BEGIN');
      await client.query(`DROP VIEW IF EXISTS ${view}`);
      await client.query(`CREATE VIEW ${view} AS SELECT * FROM ${this.versionTable(table, version)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await client.end();
    }
  }

  async close(): Promise<void> {}

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    await client.connect();
    await client.query(`SET TimeZone = 'UTC'`);
    return client;
  }
}
