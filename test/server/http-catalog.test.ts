// The HTTP API's catalog routes through fastify.inject on the served healthcare example: each
// principal sees only what it may read, everywhere, and a denied table answers exactly like an
// unknown one (SPEC §6 HTTP API, issue #14).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildHttpApi } from '../../src/server/http/index.ts';
import type { PushDelivery } from '../../src/sync/index.ts';
import { openServedExample, type ServedExample } from '../support/served-example.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let example: ServedExample;
let app: FastifyInstance;

before(async () => {
  example = await openServedExample();
  app = await buildHttpApi(example.handle);
});
after(async () => {
  await app?.close();
  await example?.close();
});

async function get(url: string, token?: string): Promise<{ status: number; body: Json }> {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json() as Json };
}

describe('authentication', () => {
  test('no token, a malformed header, an unknown token and a token-shaped guess are 401 with the error body', async () => {
    for (const header of [
      undefined,
      'Basic Ym9iOnB3',
      'Bearer',
      `Bearer tsr_${'A'.repeat(43)}`,
      'Bearer not-a-token',
    ]) {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/tables',
        headers: header === undefined ? {} : { authorization: header },
      });
      assert.equal(response.statusCode, 401, String(header));
      const body = response.json() as Json;
      assert.equal(body.error.code, 'unauthorized');
      assert.match(body.error.message, /token/);
    }
  });

  test('every /api/v1 route asks for a token, /healthz and /api/openapi.json do not', async () => {
    for (const url of [
      '/api/v1/tables/clinical.patients',
      '/api/v1/tables/clinical.patients/versions',
      '/api/v1/tables/clinical.patients/lineage',
      '/api/v1/tables/clinical.patients/versions/1/files',
      '/api/v1/tasks',
      '/api/v1/runs',
      '/api/v1/subscriptions',
      '/api/v1/health',
      '/api/v1/audit',
    ]) {
      assert.equal((await get(url)).status, 401, url);
    }
    const posted = await app.inject({ method: 'POST', url: '/api/v1/query', payload: { sql: 'select 1' } });
    assert.equal(posted.statusCode, 401);
    assert.deepEqual((await get('/healthz')).body, { ok: true });
    const openapi = await get('/api/openapi.json');
    assert.equal(openapi.status, 200);
    assert.ok(openapi.body.paths['/api/v1/query'].post.requestBody, 'the query body schema is described');
    const detail =
      openapi.body.paths['/api/v1/tables/{name}'].get.responses['200'].content['application/json'].schema;
    assert.ok(detail.properties.columns, 'answers are described from the same zod schemas');
    assert.ok(
      openapi.body.paths['/api/v1/tables/{name}/lineage'].get.parameters.some(
        (p: Json) => p.name === 'depth',
      ),
    );
  });
});

describe('tables', () => {
  test('the analyst lists its tables; the visitor, granted nothing, lists none', async () => {
    const analyst = await get('/api/v1/tables', example.tokens.analyst);
    assert.equal(analyst.status, 200);
    const names = analyst.body.tables.map((table: Json) => table.name);
    assert.ok(names.includes('clinical.patients') && names.includes('analytics.patient_summary'));
    assert.deepEqual((await get('/api/v1/tables', example.tokens.visitor)).body, { tables: [] });
  });

  test('search never matches a denied column, and SQL in search is only text', async () => {
    assert.deepEqual((await get('/api/v1/tables?search=last_name', example.tokens.analyst)).body.tables, []);
    const clinician = (await get('/api/v1/tables?search=last_name', example.tokens.clinician)).body.tables;
    assert.deepEqual(
      clinician.map((table: Json) => table.name),
      ['clinical.patients'],
    );
    const injected = await get(
      `/api/v1/tables?search=${encodeURIComponent("x' or 1=1; drop table tables --")}`,
      example.tokens.analyst,
    );
    assert.equal(injected.status, 200);
    assert.deepEqual(injected.body.tables, []);
  });

  test("a table's detail shows the schema as this principal reads it: masks, types, no denied column", async () => {
    const analyst = await get('/api/v1/tables/clinical.patients', example.tokens.analyst);
    assert.equal(analyst.status, 200);
    const columns = new Map(analyst.body.columns.map((column: Json) => [column.name, column]));
    assert.ok(!columns.has('last_name'), 'the denied column is absent');
    assert.deepEqual(columns.get('ssn'), {
      name: 'ssn',
      type: 'VARCHAR',
      description: 'Social Security number.',
      sensitivity: 'PHI',
      mask: 'HASH',
    });
    assert.equal(analyst.body.rowFiltered, true);
    assert.equal(analyst.body.currentVersion.version, 1);
    assert.equal(analyst.body.currentVersion.files, undefined, 'no storage keys');
    assert.equal(analyst.body.health.state, 'healthy');

    const clinician = await get('/api/v1/tables/clinical.patients', example.tokens.clinician);
    const ssn = clinician.body.columns.find((column: Json) => column.name === 'ssn');
    assert.equal(ssn.mask, undefined, 'PHI in clear for the clinician');
    assert.ok(clinician.body.columns.some((column: Json) => column.name === 'last_name'));
    assert.equal(clinician.body.rowFiltered, false);
  });

  test('a denied table answers exactly like an unknown one on every table route', async () => {
    for (const suffix of ['', '/versions', '/validations', '/lineage', '/lineage?columns=true']) {
      const denied = await get(`/api/v1/tables/clinical.patients${suffix}`, example.tokens.visitor);
      const unknown = await get(`/api/v1/tables/clinical.no_such${suffix}`, example.tokens.visitor);
      assert.equal(denied.status, 404, suffix);
      assert.equal(unknown.status, 404, suffix);
      assert.deepEqual(
        denied.body,
        JSON.parse(JSON.stringify(unknown.body).replaceAll('clinical.no_such', 'clinical.patients')),
        `the same answer for ${suffix}`,
      );
    }
  });

  test('versions and validations: check samples withheld from a filtered reader, checks on a denied column left out', async () => {
    const versions = await get('/api/v1/tables/clinical.patients/versions', example.tokens.analyst);
    assert.equal(versions.body.versions[0].version, 1);
    const analyst = await get('/api/v1/tables/clinical.patients/validations', example.tokens.analyst);
    const checks: Json[] = analyst.body.versions[0].checks;
    assert.ok(checks.length > 0);
    assert.ok(checks.every((check) => check.sample === undefined && check.observedValue === undefined));
    assert.ok(checks.every((check) => check.args.column !== 'last_name'));
    const clinician = await get('/api/v1/tables/clinical.patients/validations', example.tokens.clinician);
    assert.ok(clinician.body.versions[0].checks.length >= checks.length);
  });
});

describe('lineage', () => {
  test('column lineage leaves out denied columns; direction and depth narrow the walk', async () => {
    const analyst = await get(
      '/api/v1/tables/analytics.state_summary/lineage?direction=upstream&columns=true',
      example.tokens.analyst,
    );
    assert.equal(analyst.status, 200);
    assert.ok(analyst.body.upstream.length > 0);
    assert.deepEqual(analyst.body.downstream, []);
    assert.ok(
      analyst.body.upstream.every(
        (edge: Json) => edge.fromColumn !== 'last_name' && edge.toColumn !== 'last_name',
      ),
    );
    const all = await get(
      '/api/v1/tables/analytics.state_summary/lineage?direction=upstream',
      example.tokens.clinician,
    );
    const one = await get(
      '/api/v1/tables/analytics.state_summary/lineage?direction=upstream&depth=1',
      example.tokens.clinician,
    );
    assert.ok(one.body.upstream.every((edge: Json) => edge.toTable === 'analytics.state_summary'));
    assert.ok(all.body.upstream.length > one.body.upstream.length, 'depth 1 stops at the direct inputs');
    const bad = await get(
      '/api/v1/tables/analytics.state_summary/lineage?direction=sideways',
      example.tokens.analyst,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'usage');
  });
});

describe('tasks and runs', () => {
  test('a task and its runs and logs are visible only to principals who read its output', async () => {
    const analyst = await get('/api/v1/tasks', example.tokens.analyst);
    assert.ok(analyst.body.tasks.some((task: Json) => task.name === 'ingest_patients'));
    assert.deepEqual((await get('/api/v1/tasks', example.tokens.visitor)).body.tasks, []);
    assert.deepEqual((await get('/api/v1/runs', example.tokens.visitor)).body.runs, []);

    const runs = await get('/api/v1/tasks/ingest_patients/runs', example.tokens.analyst);
    assert.equal(runs.status, 200);
    const run = runs.body.runs.find((entry: Json) => entry.status === 'succeeded');
    assert.ok(run);
    assert.equal((await get(`/api/v1/runs/${run.id}`, example.tokens.analyst)).body.id, run.id);
    const logs = await get(`/api/v1/runs/${run.id}/logs`, example.tokens.analyst);
    assert.ok(logs.body.lines.length > 0);
    const filtered = await get('/api/v1/runs?task=ingest_patients&status=succeeded', example.tokens.analyst);
    assert.ok(
      filtered.body.runs.every(
        (entry: Json) => entry.task === 'ingest_patients' && entry.status === 'succeeded',
      ),
    );

    // Another principal's view: the visitor cannot reach the same run by its id.
    for (const url of [
      `/api/v1/runs/${run.id}`,
      `/api/v1/runs/${run.id}/logs`,
      '/api/v1/tasks/ingest_patients/runs',
    ]) {
      const denied = await get(url, example.tokens.visitor);
      assert.equal(denied.status, 404, url);
    }
    assert.equal((await get('/api/v1/runs/no-such-run', example.tokens.analyst)).status, 404);
  });
});

describe('health, subscriptions and audit', () => {
  test('health lists only visible tables', async () => {
    const analyst = await get('/api/v1/health', example.tokens.analyst);
    assert.ok(analyst.body.tables.length > 0);
    assert.deepEqual((await get('/api/v1/health', example.tokens.visitor)).body.tables, []);
  });

  test("a principal subscribes its own owner to a table it reads, never another team's, never a hidden table", async () => {
    const post = (token: string, payload: Json) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/subscriptions',
        headers: { authorization: `Bearer ${token}` },
        payload,
      });
    const created = await post(example.tokens.analyst, { table: 'clinical.patients', owner: 'analytics' });
    assert.equal(created.statusCode, 201, created.body);
    const listed = await get('/api/v1/subscriptions', example.tokens.analyst);
    assert.ok(
      listed.body.subscriptions.some(
        (entry: Json) => entry.owner === 'analytics' && entry.table === 'clinical.patients',
      ),
    );
    assert.deepEqual((await get('/api/v1/subscriptions', example.tokens.visitor)).body.subscriptions, []);

    const otherTeam = await post(example.tokens.analyst, {
      table: 'clinical.patients',
      owner: 'clinical-data',
    });
    assert.equal(otherTeam.statusCode, 403);
    const hidden = await post(example.tokens.visitor, { table: 'clinical.patients', owner: 'analytics' });
    assert.equal(hidden.statusCode, 404);
    const removed = await app.inject({
      method: 'DELETE',
      url: '/api/v1/subscriptions?table=clinical.patients&owner=analytics',
      headers: { authorization: `Bearer ${example.tokens.analyst}` },
    });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.deepEqual((await get('/api/v1/subscriptions', example.tokens.analyst)).body.subscriptions, []);
  });

  test('the audit log is for governance.auditors only', async () => {
    const refused = await get('/api/v1/audit', example.tokens.analyst);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');
    assert.match(refused.body.error.message, /governance\.auditors/);
    await app.inject({
      method: 'POST',
      url: '/api/v1/query',
      headers: { authorization: `Bearer ${example.tokens.analyst}` },
      payload: { sql: 'select count(*) as n from clinical.patients' },
    });
    const auditor = await get(
      `/api/v1/audit?principal=${encodeURIComponent('bob@example.org')}&limit=5`,
      example.tokens.clinician,
    );
    assert.equal(auditor.status, 200);
    assert.equal(auditor.body.entries[0].sql, 'select count(*) as n from clinical.patients');
  });

  test('/metrics is Prometheus text with runs, queue depth, queries and deliveries; no table names', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /text\/plain/);
    for (const line of [
      /^tessera_runs\{status="succeeded"\} [1-9]/m,
      /^tessera_run_queue_depth \d+/m,
      /^tessera_queries_total\{face="http",outcome="allowed"\} [1-9]/m,
      /^tessera_query_duration_seconds_bucket\{le="[^"]+",face="http"\} \d+/m,
      /^tessera_notification_deliveries\{status="delivered"\} \d+/m,
    ]) {
      assert.match(response.body, line);
    }
    assert.doesNotMatch(response.body, /clinical\./);
  });

  test('with --watch-git, the push webhook hands Git sync the raw bytes and headers, and answers its verdict', async () => {
    const received: PushDelivery[] = [];
    const sync = {
      request() {},
      idle: async () => {},
      receivePush(delivery: PushDelivery) {
        received.push(delivery);
        return { status: 202, body: { fetching: true } };
      },
    };
    const handle = Object.create(example.handle, { sync: { value: sync } }) as typeof example.handle;
    const hooked = await buildHttpApi(handle);
    try {
      // Spacing a JSON parser would not keep: the signature is over these exact bytes.
      const payload = '{"ref":  "refs/heads/main",\n "after": "abc"}\n';
      const response = await hooked.inject({
        method: 'POST',
        url: '/api/v1/hooks/git',
        payload,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': 'sha256=feed',
          'x-github-event': 'push',
        },
      });
      assert.equal(response.statusCode, 202);
      assert.deepEqual(response.json(), { fetching: true });
      assert.equal(received.length, 1);
      assert.equal(received[0]!.body.toString('utf8'), payload);
      assert.equal(received[0]!.headers['x-hub-signature-256'], 'sha256=feed');
    } finally {
      await hooked.close();
    }
  });

  test('an unexpected failure is 500 internal with no stack, path or message of its own', async () => {
    const logged: string[] = [];
    const broken = Object.create(example.handle.platform, {
      verifyToken: { value: async () => Promise.reject(new Error('boom at /var/secret/catalog.db')) },
    }) as typeof example.handle.platform;
    const handle = Object.create(example.handle, {
      platform: { get: () => broken },
    }) as typeof example.handle;
    const failing = await buildHttpApi(handle, { log: (line) => logged.push(line) });
    try {
      const response = await failing.inject({
        method: 'GET',
        url: '/api/v1/tables',
        headers: { authorization: `Bearer ${example.tokens.analyst}` },
      });
      assert.equal(response.statusCode, 500);
      assert.deepEqual(response.json(), {
        error: { code: 'internal', message: 'internal error; the server log has the details' },
      });
      assert.doesNotMatch(response.body, /secret|boom|at /);
      assert.match(logged.join('\n'), /boom at \/var\/secret/, 'the operator sees it in the server log');
    } finally {
      await failing.close();
    }
  });

  test('the push webhook without --watch-git is a clear 404; an unknown route is the error body too', async () => {
    const hook = await app.inject({
      method: 'POST',
      url: '/api/v1/hooks/git',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(hook.statusCode, 404);
    assert.match((hook.json() as Json).error.message, /--watch-git/);
    const unknown = await get('/api/v1/nothing', example.tokens.analyst);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
  });
});
