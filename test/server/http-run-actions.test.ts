// Operating tasks over HTTP (rerun, backfill, cancel) and the open incidents, on the served
// healthcare example: only members of the owner of a task's output table may act (bob is in
// `analytics`; nobody who holds a token is in `clinical-data`), a task or run the caller may not see
// answers 404 like an unknown one, and incidents follow the tables the caller may read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildHttpApi } from '../../src/server/http/index.ts';
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

async function call(
  method: 'GET' | 'POST',
  url: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await app.inject({
    method,
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { payload: body as Json }),
  });
  return { status: response.statusCode, body: response.json() as Json };
}

describe('who may operate a task', () => {
  test("a member of the output table's owner may; a reader who is not a member may not, and is told who may", async () => {
    const bob = await call('GET', '/api/v1/tasks/build_patient_summary/actions', example.tokens.analyst);
    assert.equal(bob.status, 200);
    assert.equal(bob.body.allowed, true);
    const carol = await call('GET', '/api/v1/tasks/build_patient_summary/actions', example.tokens.clinician);
    assert.equal(carol.body.allowed, false);
    assert.match(carol.body.reason, /only members of analytics/);
    const ingest = await call('GET', '/api/v1/tasks/ingest_patients/actions', example.tokens.analyst);
    assert.equal(ingest.body.allowed, false);
  });

  test('a rerun by a reader who is not an owner is 403 and queues nothing', async () => {
    const before = (await call('GET', '/api/v1/runs?task=ingest_patients', example.tokens.clinician)).body
      .runs;
    for (const [url, token] of [
      ['/api/v1/tasks/ingest_patients/runs', example.tokens.analyst],
      ['/api/v1/tasks/ingest_patients/backfill', example.tokens.analyst],
      ['/api/v1/tasks/build_patient_summary/runs', example.tokens.clinician],
    ] as const) {
      const response = await call('POST', url, token, {});
      assert.equal(response.status, 403, url);
      assert.equal(response.body.error.code, 'forbidden');
    }
    const afterwards = (await call('GET', '/api/v1/runs?task=ingest_patients', example.tokens.clinician)).body
      .runs;
    assert.equal(afterwards.length, before.length);
  });

  test('a visitor, or no token, cannot tell an invisible task or run from an unknown one', async () => {
    const runs = (await call('GET', '/api/v1/runs?task=ingest_patients', example.tokens.clinician)).body.runs;
    const runId = runs[0].id as string;
    for (const url of ['/api/v1/tasks/ingest_patients/runs', '/api/v1/tasks/no_such_task/runs']) {
      const response = await call('POST', url, example.tokens.visitor, {});
      assert.equal(response.status, 404, url);
      assert.match(response.body.error.message, /^task \S+ not found/);
    }
    const hidden = await call('POST', `/api/v1/runs/${runId}/cancel`, example.tokens.visitor, {});
    const unknown = await call(
      'POST',
      '/api/v1/runs/20990101T000000000Z-ffffffff/cancel',
      example.tokens.visitor,
      {},
    );
    assert.equal(hidden.status, 404);
    assert.equal(unknown.status, 404);
    assert.equal(
      hidden.body.error.message.replace(runId, 'ID'),
      unknown.body.error.message.replace('20990101T000000000Z-ffffffff', 'ID'),
    );
    assert.equal((await call('POST', '/api/v1/tasks/build_patient_summary/runs', undefined, {})).status, 401);
    assert.equal((await call('GET', '/api/v1/tasks/build_patient_summary/actions', 'tsr_guess')).status, 401);
  });

  test("an owner's member reruns a task: the run is queued on the serve with trigger manual, and may be cancelled", async () => {
    const rerun = await call('POST', '/api/v1/tasks/build_state_summary/runs', example.tokens.analyst, {});
    assert.equal(rerun.status, 202);
    const run = (rerun.body.runs as Json[]).find((entry) => entry.task === 'build_state_summary')!;
    assert.ok(run, JSON.stringify(rerun.body));
    assert.equal(run.trigger, 'manual');
    // The clinician reads the table but is not a member of analytics: it may not cancel the run.
    const refused = await call('POST', `/api/v1/runs/${run.id}/cancel`, example.tokens.clinician, {});
    assert.equal(refused.status, 403);
    const cancelled = await call('POST', `/api/v1/runs/${run.id}/cancel`, example.tokens.analyst, {});
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const seen = await call('GET', `/api/v1/runs/${run.id}`, example.tokens.analyst);
    assert.ok(['cancelled', 'succeeded', 'running'].includes(seen.body.status), seen.body.status);
    const backfill = await call(
      'POST',
      '/api/v1/tasks/build_state_summary/backfill',
      example.tokens.analyst,
      {
        downstream: false,
      },
    );
    assert.equal(backfill.status, 202);
    assert.deepEqual(
      (backfill.body.runs as Json[]).map((entry) => [entry.task, entry.trigger]),
      [['build_state_summary', 'backfill']],
    );
  });
});

describe('open incidents', () => {
  test('a failed run opens an incident; only principals that may read its table see it', async () => {
    // The providers' source turned unreadable: the ingestion fails and clinical.providers' owner is told.
    await writeFile(join(example.repo, 'data', 'providers.json'), '{ this is not json');
    const [failed] = await example.handle.platform.run(
      { tasks: ['ingest_providers'], downstream: false },
      undefined,
      { writeConsole: () => {} },
    );
    assert.equal(failed?.status, 'failed');
    const clinician = await call('GET', '/api/v1/incidents', example.tokens.clinician);
    assert.equal(clinician.status, 200);
    const tables = (clinician.body.incidents as Json[]).map((incident) => incident.table);
    assert.ok(tables.includes('clinical.providers'), JSON.stringify(clinician.body));
    for (const incident of clinician.body.incidents as Json[]) {
      assert.equal(incident.status, 'open');
      assert.equal(incident.events, undefined, 'events name recipients: left out');
    }
    // No role of the analyst's grants clinical.providers; the visitor reads nothing.
    for (const token of [example.tokens.analyst, example.tokens.visitor]) {
      const answer = await call('GET', '/api/v1/incidents', token);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body.incidents, []);
    }
    assert.equal((await call('GET', '/api/v1/incidents')).status, 401);
  });
});
