// The governed read path's options for the network faces: row limits, parameters bound before the
// guard, cancellation, Parquet exports, statements described without running, and the catalog as a
// principal sees it. All through a served healthcare example, as the faces call it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import { openServedExample, type ServedExample } from '../support/served-example.ts';

let served: ServedExample;
before(async () => {
  served = await openServedExample();
});
after(() => served?.close());

const platform = () => served.handle.platform;

describe('governed reads for the network faces', () => {
  test('a row limit returns that many rows and says more existed; a limit above the count does not', async () => {
    const token = served.tokens.clinician;
    const all = await platform().query('SELECT patient_id FROM clinical.patients', { token });
    assert.ok(all.rows.length > 10);
    const limited = await platform().query('SELECT patient_id FROM clinical.patients ORDER BY patient_id', {
      token,
      limit: 5,
    });
    assert.equal(limited.rows.length, 5);
    assert.equal(limited.truncated, true);
    const sorted = all.rows.map((row) => String(row.patient_id)).sort();
    assert.deepEqual(
      limited.rows.map((row) => row.patient_id),
      sorted.slice(0, 5),
    );
    const whole = await platform().query('SELECT patient_id FROM clinical.patients', {
      token,
      limit: all.rows.length,
    });
    assert.equal(whole.rows.length, all.rows.length);
    assert.ok(!whole.truncated);
    await assert.rejects(platform().query('SELECT 1', { token, limit: -1 }), /whole number of rows/);
  });

  test('parameters are bound as literals the guard then judges; a quote in a value cannot widen the query', async () => {
    const token = served.tokens.analyst;
    const states = await platform().query('SELECT DISTINCT state FROM clinical.patients WHERE state = $1', {
      token,
      parameters: ['CA'],
    });
    assert.deepEqual(states.rows, [{ state: 'CA' }]);
    // An injection attempt is one string literal: no rows, and the row filter still holds.
    const injected = await platform().query('SELECT count(*) AS n FROM clinical.patients WHERE state = $1', {
      token,
      parameters: ["NY' OR '1'='1"],
    });
    assert.deepEqual(injected.rows, [{ n: 0 }]);
    const audited = (await platform().auditLog({ limit: 1 }))[0]!;
    assert.match(audited.sql, /'NY'' OR ''1''=''1'/, 'the audit records the statement as it ran');
    // Numbers and strings take their type from where they are used.
    const typed = await platform().query(
      'SELECT count(*) AS n FROM clinical.encounters WHERE start_time >= $1 AND total_cost > $2',
      { token: served.tokens.clinician, parameters: ['1900-01-01', -1] },
    );
    assert.ok(Number(typed.rows[0]!.n) > 0);
    await assert.rejects(
      platform().query('SELECT $1, $2', { token, parameters: ['only one'] }),
      /uses \$2 but 1 parameter\(s\) were sent/,
    );
  });

  test('an aborted signal stops the query, which is audited as cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      platform().query('SELECT count(*) FROM clinical.patients', {
        token: served.tokens.clinician,
        signal: controller.signal,
      }),
      (error: Error & { code?: string }) => error.code === 'query_cancelled',
    );
    const running = new AbortController();
    const slow = platform().query('SELECT count(*) FROM range(10000000000) a', {
      token: served.tokens.clinician,
      signal: running.signal,
    });
    setImmediate(() => running.abort());
    await assert.rejects(slow, (error: Error & { code?: string }) => error.code === 'query_cancelled');
    const [entry] = await platform().auditLog({ limit: 1 });
    assert.equal(entry!.outcome, 'failed');
    assert.match(entry!.reason ?? '', /cancelled by the client/);
  });

  test('a Parquet export holds the governed answer (masked, filtered), is audited, and is removed on dispose', async () => {
    const exported = await platform().exportParquet('SELECT patient_id, ssn, state FROM clinical.patients', {
      token: served.tokens.analyst,
    });
    try {
      const engine = await DuckdbEngine.create();
      const session = await engine.openSession();
      const read = await session.query(
        `SELECT count(*) AS n, count(*) FILTER (state <> 'CA') AS other_states, count(*) FILTER (ssn SIMILAR TO '\\d{3}-\\d{2}-\\d{4}') AS raw_ssn FROM read_parquet(${quoteLiteral(exported.path)})`,
      );
      session.close();
      await engine.close();
      assert.equal(Number(read.rows[0]!.n), exported.rowCount);
      assert.ok(exported.rowCount > 0);
      assert.equal(Number(read.rows[0]!.other_states), 0, 'the row filter holds in the file');
      assert.equal(Number(read.rows[0]!.raw_ssn), 0, 'SSNs are hashed in the file');
      assert.deepEqual(
        exported.columns.map((column) => column.name),
        ['patient_id', 'ssn', 'state'],
      );
      const [entry] = await platform().auditLog({ limit: 1 });
      assert.equal(entry!.outcome, 'allowed');
      assert.equal(entry!.rowsReturned, exported.rowCount);
      assert.ok((await readFile(exported.path)).subarray(0, 4).equals(Buffer.from('PAR1')));
    } finally {
      await exported.dispose();
    }
    await assert.rejects(access(exported.path));
    await assert.rejects(
      platform().exportParquet('SELECT * FROM clinical.patients', { token: served.tokens.visitor }),
      /clinical\.patients/,
    );
  });

  test('describe gives the columns as the principal reads them without running or auditing', async () => {
    const before = (await platform().auditLog({})).length;
    const described = await platform().describeQuery(
      'SELECT patient_id, ssn, birth_date FROM clinical.patients WHERE state = $1',
      { token: served.tokens.analyst },
    );
    assert.equal(described.parameterCount, 1);
    assert.deepEqual(
      described.columns.map((column) => column.name),
      ['patient_id', 'ssn', 'birth_date'],
    );
    assert.equal(described.columns[1]!.type, 'VARCHAR');
    assert.equal((await platform().auditLog({})).length, before, 'describing is not a read');
    await assert.rejects(
      platform().describeQuery('SELECT last_name FROM clinical.patients', { token: served.tokens.analyst }),
      /last_name/,
    );
  });

  test('the visible catalog lists only granted tables and visible columns, typed as read', async () => {
    const analyst = await platform().visibleCatalog({ token: served.tokens.analyst });
    const patients = analyst.find((table) => table.name === 'clinical.patients')!;
    assert.ok(patients, 'the analyst sees patients');
    assert.ok(!patients.columns.some((column) => column.name === 'last_name'), 'a denied column is absent');
    const ssn = patients.columns.find((column) => column.name === 'ssn')!;
    assert.equal(ssn.mask, 'HASH');
    assert.equal(ssn.type, 'VARCHAR');
    assert.equal(patients.rowFiltered, true);
    const clinician = await platform().visibleCatalog({ token: served.tokens.clinician });
    const clear = clinician.find((table) => table.name === 'clinical.patients')!;
    assert.equal(clear.columns.find((column) => column.name === 'ssn')!.mask, undefined);
    assert.ok(clear.columns.some((column) => column.name === 'last_name'));
    assert.deepEqual(await platform().visibleCatalog({ token: served.tokens.visitor }), []);
    await assert.rejects(platform().visibleCatalog({ token: 'tsr_not-a-token' }), /token is not valid/);
  });
});
