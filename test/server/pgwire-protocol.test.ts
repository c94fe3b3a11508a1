// Protocol behaviour beyond what drivers exercise by default: TLS, the extended protocol's row
// limits (PortalSuspended), Describe of a statement, skipping to Sync after an error, and the
// refusal to listen beyond loopback without TLS. The platform is a stand-in over a plain DuckDB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import type { EngineSession } from '../../src/engines/engine.ts';
import { startPgServer, type PgPlatform, type PgServer } from '../../src/server/pgwire/index.ts';
import { requireService } from '../support/services.ts';
import { exchange } from '../support/pg-raw-client.ts';

const USER = 'bob@example.org';
const TOKEN = 'token-of-bob';

let engine: DuckdbEngine;
let session: EngineSession;
let server: PgServer;
const platform: PgPlatform = {
  verifyToken: async (token) => (token === TOKEN ? USER : undefined),
  query: async (sql) => session.query(sql),
  describeQuery: async (sql) => ({
    columns: (await session.query(`SELECT * FROM (${sql.replace(/\$\d+/g, 'NULL')}) LIMIT 0`)).columns,
    parameterCount: new Set(sql.match(/\$\d+/g) ?? []).size,
  }),
};

before(async () => {
  engine = await DuckdbEngine.create({ threads: 1 });
  session = await engine.openSession();
  server = await startPgServer({ platform }, { host: '127.0.0.1', port: 0, log: () => {} });
});

after(async () => {
  await server.close();
  session.close();
  await engine.close();
});

describe('the extended protocol', () => {
  test('Execute with a row limit hands rows out in chunks, then completes', async () => {
    const replies = await exchange({ port: server.port, user: USER, password: TOKEN }, [
      ['P', { statement: '', sql: 'SELECT * FROM range(5) AS t(n)' }],
      ['B', { portal: '', statement: '' }],
      ['E', { portal: '', maxRows: 2 }],
      ['E', { portal: '', maxRows: 2 }],
      ['E', { portal: '', maxRows: 2 }],
      ['S', {}],
    ]);
    assert.deepEqual(
      replies.map((reply) => reply.type),
      ['1', '2', 'D', 'D', 's', 'D', 'D', 's', 'D', 'C', 'Z'],
    );
    assert.equal(replies.at(-2)!.text, 'SELECT 5');
  });

  test('Describe of a statement gives its parameters and columns', async () => {
    const replies = await exchange({ port: server.port, user: USER, password: TOKEN }, [
      ['P', { statement: 'named', sql: 'SELECT $1::INTEGER + 1 AS next, $2::VARCHAR AS label', types: [23] }],
      ['D', { kind: 'S', name: 'named' }],
      ['S', {}],
    ]);
    assert.deepEqual(
      replies.map((reply) => reply.type),
      ['1', 't', 'T', 'Z'],
    );
    assert.deepEqual(replies[1]!.parameterTypes, [23, 25], 'declared types, then text');
  });

  test('after an error every message up to Sync is skipped, and the next works', async () => {
    const replies = await exchange({ port: server.port, user: USER, password: TOKEN }, [
      ['P', { statement: '', sql: 'SELECT nope FROM range(1)' }],
      ['B', { portal: '', statement: '' }],
      ['E', { portal: '', maxRows: 0 }],
      ['E', { portal: '', maxRows: 0 }],
      ['S', {}],
      ['P', { statement: '', sql: 'SELECT 1 AS one' }],
      ['B', { portal: '', statement: '' }],
      ['E', { portal: '', maxRows: 0 }],
      ['S', {}],
    ]);
    assert.deepEqual(
      replies.map((reply) => reply.type),
      ['1', '2', 'E', 'Z', '1', '2', 'D', 'C', 'Z'],
    );
  });
});

describe('listening', () => {
  test('beyond loopback without TLS the server refuses to start', async () => {
    await assert.rejects(
      startPgServer({ platform }, { host: '0.0.0.0', port: 0, log: () => {} }),
      (error: Error) => /needs TLS/.test(error.message) && /--pg-tls-cert/.test(error.message),
    );
  });

  describe('with TLS', async () => {
    const openssl = await requireService('openssl', async () => {
      await promisify(execFile)('openssl', ['version']);
    });

    test('a client asking for SSL gets TLS and a governed session', { skip: openssl.skip }, async () => {
      const folder = await mkdtemp(join(tmpdir(), 'pgwire-tls-'));
      try {
        await promisify(execFile)('openssl', [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-keyout',
          join(folder, 'key.pem'),
          '-out',
          join(folder, 'cert.pem'),
        ]);
        const tls = {
          cert: await readFile(join(folder, 'cert.pem')),
          key: await readFile(join(folder, 'key.pem')),
        };
        const secure = await startPgServer({ platform }, { host: '127.0.0.1', port: 0, tls, log: () => {} });
        try {
          const client = new pg.Client({
            host: '127.0.0.1',
            port: secure.port,
            user: USER,
            password: TOKEN,
            ssl: { rejectUnauthorized: false },
          });
          await client.connect();
          const { rows } = await client.query('SELECT 42 AS answer');
          assert.equal(rows[0].answer, 42);
          const encrypted = (client as unknown as { connection: { stream: { encrypted?: boolean } } })
            .connection.stream;
          assert.equal(encrypted.encrypted, true);
          await client.end();
        } finally {
          await secure.close();
        }
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });
  });
});
