/**
 * `source: { type: postgres, url, table | query, cursor }`: the rows are streamed with
 * `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)` straight into a staged CSV file (the socket is
 * paused while the file catches up, so memory stays bounded whatever the table's size), inside one
 * repeatable-read transaction so the high-water mark and the rows come from the same snapshot.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { makeFilePrivate, makePrivateDirectory } from '../../storage/index.ts';
import type { SourceReader, StagedSource } from './source-reader.ts';
import {
  DatabaseReadPlan,
  MAX_KEYS_AT_MARK,
  POSTGRES_DIALECT,
  readFailure,
  rowsText,
  reportCursorChange,
  stagedCsvFile,
  stagedCsvTask,
  type DatabaseCursor,
} from './database-source.ts';

/** PostgreSQL error codes (SQLSTATE) the reader explains. */
const UNDEFINED_TABLE = '42P01';
const UNDEFINED_COLUMN = '42703';

export const readPostgresSource: SourceReader = async (request) => {
  const { task, fields, stagingFolder, cursor, log, signal } = request;
  const plan = new DatabaseReadPlan(POSTGRES_DIALECT, task, fields, cursor);
  reportCursorChange(plan, cursor, log);
  const client = new pg.Client({
    connectionString: plan.source.url,
    application_name: `tessera ${task.name}`,
    connectionTimeoutMillis: 30_000,
  });
  // A connection that fails after connecting (the server goes away) must not crash the process.
  client.on('error', () => {});
  let connected = false;
  try {
    await client.connect();
    connected = true;
    // Text the conform pipeline reads as written: ISO dates, UTC offsets, literal backslashes.
    await client.query(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET standard_conforming_strings = on",
    );
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    let next: DatabaseCursor | undefined;
    if (plan.source.cursor !== undefined) {
      const markRow = await client.query<{ mark: string | null }>(
        plan.markSql((expression) => `(${expression})::text`),
      );
      const mark = markRow.rows[0]?.mark ?? null;
      if (mark === null && plan.previous) {
        await client.query('COMMIT');
        return {
          task,
          nothingNew: `nothing new in the postgres source's ${plan.description}: no row has ${plan.source.cursor} past ${plan.previous.mark} (the mark of the last published run)`,
        };
      }
      if (mark !== null) {
        const keysSql = plan.keysAtMarkSql(mark, false);
        let keys: string[][] | undefined;
        if (keysSql !== undefined) {
          const result = await client.query({ text: keysSql, rowMode: 'array' });
          keys = (result.rows as (string | null)[][]).map((row) => row.map((value) => value ?? ''));
          if (keys.length > MAX_KEYS_AT_MARK) {
            log(
              `more than ${MAX_KEYS_AT_MARK.toLocaleString('en-US')} rows share ${plan.source.cursor} ${mark}: the next run reads strictly past it`,
            );
          }
        }
        next = plan.nextCursor(mark, false, keys);
      }
    }
    const { folder, file } = stagedCsvFile(stagingFolder);
    await makePrivateDirectory(folder);
    const copy = client.query(
      copyTo(`COPY (${plan.rowsSql(next)}) TO STDOUT (FORMAT csv, HEADER)`, { highWaterMark: 1 << 20 }),
    );
    const output = createWriteStream(file, { mode: 0o600, highWaterMark: 1 << 20 });
    await (signal ? pipeline(copy, output, { signal }) : pipeline(copy, output));
    await makeFilePrivate(file);
    await client.query('COMMIT');
    log(
      `read ${rowsText(copy.rowCount)} of the postgres source's ${plan.description}` +
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
    return staged;
  } catch (error) {
    signal?.throwIfAborted();
    if (!connected) throw readFailure(task, plan, 'connect', error);
    const code = (error as { code?: unknown }).code;
    throw readFailure(
      task,
      plan,
      code === UNDEFINED_TABLE ? 'no-table' : code === UNDEFINED_COLUMN ? 'no-column' : 'other',
      error,
    );
  } finally {
    await client.end().catch(() => {});
  }
};
