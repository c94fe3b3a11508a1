// `orchestrator: workers`: a wave of 24 tasks queued in a PostgreSQL catalog and executed by three
// `tessera worker` processes publishing to one S3 bucket (s3rver). One worker is killed with SIGKILL while it
// runs a task: another worker notices (its pid is gone; on another host, its lease would lapse),
// runs the task again under the same run id, and every table is published exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { tessera } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';
import { requireService } from '../support/services.ts';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import {
  closedGate,
  openAppliedPlatform,
  removeRepo,
  waitFor,
  writeOrchestrationRepo,
} from './orchestration-fixture.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/tessera.js');
const PG = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `tessera_workers_${randomBytes(5).toString('hex')}`;
const CATALOG = `${PG}?schema=${schema}`;
/** Short leases so a silent worker is judged dead in seconds, not half a minute. */
const ENV = { TESSERA_LEASE_TTL: '3s' };
/** 23 projections over the ingested table; with the ingestion, a wave of 24 tasks. */
const FAN_OUT = 23;

const service = await requireService('PostgreSQL at 127.0.0.1:5432', async () => {
  const client = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

interface WorkerProcess {
  child: ChildProcess;
  log(): string;
  exited: Promise<number | NodeJS.Signals>;
}

/** Start `tessera worker` on `repo` and wait until it says it works; killed when the test ends. */
async function startWorker(t: TestContext, repo: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, '--repo', repo, 'worker', '--concurrency', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...ENV },
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit(signal ?? code ?? 0)),
  );
  await waitFor(
    `tessera worker to start (stdout: ${stdout}; stderr: ${stderr.slice(-2000)})`,
    async () => {
      if (child.exitCode !== null) throw new Error(`tessera worker exited ${child.exitCode}: ${stderr}`);
      return stdout.includes('worker ');
    },
    90_000,
  );
  return { child, log: () => stderr, exited };
}

/** The 18 projections beside the fixture's 5: each sums the readings and multiplies by its number. */
function fanOut(): { tables: string; tasks: string } {
  const tables: string[] = [];
  const tasks: string[] = [];
  for (let index = 1; index <= FAN_OUT - 5; index += 1) {
    tables.push(`kind: table\nname: mart.part_${index}\nowner: team\n`);
    tasks.push(
      [
        'kind: task',
        `name: build_part_${index}`,
        'type: projection',
        `target: mart.part_${index}`,
        `sql: "select ${index} as part, sum(value) * ${index} as total from raw.readings"`,
        '',
      ].join('\n'),
    );
  }
  return { tables: tables.join('---\n'), tasks: tasks.join('---\n') };
}

describe('orchestrator: workers', { skip: service.skip }, () => {
  const BUCKET = 'tessera-workers';
  let s3: S3TestServer;
  before(async () => {
    s3 = await startS3Server([BUCKET]);
  });
  after(async () => {
    await s3.close();
    await dropSchema();
  });

  test('three workers run a wave of 24 tasks; a worker killed mid-run is replaced; each table published once', async (t) => {
    const gate = await closedGate(t);
    const extra = fanOut();
    const repo = await writeOrchestrationRepo({
      settings: [
        'name: workers-test',
        `catalog: ${CATALOG}`,
        `storage: s3://${BUCKET}/wave`,
        `s3: { endpoint: "${s3.endpoint}", region: us-east-1, path_style: true }`,
        'orchestrator: workers',
        '',
      ].join('\n'),
      sql: { build_low: gate.lowSql },
      extraTables: extra.tables,
      extraTasks: extra.tasks,
    });
    t.after(() => removeRepo(repo));
    const apply = await tesseraInProcess(['--repo', repo, 'apply']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const store: CatalogStore = await openCatalogStore(CATALOG);
    t.after(() => store.close());

    const workers = await Promise.all([startWorker(t, repo), startWorker(t, repo), startWorker(t, repo)]);
    // `tessera run` under workers queues the wave in the catalog and waits for the workers.
    const run = tessera(['--repo', repo, 'run', 'ingest_readings'], { env: ENV });

    const slow = await waitFor(
      'build_low to be running in a worker',
      async () =>
        (await store.listActiveRuns()).find(
          (entry) => entry.run.task === 'build_low' && entry.run.status === 'running' && entry.queue.owner,
        ),
      120_000,
      20,
    );
    const ownerPid = Number(slow.queue.owner!.split(':')[1]);
    const victim = workers.find((worker) => worker.child.pid === ownerPid);
    assert.ok(victim, `the owner ${slow.queue.owner} is one of the workers`);
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    await gate.open();

    const result = await run;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /queued 24 run\(s\) for the workers/);

    const runs = await store.listRuns({});
    assert.equal(runs.length, 24, runs.map((r) => `${r.task} ${r.status}`).join('\n'));
    assert.deepEqual(
      runs.filter((r) => r.status !== 'succeeded').map((r) => `${r.task} ${r.status} ${r.error ?? ''}`),
      [],
    );
    for (const r of runs) {
      const versions = await store.listVersions(r.published!.table);
      assert.deepEqual(
        versions.map((version) => [version.version, version.runId]),
        [[1, r.id]],
        `${r.published!.table} is published exactly once, by its run`,
      );
    }

    const retried = await store.getRun(slow.run.id);
    assert.equal(retried?.status, 'succeeded');
    const log = (await store.readRunLog(slow.run.id)).map((line) => line.message);
    assert.ok(
      log.some((line) => line.includes(`(${slow.queue.owner}) died; queued again`)),
      log.join('\n'),
    );
    const survivors = workers.filter((worker) => worker !== victim);
    assert.ok(
      survivors.some((worker) =>
        new RegExp(`run ${slow.run.id} of build_low was running in .+, which died; queued again`).test(
          worker.log(),
        ),
      ),
      survivors.map((worker) => worker.log()).join('\n'),
    );
    // Each surviving worker logged runs it claimed and finished; together they ran the wave.
    const finishedBy = survivors.map((worker) => (worker.log().match(/ succeeded → /g) ?? []).length);
    assert.ok(
      finishedBy.reduce((a, b) => a + b, 0) + (victim.log().match(/ succeeded → /g) ?? []).length >= 24,
      finishedBy.join(','),
    );

    // Every version's files are in the bucket; the local cache is emptied, so the queries below read
    // them back from the bucket, through the governed read path.
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
    t.after(() => client.destroy());
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'wave/' }));
    const keys = (listed.Contents ?? []).map((object) => object.Key!);
    for (const r of runs) {
      const [namespace, name] = r.published!.table.split('.');
      assert.ok(
        keys.some((key) => key.startsWith(`wave/${namespace}/${name}/${r.id}/`)),
        `${r.published!.table}'s files are in the bucket: ${keys.join(', ')}`,
      );
    }
    await rm(join(repo, '.tessera', 's3-storage'), { recursive: true, force: true });
    const low = await tesseraInProcess([
      '--repo',
      repo,
      'query',
      'select low, passed from mart.low',
      '--format',
      'csv',
    ]);
    assert.equal(low.code, 0, low.stderr);
    assert.equal(low.stdout, 'low,passed\n5,1\n');
    const part = await tesseraInProcess([
      '--repo',
      repo,
      'query',
      `select total from mart.part_${FAN_OUT - 5}`,
      '--format',
      'csv',
    ]);
    assert.equal(part.stdout, `total\n${35 * (FAN_OUT - 5)}\n`, part.stderr);

    // SIGTERM: the survivors stop cleanly, nothing left running.
    for (const worker of survivors) worker.child.kill('SIGTERM');
    for (const worker of survivors) assert.equal(await worker.exited, 0, worker.log().slice(-2000));
    assert.deepEqual(await store.listActiveRuns(), []);
  });

  test('tessera worker refuses a repo whose tessera.yaml does not say orchestrator: workers', async (t) => {
    const repo = await writeOrchestrationRepo();
    t.after(() => removeRepo(repo));
    const result = await tesseraInProcess(['--repo', repo, 'worker']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /`tessera worker` needs `orchestrator: workers` \(and a `postgres:\/\/` catalog\)/,
    );
  });

  test('serve under workers queues but never claims: the wave runs in the executing process', async (t) => {
    const repo = await writeOrchestrationRepo();
    const platform = await openAppliedPlatform(repo);
    const host = internalsOf(platform);
    const serve = new Orchestrator(host, { execute: false, schedules: false, pollMs: 50 });
    const worker = new Orchestrator(host, { schedules: false, heartbeatMs: 100, pollMs: 50 });
    t.after(async () => {
      await worker.stop(10_000);
      await serve.stop(10_000);
      await platform.close();
      await removeRepo(repo);
    });
    const startedIn = { serve: 0, worker: 0 };
    serve.on((event) => void (event.type === 'run-started' && (startedIn.serve += 1)));
    worker.on((event) => void (event.type === 'run-started' && (startedIn.worker += 1)));
    await serve.start();
    await worker.start();
    await serve.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    await worker.whenIdle(60_000);
    assert.deepEqual(startedIn, { serve: 0, worker: 6 }, 'the ingestion and its 5 readers ran in the worker');
    assert.equal((await host.store.listVersions('mart.spread')).length, 1);
  });
});
