// The PostgreSQL wire protocol on the served healthcare example, through real clients (the `pg`
// client, psql, psycopg2 and pandas), written as an analyst trying to read more than granted would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPgServer, type PgServer } from '../../src/server/pgwire/index.ts';
import {
  ANALYST,
  CLINICIAN,
  VISITOR,
  openServedExample,
  type ServedExample,
} from '../support/served-example.ts';
import { requireService } from '../support/services.ts';
import { queryBinary } from '../support/pg-raw-client.ts';

const run = promisify(execFile);
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
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user,
    password,
    database: 'anything',
  });
  await client.connect();
  return client;
}

async function asAnalyst<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connected(ANALYST, served.tokens.analyst);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  assert.fail('expected the server to refuse');
}

describe('authentication', () => {
  test('a wrong token and another principal’s token are refused alike', async () => {
    const wrong = await refusal(connected(ANALYST, 'not-a-token'));
    const borrowed = await refusal(connected(ANALYST, served.tokens.clinician));
    const empty = await refusal(connected(ANALYST, ''));
    for (const error of [wrong, borrowed]) {
      assert.equal(error.code, '28P01');
      assert.equal(error.message, `password authentication failed for user "${ANALYST}"`);
    }
    assert.ok(empty.message.length > 0);
  });

  test('the driver gets the parameters it needs and a key to cancel with', async () => {
    await asAnalyst(async (client) => {
      const parameters = (client as unknown as { processID: number; secretKey: number }).processID;
      assert.ok(parameters > 0);
      const { rows } = await client.query('SHOW server_version');
      assert.match(rows[0].server_version, /^15\./);
      const standard = await client.query('SHOW standard_conforming_strings');
      assert.equal(standard.rows[0].standard_conforming_strings, 'on');
    });
  });
});

describe('governed reads through pg', () => {
  test('a masked column stays masked and the CA row filter holds, with parameters', async () => {
    await asAnalyst(async (client) => {
      const { rows } = await client.query(
        'SELECT ssn, state, zip FROM clinical.patients WHERE state <> $1 OR state = $1',
        ['NY'],
      );
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.match(row.ssn, HEX_64, 'SSN hashed for the analyst');
        assert.equal(row.state, 'CA');
      }
      const elsewhere = await client.query('SELECT count(*) AS n FROM clinical.patients WHERE state = $1', [
        'NY',
      ]);
      assert.equal(Number(elsewhere.rows[0].n), 0, 'rows outside CA stay invisible even when asked for');
      const claims = await client.query(
        `SELECT count(*) AS n FROM clinical.claims c JOIN clinical.patients p USING (patient_id) WHERE p.state <> 'CA'`,
      );
      assert.equal(Number(claims.rows[0].n), 0);
    });
  });

  test('a denied column and a table the principal may not read are refused', async () => {
    await asAnalyst(async (client) => {
      const denied = await refusal(client.query('SELECT last_name FROM clinical.patients'));
      assert.equal(denied.code, '42703', 'a denied column is absent, like an undefined one');
      assert.match(denied.message, /last_name/);
    });
    const visitor = await connected(VISITOR, served.tokens.visitor);
    try {
      const refused = await refusal(visitor.query('SELECT count(*) FROM clinical.patients'));
      assert.equal(refused.code, '42P01', 'a table without a grant is absent, like an undefined one');
    } finally {
      await visitor.end();
    }
  });

  test('writes are refused as in a read-only transaction, with the guard’s message', async () => {
    await asAnalyst(async (client) => {
      const insert = await refusal(client.query(`INSERT INTO clinical.patients (patient_id) VALUES ('x')`));
      assert.equal(insert.code, '25006');
      assert.match(insert.message, /only SELECT/);
      const copy = await refusal(client.query(`COPY clinical.patients TO '/tmp/out.csv'`));
      assert.equal(copy.code, '25006');
    });
  });

  test('the clinician reads PHI in clear; every query is in the audit log', async () => {
    const client = await connected(CLINICIAN, served.tokens.clinician);
    try {
      const marker = `audit-marker-${Date.now()}`;
      const { rows } = await client.query(`SELECT ssn, '${marker}' AS marker FROM clinical.patients LIMIT 3`);
      assert.match(rows[0].ssn, /^\d{3}-\d{2}-\d{4}$/);
      const audit = await served.handle.platform.auditLog({ principal: CLINICIAN });
      const entry = audit.find((item) => item.sql.includes(marker));
      assert.ok(entry, 'the query is audited');
      assert.equal(entry.outcome, 'allowed');
      assert.equal(entry.rowsReturned, 3);
    } finally {
      await client.end();
    }
  });

  test('refused queries are audited too', async () => {
    await asAnalyst(async (client) => {
      await refusal(client.query('SELECT last_name, 1 AS refused_marker FROM clinical.patients'));
    });
    const audit = await served.handle.platform.auditLog({ principal: ANALYST });
    const entry = audit.find((item) => item.sql.includes('refused_marker'));
    assert.ok(entry);
    assert.notEqual(entry.outcome, 'allowed');
  });

  test('information_schema and pg_catalog answer over the visible catalog only', async () => {
    await asAnalyst(async (client) => {
      const { rows } = await client.query(
        `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ($1, $2) ORDER BY 1, 2`,
        ['clinical', 'analytics'],
      );
      assert.ok(rows.some((row) => row.table_name === 'patients'));
      const columns = await client.query(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'clinical' AND table_name = 'patients'`,
      );
      const names = columns.rows.map((row) => row.column_name);
      assert.ok(names.includes('ssn'));
      assert.ok(!names.includes('last_name'), 'a denied column is absent from information_schema');
      const classes = await client.query(`SELECT relname FROM pg_catalog.pg_class WHERE relkind = 'r'`);
      assert.ok(classes.rows.some((row) => row.relname === 'patients'));
      // Catalog queries read no table data: the scratch tables are empty whatever is asked.
      const mixed = await refusal(
        client.query('SELECT * FROM pg_catalog.pg_class, clinical.patients LIMIT 1'),
      );
      assert.ok(mixed.message.length > 0);
    });
    const visitor = await connected(VISITOR, served.tokens.visitor);
    try {
      const { rows } = await visitor.query(`SELECT table_name FROM information_schema.tables`);
      assert.deepEqual(rows, [], 'a table without a grant is absent, not forbidden');
    } finally {
      await visitor.end();
    }
  });

  test('binary results carry the same governed values', async () => {
    const { rows } = await queryBinary(
      { port: server.port, user: ANALYST, password: served.tokens.analyst },
      `SELECT ssn, state, healthcare_expenses FROM clinical.patients ORDER BY patient_id LIMIT 5`,
    );
    assert.equal(rows.length, 5);
    for (const row of rows) {
      assert.match(String(row.ssn), HEX_64);
      assert.equal(row.state, 'CA');
      assert.equal(typeof row.healthcare_expenses, 'number');
    }
  });

  test('session statements are answered without the engine and keep transaction status', async () => {
    await asAnalyst(async (client) => {
      await client.query(`SET application_name = 'notebook'`);
      assert.equal((await client.query('SHOW application_name')).rows[0].application_name, 'notebook');
      await client.query('BEGIN');
      await refusal(client.query('SELECT nope FROM clinical.patients'));
      const aborted = await refusal(client.query('SELECT 1'));
      assert.equal(aborted.code, '25P02');
      await client.query('ROLLBACK');
      assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
      const { rows } = await client.query('SELECT version()');
      assert.match(rows[0].version, /PostgreSQL 15/);
      const empty = await client.query('');
      assert.equal(empty.rows.length, 0);
      const several = await client.query(`SET search_path TO public; SELECT 2 AS two; SHOW search_path`);
      assert.equal((several as unknown as pg.QueryResult[]).length, 3);
    });
  });
});

describe('cancellation', () => {
  test('a CancelRequest interrupts the running query, which is audited as failed', async () => {
    await asAnalyst(async (client) => {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const slow = client.query(
        `SELECT sum(length(a.encounter_id || b.encounter_id || c.encounter_id)) AS slow_marker
         FROM clinical.encounters a, clinical.encounters b, clinical.encounters c`,
      );
      let settled = false;
      const failure = refusal(slow).finally(() => (settled = true));
      // The query's start is not observable from here: send CancelRequests (each on its own
      // connection, as clients do) until it ends. A cancel arriving between queries does nothing.
      while (!settled) {
        const socket = connect(server.port, '127.0.0.1');
        await once(socket, 'connect');
        const packet = Buffer.alloc(16);
        packet.writeInt32BE(16, 0);
        packet.writeInt32BE(80877102, 4);
        packet.writeInt32BE(processID, 8);
        packet.writeInt32BE(secretKey, 12);
        socket.end(packet);
        await once(socket, 'close');
      }
      const error = await failure;
      assert.equal(error.code, '57014');
      // The connection stays usable.
      assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
    });
    const audit = await served.handle.platform.auditLog({ principal: ANALYST });
    const entry = audit.find((item) => item.sql.includes('slow_marker'));
    assert.ok(entry);
    assert.equal(entry.outcome, 'failed');
  });
});

describe('psql', async () => {
  const psql = await requireService('psql at /usr/bin/psql', async () => {
    await run('/usr/bin/psql', ['--version']);
  });

  async function psqlAs(principal: string, token: string, command: string): Promise<string> {
    const { stdout } = await run(
      '/usr/bin/psql',
      [
        '-X',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(server.port),
        '-U',
        principal,
        '-d',
        'tessera',
        '-c',
        command,
      ],
      { env: { ...process.env, PGPASSWORD: token, PGSSLMODE: 'disable' } },
    );
    return stdout;
  }

  test('psql runs a join and an aggregation with the analyst’s view', { skip: psql.skip }, async () => {
    const states = await psqlAs(
      ANALYST,
      served.tokens.analyst,
      'SELECT state, count(*) FROM clinical.patients GROUP BY state ORDER BY 1',
    );
    assert.match(states, /^CA\|\d+\n$/);
    const joined = await psqlAs(
      ANALYST,
      served.tokens.analyst,
      'SELECT p.ssn, count(e.encounter_id) FROM clinical.patients p JOIN clinical.encounters e USING (patient_id) GROUP BY 1 LIMIT 3',
    );
    for (const line of joined.trim().split('\n')) assert.match(line, /^[0-9a-f]{64}\|\d+$/);
  });

  test('\\dt and \\d show only what the principal may see', { skip: psql.skip }, async () => {
    const analystTables = await psqlAs(ANALYST, served.tokens.analyst, '\\dt');
    assert.match(analystTables, /^clinical\|patients\|table\|/m);
    assert.match(analystTables, /^analytics\|patient_summary\|table\|/m);
    const visitorTables = await psqlAs(VISITOR, served.tokens.visitor, '\\dt');
    assert.doesNotMatch(
      visitorTables,
      /patients|claims|encounters|summary/,
      'a visitor sees no table at all',
    );

    const analystColumns = await psqlAs(ANALYST, served.tokens.analyst, '\\d clinical.patients');
    assert.match(analystColumns, /^ssn\|/m);
    assert.doesNotMatch(analystColumns, /last_name/, 'a denied column is absent from \\d');
    const clinicianColumns = await psqlAs(CLINICIAN, served.tokens.clinician, '\\d clinical.patients');
    assert.match(clinicianColumns, /^last_name\|/m);
    await assert.rejects(
      psqlAs(VISITOR, served.tokens.visitor, '\\d clinical.patients'),
      /Did not find any relation named "clinical\.patients"/,
    );
    const plus = await psqlAs(ANALYST, served.tokens.analyst, '\\dt+ clinical.*');
    assert.match(plus, /^clinical\|claims\|/m);
    assert.match(await psqlAs(ANALYST, served.tokens.analyst, '\\l'), /^tessera\|/m);
    assert.match(await psqlAs(ANALYST, served.tokens.analyst, '\\dn'), /^clinical\|/m);
  });

  test('psql with a wrong token fails to connect', { skip: psql.skip }, async () => {
    await assert.rejects(psqlAs(ANALYST, 'wrong', 'SELECT 1'), /password authentication failed/);
  });
});

describe('psycopg2 and pandas', async () => {
  const python = await requireService('/usr/bin/python3 with psycopg2 and pandas', async () => {
    await run('/usr/bin/python3', ['-c', 'import psycopg2, pandas']);
  });

  test(
    'pandas.read_sql reads the governed view; a wrong token is refused',
    { skip: python.skip },
    async () => {
      const script = `
import json, sys, warnings, psycopg2, pandas
warnings.simplefilter('ignore')
conn = psycopg2.connect(host='127.0.0.1', port=${server.port}, user='${ANALYST}', password=sys.argv[1], dbname='tessera', sslmode='disable')
frame = pandas.read_sql('SELECT ssn, state, healthcare_expenses FROM clinical.patients WHERE healthcare_expenses >= %(low)s', conn, params={'low': 0})
try:
    pandas.read_sql('SELECT last_name FROM clinical.patients', conn)
    denied = 'read'
except Exception as error:
    denied = type(error).__name__
conn.rollback()
try:
    psycopg2.connect(host='127.0.0.1', port=${server.port}, user='${ANALYST}', password='wrong', dbname='tessera', sslmode='disable')
    wrong = 'connected'
except psycopg2.OperationalError as error:
    wrong = str(error).strip().splitlines()[-1]
print(json.dumps({'rows': len(frame), 'states': sorted(set(frame['state'])), 'ssn': frame['ssn'].iloc[0], 'denied': denied, 'wrong': wrong, 'dtype': str(frame['healthcare_expenses'].dtype)}))
`;
      const { stdout } = await run('/usr/bin/python3', ['-c', script, served.tokens.analyst]);
      const result = JSON.parse(stdout) as Record<string, unknown>;
      assert.ok((result.rows as number) > 0);
      assert.deepEqual(result.states, ['CA']);
      assert.match(String(result.ssn), HEX_64);
      assert.notEqual(result.denied, 'read');
      assert.match(String(result.wrong), /password authentication failed/);
      assert.equal(result.dtype, 'float64');
    },
  );
});
