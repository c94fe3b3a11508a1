// Load through the PostgreSQL wire protocol: many concurrent `pg` clients sending parameterized
// (extended-protocol) queries on the served example, every answer governed and none failing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPgServer, type PgServer } from '../../src/server/pgwire/index.ts';
import { ANALYST, openServedExample, type ServedExample } from '../support/served-example.ts';

const HEX_64 = /^[0-9a-f]{64}$/;

let served: ServedExample;
let server: PgServer;

before(async () => {
  served = await openServedExample();
  server = await startPgServer(served.handle, { host: '127.0.0.1', port: 0, log: () => {} });
});

after(async () => {
  await server?.close();
  await served?.close();
});

async function connected(user: string, password: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database: 'tessera' });
  await client.connect();
  return client;
}
describe('load', () => {
  test('50 concurrent clients × 20 parameterized queries, no errors', async () => {
    const states = ['CA', 'NY', 'TX'];
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, clientIndex) => {
        const client = await connected(ANALYST, served.tokens.analyst);
        try {
          let rows = 0;
          for (let index = 0; index < 20; index += 1) {
            const result = await client.query(
              'SELECT patient_id, ssn FROM clinical.patients WHERE state = $1 AND healthcare_expenses >= $2 LIMIT 5',
              [states[(clientIndex + index) % 3], index],
            );
            rows += result.rows.length;
            for (const row of result.rows) assert.match(row.ssn, HEX_64);
          }
          return rows;
        } finally {
          await client.end();
        }
      }),
    );
    assert.equal(results.length, 50);
    assert.ok(results.some((rows) => rows > 0));
  });
});
