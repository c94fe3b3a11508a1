// OpenLineage out: a real HTTP server on loopback receives the RunEvents of an ingestion +
// projection wave and of a failed run, each validated against the OpenLineage spec (2-0-2 and its
// facets, stored in ./spec); a receiver down or hanging never holds a run back; a secret in a
// source URL never leaves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import pg from 'pg';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { LineageEmitter, RunEventBuilder, sourceDataset, runUuid } from '../../src/openlineage/index.ts';
import type { Run } from '../../src/model/index.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { closedPort } from '../support/notification-receivers.ts';
import { requireService } from '../support/services.ts';

/** A received event, read as JSON: its shape is what `assertValidEvent` checks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

// ---- the spec, as the OpenLineage project publishes it -------------------------------------
const SPEC = join(import.meta.dirname, 'spec');
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
for (const file of readdirSync(SPEC).filter((name) => name.endsWith('.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(join(SPEC, file), 'utf8')) as object);
}
const validateEvent = ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json') as ValidateFunction;

/** Validate an event against the spec, and each spec facet against its own schema (`_schemaURL`). */
function assertValidEvent(event: Record<string, unknown>): void {
  assert.ok(validateEvent(event), `not an OpenLineage event: ${ajv.errorsText(validateEvent.errors)}`);
  const facetsOf = (holder: unknown, key: string): [string, Record<string, unknown>][] =>
    Object.entries(
      ((holder as Record<string, unknown> | undefined)?.[key] ?? {}) as Record<
        string,
        Record<string, unknown>
      >,
    );
  const datasets = [...((event.inputs ?? []) as unknown[]), ...((event.outputs ?? []) as unknown[])];
  const facets = [
    ...facetsOf(event.run, 'facets'),
    ...facetsOf(event.job, 'facets'),
    ...datasets.flatMap((dataset) => [...facetsOf(dataset, 'facets'), ...facetsOf(dataset, 'outputFacets')]),
  ];
  for (const [name, facet] of facets) {
    const url = String(facet._schemaURL);
    if (!url.startsWith('https://openlineage.io/spec/facets/')) {
      assert.equal(name, 'tessera_run', `only Tessera's own facet may be outside the spec, not ${name}`);
      continue;
    }
    const validate = ajv.getSchema(url);
    assert.ok(validate, `facet ${name}: ${url} is not a spec facet stored in test/openlineage/spec`);
    assert.ok(validate(facet), `facet ${name}: ${ajv.errorsText(validate.errors)}`);
  }
}

// ---- a real receiver --------------------------------------------------------------------------
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: Record<string, unknown>;
}

async function startReceiver(mode: { hang: boolean }) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (mode.hang) {
        hanging.push(res);
        return;
      }
      received.push({ headers: req.headers, body, event: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(201).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`,
    received,
    close: () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const receiverMode = { hang: false };
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const TOKEN = `tok-${randomBytes(8).toString('hex')}`;

function files(url: string, extra = ''): Record<string, string> {
  return {
    'tessera.yaml': `name: ol
lineage:
  openlineage:
    url: ${url}
    namespace: tessera-test
    api_key: \${OL_TOKEN}
    timeout: 300ms
${extra}`,
    'owners/o.yaml': 'kind: owner\nname: ops\n',
    'schemas/s.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";
message Item {
  string id = 1 [(tessera.field) = { primary_key: true }];
  int64 qty = 2;
}
`,
    'tables/t.yaml': `kind: table
name: ops.items
owner: ops
schema: schemas/s.proto#ops.Item
---
kind: table
name: ops.doubled
owner: ops
---
kind: table
name: ops.missing
owner: ops
schema: schemas/s.proto#ops.Item
`,
    'tasks/t.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: { type: csv, uri: items.csv }
mode: replace
---
kind: task
name: double_items
type: projection
target: ops.doubled
sql: select id, qty * 2 as double_qty from ops.items
---
kind: task
name: load_missing
type: ingestion
target: ops.missing
source: { type: csv, uri: nowhere/missing.csv }
mode: replace
`,
    'items.csv': 'id,qty\na,1\nb,2\n',
  };
}

const ENV = { ...process.env, OL_TOKEN: TOKEN };
let repo: string;
const warnings: string[] = [];

async function runTasks(tasks: string[]): Promise<{ runs: Run[]; ms: number }> {
  const platform = await Platform.open({ repo, env: ENV, warn: (message) => warnings.push(message) });
  const started = performance.now();
  try {
    const runs = await platform.run({ tasks });
    return { runs, ms: performance.now() - started };
  } finally {
    await platform.close();
  }
}

before(async () => {
  receiver = await startReceiver(receiverMode);
  repo = await writeRepo(files(receiver.url));
  const platform = await Platform.open({ repo, env: ENV });
  await platform.apply();
  await platform.close();
});
after(() => receiver.close());

test('a successful ingestion + projection wave: START and COMPLETE per run, valid against the spec, with schema, versions and column lineage', async () => {
  receiver.received.length = 0;
  const { runs } = await runTasks(['load_items', 'double_items']);
  assert.deepEqual(
    runs.map((run) => run.status),
    ['succeeded', 'succeeded'],
  );
  // `run` flushes before it returns: every event has arrived.
  const events = receiver.received.map((item) => item.event);
  assert.deepEqual(
    events.map((event) => `${(event.job as { name: string }).name} ${String(event.eventType)}`),
    ['load_items START', 'load_items COMPLETE', 'double_items START', 'double_items COMPLETE'],
  );
  for (const item of receiver.received) {
    assertValidEvent(item.event);
    assert.equal(item.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(item.headers['content-type'], 'application/json');
  }
  const [ingestStart, ingestDone, projectStart, projectDone] = events as Loose[];
  // The run id: a UUID derived from Tessera's, the same for START and COMPLETE, Tessera's kept in a facet.
  assert.equal(ingestStart!.run.runId, ingestDone!.run.runId);
  assert.equal(ingestDone!.run.runId, runUuid(runs[0]!.id));
  assert.equal(ingestDone!.run.facets.tessera_run.runId, runs[0]!.id);
  assert.equal(ingestDone!.schemaURL, 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
  assert.match(ingestDone!.producer, /^https:\/\/.*tessera.*\d+\.\d+\.\d+/);
  assert.deepEqual(ingestDone!.job, {
    namespace: 'tessera-test',
    name: 'load_items',
    facets: {
      jobType: {
        _producer: ingestDone!.producer,
        _schemaURL: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
        processingType: 'BATCH',
        integration: 'TESSERA',
        jobType: 'INGESTION',
      },
    },
  });
  // The ingestion's input is its source file; its output the table, with its schema and version.
  assert.deepEqual(ingestDone!.inputs, [{ namespace: 'file', name: join(repo, 'items.csv') }]);
  const itemsOut = ingestDone!.outputs[0];
  assert.equal(itemsOut.namespace, 'tessera-test');
  assert.equal(itemsOut.name, 'ops.items');
  assert.deepEqual(
    itemsOut.facets.schema.fields.map(
      (field: { name: string; type: string }) => `${field.name}:${field.type}`,
    ),
    ['id:VARCHAR', 'qty:BIGINT'],
  );
  assert.equal(itemsOut.facets.version.datasetVersion, String(runs[0]!.published!.version));
  assert.equal(itemsOut.outputFacets.outputStatistics.rowCount, 2);
  // The projection reads the version the ingestion published, and says where each column comes from.
  assert.deepEqual(
    projectDone!.inputs.map((input: Loose) => [input.name, input.facets.version?.datasetVersion]),
    [['ops.items', String(runs[0]!.published!.version)]],
  );
  assert.equal(projectStart!.outputs[0].name, 'ops.doubled');
  // Its schema is inferred: the COMPLETE event carries the fields as written.
  assert.deepEqual(
    projectDone!.outputs[0].facets.schema.fields.map(
      (field: { name: string; type: string }) => `${field.name}:${field.type}`,
    ),
    ['id:VARCHAR', 'double_qty:BIGINT'],
  );
  const lineage = projectDone!.outputs[0].facets.columnLineage.fields;
  assert.deepEqual(lineage.id.inputFields, [
    {
      namespace: 'tessera-test',
      name: 'ops.items',
      field: 'id',
      transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
    },
  ]);
  assert.deepEqual(
    lineage.double_qty.inputFields.map((field: Loose) => [field.field, field.transformations[0].subtype]),
    [['qty', 'TRANSFORMATION']],
  );
  assert.equal(projectDone!.job.facets.sql.query, 'select id, qty * 2 as double_qty from ops.items');
});

test('`tessera run` on the command line delivers its events before it exits', async () => {
  receiver.received.length = 0;
  const result = await tesseraInProcess(['--repo', repo, 'run', 'load_items'], { env: { OL_TOKEN: TOKEN } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    receiver.received.map((item) => `${(item.event as Loose).job.name} ${String(item.event.eventType)}`),
    // `run` runs what reads the table too.
    ['load_items START', 'load_items COMPLETE', 'double_items START', 'double_items COMPLETE'],
  );
  for (const item of receiver.received) assertValidEvent(item.event);
});

test('runs of the orchestrator (`tessera serve`): a queued run and the run it triggers emit too', async () => {
  receiver.received.length = 0;
  const platform = await Platform.open({ repo, env: ENV });
  const orchestrator = new Orchestrator(internalsOf(platform), {
    heartbeatMs: 100,
    pollMs: 50,
    schedules: false,
  });
  try {
    const triggered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('double_items did not run within 30s')), 30_000);
      orchestrator.on((event) => {
        if (event.type === 'run-finished' && event.run.task === 'double_items') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await orchestrator.start();
    await orchestrator.enqueue({ task: 'load_items', trigger: 'manual' });
    await triggered;
  } finally {
    await orchestrator.stop(10_000);
    // Closing the platform drains the events still queued.
    await platform.close();
  }
  const events = receiver.received.map((item) => item.event as Loose);
  assert.deepEqual(
    events.map((event) => `${event.job.name} ${event.eventType}`),
    ['load_items START', 'load_items COMPLETE', 'double_items START', 'double_items COMPLETE'],
  );
  assert.match(events[2].run.facets.tessera_run.trigger, /^upstream:ops\.items@\d+$/);
  for (const event of events) assertValidEvent(event);
});

test('a failed run: START then FAIL with the error message facet, valid against the spec', async () => {
  receiver.received.length = 0;
  const { runs } = await runTasks(['load_missing']);
  assert.equal(runs[0]!.status, 'failed');
  const events = receiver.received.map((item) => item.event) as Loose[];
  assert.deepEqual(
    events.map((event) => event.eventType),
    ['START', 'FAIL'],
  );
  for (const event of events) assertValidEvent(event);
  const failure = events[1]!.run.facets.errorMessage;
  assert.equal(failure.message, runs[0]!.error);
  assert.match(failure.message, /missing\.csv/);
  assert.equal(failure.programmingLanguage, 'TypeScript');
  assert.equal(events[1]!.run.facets.tessera_run.status, 'failed');
  // No version was published: the output carries its declared schema and no version.
  assert.equal(events[1]!.outputs[0].facets.version, undefined);
  assert.ok(events[1]!.outputs[0].facets.schema);
});

test('a receiver that hangs: the run still succeeds promptly, and the failed delivery is logged', async () => {
  receiverMode.hang = true;
  warnings.length = 0;
  try {
    const { runs, ms } = await runTasks(['load_items']);
    assert.equal(runs[0]!.status, 'succeeded');
    // Two deliveries of at most 300ms each, and a flush bounded by 1.3s: far under 5s.
    assert.ok(ms < 5_000, `run took ${ms}ms`);
    assert.ok(
      warnings.some((message) =>
        /not delivered to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage: no answer within 300ms/.test(message),
      ),
      warnings.join('\n'),
    );
    assert.ok(warnings.every((message) => !message.includes(TOKEN)));
  } finally {
    receiverMode.hang = false;
  }
});

test('the queue is bounded: past its size events are dropped, said once; flush waits no longer than asked', async () => {
  receiverMode.hang = true;
  const platform = await Platform.open({ repo, env: ENV });
  const messages: string[] = [];
  try {
    const emitter = new LineageEmitter({
      settings: { url: receiver.url, namespace: 'n', timeoutMs: 200 },
      builder: new RunEventBuilder(platform.definitions, {
        namespace: 'n',
        producer: 'https://example.org/tessera',
        upstreamTables: () => [],
      }),
      warn: (message) => messages.push(message),
      maxQueued: 2,
    });
    const run: Run = {
      id: 'r1',
      task: 'load_items',
      status: 'running',
      attempt: 1,
      trigger: 'manual',
      queuedAt: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
    };
    for (let index = 0; index < 5; index++)
      emitter.observe({ type: 'started', run: { ...run, id: `r${index}` } });
    assert.deepEqual(
      messages.filter((message) => message.includes('dropping events')),
      [`OpenLineage: more than 2 events waiting for ${receiver.url}; dropping events`],
    );
    const started = performance.now();
    assert.equal(await emitter.flush(100), false);
    assert.ok(performance.now() - started < 1_000);
    assert.ok(
      messages.some((message) => /event\(s\) not delivered .* within 100ms/.test(message)),
      messages.join('\n'),
    );
    await emitter.close(1_000);
    assert.equal(emitter.counts.delivered, 0);
  } finally {
    receiverMode.hang = false;
    await platform.close();
  }
});

test('a receiver that is down: the run succeeds and the refused delivery is logged', async () => {
  const downRepo = await writeRepo(files(`http://127.0.0.1:${await closedPort()}/api/v1/lineage`));
  const messages: string[] = [];
  const platform = await Platform.open({
    repo: downRepo,
    env: ENV,
    warn: (message) => messages.push(message),
  });
  try {
    await platform.apply();
    const runs = await platform.run({ tasks: ['load_items'] });
    assert.equal(runs[0]!.status, 'succeeded');
  } finally {
    await platform.close();
  }
  assert.equal(
    messages.filter((message) => /START event of job load_items .*not delivered/.test(message)).length,
    1,
  );
  assert.equal(
    messages.filter((message) => /COMPLETE event of job load_items .*not delivered/.test(message)).length,
    1,
  );
});

test('a source URL: its password and tokens never appear in the dataset', () => {
  const dataset = sourceDataset(
    {
      type: 'postgres',
      options: {},
      columns: {},
      database: {
        url: 'postgres://reader:pa55-w0rd@db.internal:5432/shop?sslmode=require&password=x',
        table: 'public.orders',
      } as never,
    },
    '/repo',
  );
  assert.deepEqual(dataset, { namespace: 'postgres://db.internal:5432', name: 'shop.public.orders' });
  const s3 = sourceDataset(
    { type: 'csv', options: {}, columns: {}, uri: 's3://bucket/in/a.csv?X-Amz-Signature=abc&token=t' },
    '/repo',
  );
  assert.deepEqual(s3, { namespace: 's3://bucket', name: 'in/a.csv' });
});

const PG_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgres = await requireService(`PostgreSQL at ${new URL(PG_URL).host}`, async () => {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => {});
  }
});

test(
  'a run reading PostgreSQL with a password from ${VAR}: the password is in no event',
  postgres,
  async () => {
    const table = `ol_items_${randomBytes(5).toString('hex')}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`create table ${table} (id text primary key, qty bigint)`);
      await client.query(`insert into ${table} values ('a', 1), ('b', 2)`);
      const secret = `pw-${randomBytes(8).toString('hex')}`;
      const pgUrl = new URL(PG_URL);
      const base = files(receiver.url);
      const pgRepo = await writeRepo({
        ...base,
        'tasks/t.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source:
  type: postgres
  url: postgres://${pgUrl.username || 'postgres'}:\${PG_SECRET}@${pgUrl.host}${pgUrl.pathname}
  table: ${table}
mode: replace
`,
      });
      const env = { ...ENV, PG_SECRET: secret };
      const platform = await Platform.open({ repo: pgRepo, env });
      receiver.received.length = 0;
      try {
        await platform.apply();
        const runs = await platform.run({ tasks: ['load_items'] });
        assert.equal(runs[0]!.status, 'succeeded', runs[0]!.error);
      } finally {
        await platform.close();
      }
      assert.equal(receiver.received.length, 2);
      for (const item of receiver.received) {
        assertValidEvent(item.event);
        assert.ok(!item.body.includes(secret), 'the password left in an event');
      }
      const input = (receiver.received[1]!.event as Loose).inputs[0];
      assert.deepEqual(input, {
        namespace: `postgres://${pgUrl.host}`,
        name: `${pgUrl.pathname.slice(1)}.${table}`,
      });
    } finally {
      await client.query(`drop table if exists ${table}`).catch(() => {});
      await client.end();
    }
  },
);

test('the validator is the spec: it refuses an event without producer, a bad runId, and a facet without _producer', () => {
  const event = {
    eventType: 'START',
    eventTime: '2026-01-01T00:00:00Z',
    producer: 'https://example.org/p',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: runUuid('r1') },
    job: { namespace: 'n', name: 'j' },
  };
  assertValidEvent(event);
  const { producer: _producer, ...withoutProducer } = event;
  assert.throws(() => assertValidEvent(withoutProducer), /producer/);
  assert.throws(() => assertValidEvent({ ...event, run: { runId: '20260101T000000000Z-abc123' } }), /uuid/);
  assert.throws(
    () =>
      assertValidEvent({
        ...event,
        run: {
          runId: runUuid('r1'),
          facets: {
            errorMessage: {
              _producer: 'https://example.org/p',
              _schemaURL:
                'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
              message: 'boom',
            },
          },
        },
      }),
    /programmingLanguage/,
  );
});
