/**
 * `source: { type: mysql, url, table | query, cursor }` (MySQL and MariaDB): the rows are streamed
 * with mysql2's query stream into a staged CSV file, a bounded batch at a time (the connection is
 * paused while the file catches up), inside one consistent-snapshot transaction so the high-water
 * mark and the rows agree. Values keep their exact text: dates and times as the server prints them
 * (TIMESTAMP in UTC), DECIMAL and BIGINT as text (never through a double), JSON as its text,
 * binary values as `\x` and hex.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mysql, { type FieldPacket } from 'mysql2';
import { makeFilePrivate, makePrivateDirectory } from '../../storage/index.ts';
import type { SourceReader, StagedSource } from './source-reader.ts';
import {
  DatabaseReadPlan,
  MAX_KEYS_AT_MARK,
  MYSQL_DIALECT,
  readFailure,
  rowsText,
  reportCursorChange,
  stagedCsvFile,
  stagedCsvTask,
  type DatabaseCursor,
} from './database-source.ts';

/** Rows the query stream buffers before it pauses the connection. */
const BATCH_ROWS = 1000;
/** Bytes of CSV gathered before they are handed to the file. */
const CHUNK_BYTES = 1 << 16;

/** Column types (mysql2's `columnType`) whose values compare as numbers. */
const NUMERIC_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);

export const readMysqlSource: SourceReader = async (request) => {
  const { task, fields, stagingFolder, cursor, log, signal } = request;
  const plan = new DatabaseReadPlan(MYSQL_DIALECT, task, fields, cursor);
  reportCursorChange(plan, cursor, log);
  let connection: mysql.Connection | undefined;
  let connected = false;
  try {
    connection = mysql.createConnection({ ...connectionOptions(plan.source.url), ...TYPE_OPTIONS });
    // A connection that fails later (the server goes away) must not crash the process.
    connection.on('error', () => {});
    const client = connection.promise();
    await client.connect();
    connected = true;
    await client.query("SET time_zone = '+00:00'");
    await client.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await client.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    let next: DatabaseCursor | undefined;
    if (plan.source.cursor !== undefined) {
      const [rows, columns] = await client.query({
        sql: plan.markSql((expression) => expression),
        rowsAsArray: true,
      });
      const value = (rows as unknown[][])[0]?.[0] ?? null;
      const mark = value === null ? null : textOf(value);
      const numeric = NUMERIC_TYPES.has((columns as FieldPacket[])[0]?.columnType ?? -1);
      if (mark === null && plan.previous) {
        await client.query('COMMIT');
        return {
          task,
          nothingNew: `nothing new in the mysql source's ${plan.description}: no row has ${plan.source.cursor} past ${plan.previous.mark} (the mark of the last published run)`,
        };
      }
      if (mark !== null) {
        const keysSql = plan.keysAtMarkSql(mark, numeric);
        let keys: string[][] | undefined;
        if (keysSql !== undefined) {
          const [keyRows] = await client.query({ sql: keysSql, rowsAsArray: true });
          keys = (keyRows as unknown[][]).map((row) =>
            row.map((item) => (item === null ? '' : textOf(item))),
          );
          if (keys.length > MAX_KEYS_AT_MARK) {
            log(
              `more than ${MAX_KEYS_AT_MARK.toLocaleString('en-US')} rows share ${plan.source.cursor} ${mark}: the next run reads strictly past it`,
            );
          }
        }
        next = plan.nextCursor(mark, numeric, keys);
      }
    }
    const { folder, file } = stagedCsvFile(stagingFolder);
    await makePrivateDirectory(folder);
    const query = connection.query({ sql: plan.rowsSql(next), rowsAsArray: true });
    const csv = new CsvRows();
    query.on('fields', (columns: FieldPacket[]) => csv.setHeader(columns.map((column) => column.name)));
    const rows = query.stream({ highWaterMark: BATCH_ROWS });
    const output = createWriteStream(file, { mode: 0o600, highWaterMark: 1 << 20 });
    await (signal ? pipeline(rows, csv, output, { signal }) : pipeline(rows, csv, output));
    await makeFilePrivate(file);
    await client.query('COMMIT');
    log(
      `read ${rowsText(csv.rowCount)} of the mysql source's ${plan.description}` +
        (plan.previous ? ` past ${plan.source.cursor} ${plan.previous.mark}` : '') +
        (next ? ` up to ${next.mark}` : '') +
        ' into the staged CSV',
    );
    const staged: StagedSource = {
      task: stagedCsvTask(task, file),
      ...(next ? { cursor: next } : {}),
      // The staging folder becomes the version's folder: the raw rows must not stay beside it.
      afterPublish: () => rm(folder, { recursive: true, force: true }),
    };
    connection.end();
    connection = undefined;
    return staged;
  } catch (error) {
    signal?.throwIfAborted();
    if (!connected) throw readFailure(task, plan, 'connect', error);
    const code = (error as { code?: unknown }).code;
    throw readFailure(
      task,
      plan,
      code === 'ER_NO_SUCH_TABLE' ? 'no-table' : code === 'ER_BAD_FIELD_ERROR' ? 'no-column' : 'other',
      error,
    );
  } finally {
    // Still open: the read failed or stopped part-way; the server rolls the transaction back.
    connection?.destroy();
  }
};

/** Values as exact text: no conversion through JavaScript numbers or dates. */
const TYPE_OPTIONS = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  timezone: 'Z',
  connectTimeout: 30_000,
} as const;

/** `mysql://user:password@host:port/database` (or `mariadb://`) as mysql2's connection options. */
function connectionOptions(url: string): mysql.ConnectionOptions {
  const parsed = new URL(url);
  const decode = (text: string) => (text === '' ? undefined : decodeURIComponent(text));
  const database = decode(parsed.pathname.replace(/^\//, ''));
  const user = decode(parsed.username);
  const password = decode(parsed.password);
  return {
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(database !== undefined ? { database } : {}),
  };
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

/** Rows (arrays of mysql2 values) in, CSV text out, the header first (even with no rows). */
class CsvRows extends Transform {
  rowCount = 0;
  private header: string | undefined;
  private pending = '';

  constructor() {
    super({ writableObjectMode: true, readableObjectMode: false });
  }

  setHeader(names: string[]): void {
    this.header = csvLine(names);
  }

  override _transform(row: unknown[], _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.header !== undefined) {
      this.pending += this.header;
      this.header = undefined;
    }
    this.pending += csvLine(row);
    this.rowCount++;
    if (this.pending.length >= CHUNK_BYTES) {
      this.push(this.pending);
      this.pending = '';
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.header !== undefined) this.pending += this.header;
    if (this.pending !== '') this.push(this.pending);
    callback();
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvLine(values: readonly unknown[]): string {
  return values.map(csvValue).join(',') + '\n';
}

/** NULL is an empty field; an empty string is `""`. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (Buffer.isBuffer(value)) text = `\\x${value.toString('hex')}`;
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return text === '' || NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
