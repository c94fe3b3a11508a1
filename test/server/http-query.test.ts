// POST /api/v1/query and signed Parquet URLs against a listening server on the served healthcare
// example: every format parsed back, masks, denied columns and row filters holding, limits,
// cancellation when the client goes away, each query audited; curl for CSV and Parquet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession } from '../../src/engines/engine.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { startHttpApi } from '../../src/server/http/index.ts';
import { requireService } from '../support/services.ts';
import { ANALYST, CLINICIAN, openServedExample, type ServedExample } from '../support/served-example.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const run = promisify(execFile);

let example: ServedExample;
let server: { port: number; close(): Promise<void> };
let base: string;
let engine: DuckdbEngine;
let session: EngineSession;
let scratch: string;

before(async () => {
  example = await openServedExample();
  server = await startHttpApi(example.handle, { host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${server.port}`;
  engine = await DuckdbEngine.create();
  session = await engine.openSession();
  scratch = await mkdtemp(join(tmpdir(), 'tessera-http-query-'));
});
after(async () => {
  session?.close();
  await engine?.close();
  await server?.close();
  await example?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function query(token: string | undefined, body: Json): Promise<Response> {
  return fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

/** Rows of a Parquet file, read back by DuckDB. */
async function parquetRows(bytes: ArrayBuffer, sql = 'select * from rows order by all'): Promise<Json[]> {
  const file = join(scratch, `${Math.random().toString(36).slice(2)}.parquet`);
  await writeFile(file, Buffer.from(bytes));
  const result = await session.query(sql.replace('rows', `read_parquet(${quoteLiteral(file)})`));
  return result.rows as Json[];
}

const PATIENTS = 'select patient_id, ssn, state from clinical.patients order by patient_id';
const HEX_64 = /^[0-9a-f]{64}$/;

describe('POST /api/v1/query', () => {
  test('JSON: masks and the row filter hold for the analyst; the clinician reads in clear', async () => {
    const analyst = await query(example.tokens.analyst, { sql: PATIENTS, limit: 1000 });
    assert.equal(analyst.status, 200);
    const body = (await analyst.json()) as Json;
    assert.deepEqual(
      body.columns.map((column: Json) => column.name),
      ['patient_id', 'ssn', 'state'],
    );
    assert.ok(body.rows.length > 0);
    assert.ok(body.rows.every((row: Json) => row.state === 'CA' && HEX_64.test(row.ssn)));
    assert.equal(body.truncated, false);
    const clinician = (await (
      await query(example.tokens.clinician, { sql: PATIENTS, limit: 1000 })
    ).json()) as Json;
    assert.ok(clinician.rows.length > body.rows.length);
    assert.ok(clinician.rows.every((row: Json) => /^\d{3}-\d{2}-\d{4}$/.test(row.ssn)));
  });

  test('CSV (RFC 4180 with a header) and NDJSON parse back to the JSON rows', async () => {
    const sql = `select patient_id, state, 'a,"quoted"' || chr(10) || 'line' as awkward from clinical.patients order by patient_id`;
    const json = (await (await query(example.tokens.analyst, { sql, limit: 5 })).json()) as Json;
    const csv = await query(example.tokens.analyst, { sql, limit: 5, format: 'csv' });
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal(csv.headers.get('x-tessera-truncated'), 'true');
    const text = await csv.text();
    assert.ok(text.startsWith('patient_id,state,awkward\r\n'));
    assert.deepEqual(
      parseCsv(text).slice(1),
      json.rows.map((row: Json) => [row.patient_id, row.state, row.awkward]),
    );
    assert.equal(json.rows[0].awkward, 'a,"quoted"\nline');

    const ndjson = await query(example.tokens.analyst, { sql, limit: 5, format: 'ndjson' });
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    assert.deepEqual(lines, json.rows);
  });

  test("Parquet is streamed from the engine's file and reads back with the masks applied", async () => {
    const response = await query(example.tokens.analyst, { sql: PATIENTS, format: 'parquet', limit: 1000 });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.apache.parquet');
    const rows = await parquetRows(await response.arrayBuffer());
    assert.equal(String(rows.length), response.headers.get('x-tessera-row-count'));
    assert.ok(rows.length > 0 && rows.every((row) => row.state === 'CA' && HEX_64.test(row.ssn as string)));
  });

  test("the Parquet export's temporary file is removed once streamed", async () => {
    const platform = example.handle.platform;
    const exported: string[] = [];
    const watched = new Proxy(platform, {
      get(target, property) {
        if (property === 'exportParquet') {
          return async (...args: Parameters<typeof platform.exportParquet>) => {
            const result = await target.exportParquet(...args);
            exported.push(result.path);
            return result;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const handle = Object.create(example.handle, {
      platform: { get: () => watched },
    }) as typeof example.handle;
    const watching = await startHttpApi(handle, { host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${watching.port}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${example.tokens.analyst}` },
        body: JSON.stringify({ sql: PATIENTS, format: 'parquet' }),
      });
      assert.ok((await response.arrayBuffer()).byteLength > 0);
      assert.equal(exported.length, 1);
      await waitFor(async () => (existsSync(exported[0]!) ? undefined : true));
    } finally {
      await watching.close();
    }
  });

  test('a query past its time limit is 504 query_timeout', async () => {
    const platform = example.handle.platform;
    // governance.query_timeout as a repo would set it, shortened for this one server.
    const watched = new Proxy(platform, {
      get(target, property) {
        if (property === 'query') {
          return (sql: string, options: Parameters<typeof platform.query>[1]) =>
            target.query(sql, { ...options, timeoutMs: 50 });
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const handle = Object.create(example.handle, {
      platform: { get: () => watched },
    }) as typeof example.handle;
    const watching = await startHttpApi(handle, { host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${watching.port}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${example.tokens.clinician}` },
        body: JSON.stringify({
          sql: 'select count(*) as n from range(1000000000) a, range(1000) b where a.range % 13 = b.range',
        }),
      });
      assert.equal(response.status, 504);
      assert.equal(((await response.json()) as Json).error.code, 'query_timeout');
    } finally {
      await watching.close();
    }
  });

  test('parameters bind $n; a missing one is a 400 saying so', async () => {
    const body = (await (
      await query(example.tokens.clinician, {
        sql: 'select count(*) as n from clinical.patients where state = $1',
        parameters: ['CA'],
      })
    ).json()) as Json;
    const all = (await (
      await query(example.tokens.analyst, { sql: 'select count(*) as n from clinical.patients' })
    ).json()) as Json;
    assert.equal(
      Number(body.rows[0].n),
      Number(all.rows[0].n),
      "the analyst's filter is CA, the clinician asked for CA",
    );
    const missing = await query(example.tokens.clinician, { sql: 'select $1 as x', parameters: [] });
    assert.equal(missing.status, 400);
  });

  test('as an attacker: a denied column, a denied table, no token, another file function, a huge limit', async () => {
    const denied = await query(example.tokens.analyst, { sql: 'select last_name from clinical.patients' });
    assert.equal(denied.status, 400);
    const visitor = (await (
      await query(example.tokens.visitor, { sql: 'select * from clinical.patients' })
    ).json()) as Json;
    const unknown = (await (
      await query(example.tokens.visitor, { sql: 'select * from clinical.nothing' })
    ).json()) as Json;
    assert.equal(visitor.error.code, 'query_refused');
    assert.equal(
      visitor.error.message.replace('clinical.patients', 'X'),
      unknown.error.message.replace('clinical.nothing', 'X'),
    );
    assert.equal((await query(undefined, { sql: 'select 1' })).status, 401);
    const file = await query(example.tokens.clinician, { sql: "select * from read_parquet('/etc/passwd')" });
    assert.equal(file.status, 400);
    const huge = await query(example.tokens.analyst, { sql: 'select 1', limit: 1_000_001 });
    assert.equal(huge.status, 400);
    assert.match(((await huge.json()) as Json).error.message, /limit/);
    const format = await query(example.tokens.analyst, { sql: 'select 1', format: 'xlsx' });
    assert.equal(format.status, 400);
  });

  test('the default limit is 10,000 rows and says it truncated', async () => {
    const body = (await (
      await query(example.tokens.analyst, { sql: 'select * from range(20000)' })
    ).json()) as Json;
    assert.equal(body.rows.length, 10_000);
    assert.equal(body.truncated, true);
  });

  test('every query is in the audit log', async () => {
    const sql = `select count(*) as audited_${Date.now()} from clinical.patients`;
    assert.equal((await query(example.tokens.analyst, { sql })).status, 200);
    const [entry] = await example.handle.platform.auditLog({ principal: ANALYST, limit: 1 });
    assert.equal(entry?.sql, sql);
    assert.equal(entry?.outcome, 'allowed');
  });

  test('a client that goes away before the query starts cancels it: audited as failed, cancelled', async () => {
    const sql = 'select count(*) as n from range(100000000) a, range(1000) b where a.range % 7 = b.range';
    await new Promise<void>((resolve) => {
      const request = httpRequest(`${base}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${example.tokens.clinician}` },
      });
      request.on('error', () => resolve());
      // Once the whole request is sent, the client gives up.
      request.end(JSON.stringify({ sql }), () => {
        request.destroy();
        resolve();
      });
    });
    const entry = await waitFor(async () =>
      (await example.handle.platform.auditLog({ principal: CLINICIAN, limit: 5 })).find(
        (candidate) => candidate.sql === sql,
      ),
    );
    assert.equal(entry.outcome, 'failed');
    assert.match(entry.reason ?? '', /cancel/i);
  });

  test('a client that goes away while its query runs interrupts the engine statement', async () => {
    // The same served platform, seen through a handle that says when the route has called query().
    let started!: () => void;
    const queryStarted = new Promise<void>((resolve) => (started = resolve));
    const platform = example.handle.platform;
    const watched = new Proxy(platform, {
      get(target, property) {
        if (property === 'query') {
          return (...args: Parameters<typeof platform.query>) => {
            const answer = target.query(...args);
            started();
            return answer;
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const handle = Object.create(example.handle, {
      platform: { get: () => watched },
    }) as typeof example.handle;
    const watching = await startHttpApi(handle, { host: '127.0.0.1', port: 0 });
    try {
      // Minutes of work unless interrupted.
      const sql = 'select count(*) as n from range(1000000000) a, range(1000) b where a.range % 11 = b.range';
      const request = httpRequest(`http://127.0.0.1:${watching.port}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${example.tokens.clinician}` },
      });
      request.on('error', () => {});
      request.end(JSON.stringify({ sql }));
      await queryStarted;
      request.destroy();
      const entry = await waitFor(async () =>
        (await platform.auditLog({ principal: CLINICIAN, limit: 5 })).find(
          (candidate) => candidate.sql === sql,
        ),
      );
      assert.equal(entry.outcome, 'failed');
      assert.match(entry.reason ?? '', /cancel/i);
      const metrics = await (await fetch(`http://127.0.0.1:${watching.port}/metrics`)).text();
      assert.match(metrics, /^tessera_queries_total\{face="http",outcome="cancelled"\} 1$/m);
    } finally {
      await watching.close();
    }
  });
});

describe('signed Parquet URLs', () => {
  const filesUrl = (version = 1) => `${base}/api/v1/tables/clinical.patients/versions/${version}/files`;
  const ask = (token: string, url = filesUrl()) =>
    fetch(url, { headers: { authorization: `Bearer ${token}` } });

  test('a whole reader gets expiring URLs that download the file; each URL is audited', async () => {
    const response = await ask(example.tokens.clinician);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Json;
    assert.equal(body.files.length, 1);
    const download = await fetch(body.files[0].url);
    assert.equal(download.status, 200);
    const rows = await parquetRows(await download.arrayBuffer(), 'select count(*) as n from rows');
    assert.equal(Number(rows[0]!.n), body.rowCount);
    const [entry] = await example.handle.platform.auditLog({ principal: CLINICIAN, limit: 1 });
    assert.equal(entry?.outcome, 'allowed');
    assert.match(
      entry?.sql ?? '',
      /signed file URLs: clinical\.patients version 1: clinical\/patients\/.*part-0\.parquet/,
    );
  });

  test('a masked, filtered reader is 403 (audited as refused); a reader without the grant gets 404 like an unknown version', async () => {
    const analyst = await ask(example.tokens.analyst);
    assert.equal(analyst.status, 403);
    assert.match(((await analyst.json()) as Json).error.message, /whole table/);
    const [entry] = await example.handle.platform.auditLog({ principal: ANALYST, limit: 1 });
    assert.equal(entry?.outcome, 'refused');
    const visitor = await ask(example.tokens.visitor);
    const unknown = await ask(example.tokens.clinician, filesUrl(99));
    assert.equal(visitor.status, 404);
    assert.equal(unknown.status, 404);
  });

  test('a tampered, expired or traversing URL is 404', async () => {
    const body = (await (await ask(example.tokens.clinician)).json()) as Json;
    const file = body.files[0] as Json;
    const url = new URL(file.url as string);
    const tampered = new URL(url);
    tampered.searchParams.set(
      'signature',
      `${file.signature.slice(0, -1)}${file.signature.endsWith('0') ? '1' : '0'}`,
    );
    const later = new URL(url);
    later.searchParams.set('expires', String(file.expires + 3600));
    const traversal = `${base}/api/v1/files/..%2F..%2F..%2Fetc%2Fpasswd?expires=${file.expires}&signature=${file.signature}`;
    // Correctly signed with the catalog's key, but already expired.
    const secret = await internalsOf(example.handle.platform).store.catalogKey('file_urls');
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = new URL(url);
    expired.searchParams.set('expires', String(past));
    expired.searchParams.set(
      'signature',
      createHmac('sha256', secret).update(`${file.key}\n${past}`).digest('hex'),
    );
    for (const attempt of [
      tampered.href,
      later.href,
      traversal,
      expired.href,
      `${base}/api/v1/files/${file.key}`,
    ]) {
      const response = await fetch(attempt);
      assert.equal(response.status, attempt.includes('expires') ? 404 : 400, attempt);
    }
  });
});

describe('curl', async () => {
  const curl = await requireService('curl', async () => {
    await run('curl', ['--version']);
  });

  test('CSV and Parquet with curl, as a new user would', { skip: curl.skip }, async () => {
    const args = (format: string, out: string) => [
      '-sS',
      '--fail-with-body',
      '-o',
      out,
      '-H',
      `Authorization: Bearer ${example.tokens.analyst}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ sql: PATIENTS, format }),
      `${base}/api/v1/query`,
    ];
    const csvFile = join(scratch, 'patients.csv');
    await run('curl', args('csv', csvFile));
    const csv = parseCsv(await (await import('node:fs/promises')).readFile(csvFile, 'utf8'));
    assert.deepEqual(csv[0], ['patient_id', 'ssn', 'state']);
    assert.ok(csv.slice(1).every((row) => row[2] === 'CA' && HEX_64.test(row[1]!)));
    const parquetFile = join(scratch, 'patients.parquet');
    await run('curl', args('parquet', parquetFile));
    const rows = await session.query(`select * from read_parquet(${quoteLiteral(parquetFile)})`);
    assert.equal(rows.rows.length, csv.length - 1);
    assert.ok(rows.rows.every((row) => row.state === 'CA'));
  });
});

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index++;
    } else field += char;
  }
  return records;
}

/**
 * Wait for what the server does after answering (an audit entry once the engine statement is
 * interrupted, a temporary file removed). Work left undone runs far past the 15 s this waits.
 */
async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
