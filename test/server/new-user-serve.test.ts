// Issue #14 as a new user tries it: `tessera init` the example, apply, run, create a token, start
// `tessera serve`, then psql (\dt, \d, a join), Python (psycopg2 + pandas.read_sql) and curl (CSV,
// Parquet) — masks, denied columns and row filters hold on each, and each query is in `tessera audit`.
// `tessera serve` is a real process; the commands around it run in-process through `main()`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { requireService } from '../support/services.ts';

const run = promisify(execFile);
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/tessera.js');
const ANALYST = 'bob@example.org';
const SSN = /\d{3}-\d{2}-\d{4}/;
const PYTHON = '/usr/bin/python3';

const clients = await requireService('psql, curl and /usr/bin/python3 with psycopg2 and pandas', async () => {
  await run('psql', ['--version']);
  await run('curl', ['--version']);
  await run(PYTHON, ['-c', 'import psycopg2, pandas']);
});

/** A port free now (the PostgreSQL face takes a fixed port: `--pg-port 0` turns it off). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as { port: number };
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

describe(
  'a new user serves the example and reads it from psql, Python and curl',
  { skip: clients.skip },
  () => {
    let repo: string;
    let serve: ChildProcess;
    let token: string;
    let httpPort: number;
    let pgPort: number;
    const settings = { TESSERA_MODE: 'production', TESSERA_HASH_KEY: 'new-user-key' };
    const env = { ...process.env, ...settings };

    before(async () => {
      repo = join(await mkdtemp(join(tmpdir(), 'tessera-new-user-')), 'catalog');
      // The commands before serve run in-process (`main()`): serve and the clients are the subject.
      const cli = (args: string[]) => tesseraInProcess(['--repo', repo, ...args], { env: settings });
      assert.equal(
        (
          await tesseraInProcess(['init', repo, '--example', 'healthcare', '--rows', '500'], {
            env: settings,
          })
        ).code,
        0,
      );
      assert.equal((await cli(['apply'])).code, 0);
      const ran = await cli(['run', '--all']);
      assert.equal(ran.code, 0, ran.stderr);
      const created = await cli(['--json', 'token', 'create', '--principal', ANALYST]);
      assert.equal(created.code, 0, created.stderr);
      token = (JSON.parse(created.stdout) as { token: string }).token;
      pgPort = await freePort();
      serve = spawn(
        process.execPath,
        [BIN, '--repo', repo, 'serve', '--port', '0', '--pg-port', String(pgPort)],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let printed = '';
      let errors = '';
      serve.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      httpPort = await new Promise<number>((resolvePort, reject) => {
        serve.stdout!.on('data', (chunk: Buffer) => {
          printed += chunk.toString();
          const http = /HTTP API: http:\/\/127\.0\.0\.1:(\d+)/.exec(printed);
          if (http && /PostgreSQL: postgresql:\/\//.test(printed)) resolvePort(Number(http[1]));
        });
        serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${errors}`)));
      });
    });

    after(async () => {
      if (serve && serve.exitCode === null) {
        const exited = new Promise((resolveExit) => serve.once('exit', resolveExit));
        serve.kill('SIGTERM');
        await exited;
      }
      if (repo) await rm(dirname(repo), { recursive: true, force: true });
    });

    const psql = async (...args: string[]) =>
      (
        await run(
          'psql',
          [
            '-X',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            '127.0.0.1',
            '-p',
            String(pgPort),
            '-U',
            ANALYST,
            '-d',
            'tessera',
            ...args,
          ],
          { env: { ...process.env, PGPASSWORD: token, PGSSLMODE: 'disable' } },
        )
      ).stdout;

    test('psql: \\dt lists only granted tables; \\d hides the denied column; a join holds masks and the row filter', async () => {
      const tables = await psql('-c', '\\dt *.*');
      assert.match(tables, /clinical\s*\|\s*patients/);
      assert.match(tables, /analytics\s*\|\s*patient_summary/);
      const described = await psql('-c', '\\d clinical.patients');
      assert.match(described, /ssn/);
      assert.doesNotMatch(described, /last_name/, 'the denied column is absent from \\d');
      const joined = await psql(
        '-A',
        '-t',
        '-F',
        ',',
        '-c',
        `SELECT p.ssn, p.state, count(e.encounter_id) FROM clinical.patients p JOIN clinical.encounters e USING (patient_id) GROUP BY ALL`,
      );
      const rows = joined.trim().split('\n').filter(Boolean);
      assert.ok(rows.length > 0);
      for (const row of rows) {
        const [ssn, state] = row.split(',');
        assert.doesNotMatch(ssn!, SSN, 'SSNs stay hashed');
        assert.equal(state, 'CA', 'the row filter holds');
      }
      await assert.rejects(psql('-c', 'SELECT last_name FROM clinical.patients'), /last_name/);
    });

    test('Python: psycopg2 and pandas.read_sql read a masked, filtered DataFrame', async () => {
      const script = `
import json, sys, warnings
import pandas, psycopg2
warnings.simplefilter("ignore")
conn = psycopg2.connect(host="127.0.0.1", port=${pgPort}, user="${ANALYST}", password=sys.argv[1], dbname="tessera", sslmode="disable")
frame = pandas.read_sql("SELECT patient_id, ssn, state FROM clinical.patients WHERE state = %s", conn, params=("CA",))
denied = None
try:
    pandas.read_sql("SELECT last_name FROM clinical.patients", conn)
except Exception as error:
    denied = str(error)
print(json.dumps({"rows": len(frame), "states": sorted(set(frame["state"])), "ssns": list(frame["ssn"][:5]), "denied": denied}))
`;
      const { stdout } = await run(PYTHON, ['-c', script, token]);
      const answer = JSON.parse(stdout) as {
        rows: number;
        states: string[];
        ssns: string[];
        denied: string | null;
      };
      assert.ok(answer.rows > 0);
      assert.deepEqual(answer.states, ['CA']);
      for (const ssn of answer.ssns) assert.doesNotMatch(ssn, SSN);
      assert.match(answer.denied ?? '', /last_name/);
    });

    test('curl: CSV and Parquet answers hold masks and the row filter', async () => {
      const body = JSON.stringify({
        sql: 'SELECT patient_id, ssn, state FROM clinical.patients',
        format: 'csv',
      });
      const { stdout: csv } = await run('curl', [
        '-sS',
        '--fail-with-body',
        '-H',
        `Authorization: Bearer ${token}`,
        '-H',
        'Content-Type: application/json',
        '-d',
        body,
        `http://127.0.0.1:${httpPort}/api/v1/query`,
      ]);
      const [header, ...lines] = csv.trim().split(/\r?\n/);
      assert.equal(header, 'patient_id,ssn,state');
      assert.ok(lines.length > 0);
      for (const line of lines) {
        assert.doesNotMatch(line, SSN);
        assert.match(line, /,CA$/);
      }
      const file = join(repo, 'answer.parquet');
      await run('curl', [
        '-sS',
        '--fail-with-body',
        '-o',
        file,
        '-H',
        `Authorization: Bearer ${token}`,
        '-H',
        'Content-Type: application/json',
        '-d',
        JSON.stringify({ sql: 'SELECT ssn, state FROM clinical.patients', format: 'parquet' }),
        `http://127.0.0.1:${httpPort}/api/v1/query`,
      ]);
      assert.ok((await readFile(file)).subarray(0, 4).equals(Buffer.from('PAR1')));
      const engine = await DuckdbEngine.create();
      const session = await engine.openSession();
      const read = await session.query(
        `SELECT count(*) AS n, count(*) FILTER (state <> 'CA') AS other, count(*) FILTER (regexp_matches(ssn, '\\d{3}-\\d{2}-\\d{4}')) AS raw FROM read_parquet(${quoteLiteral(file)})`,
      );
      session.close();
      await engine.close();
      assert.equal(Number(read.rows[0]!.n), lines.length);
      assert.equal(Number(read.rows[0]!.other), 0);
      assert.equal(Number(read.rows[0]!.raw), 0);
    });

    test('each of those queries is in tessera audit, as the analyst', async () => {
      const audit = await tesseraInProcess(['--repo', repo, '--json', 'audit'], { env: settings });
      assert.equal(audit.code, 0, audit.stderr);
      const entries = JSON.parse(audit.stdout) as { principal: string; sql: string; outcome: string }[];
      const analyst = entries.filter((entry) => entry.principal === ANALYST);
      assert.ok(
        analyst.some((entry) => /JOIN clinical\.encounters/.test(entry.sql) && entry.outcome === 'allowed'),
      );
      assert.ok(
        analyst.some((entry) => /WHERE state = 'CA'/.test(entry.sql)),
        'the psycopg2 query',
      );
      assert.ok(
        analyst.some((entry) => entry.sql === 'SELECT ssn, state FROM clinical.patients'),
        'the Parquet query',
      );
      assert.ok(
        analyst.some((entry) => /last_name/.test(entry.sql) && entry.outcome !== 'allowed'),
        'the denied column, refused or failed as if it did not exist',
      );
    });
  },
);
