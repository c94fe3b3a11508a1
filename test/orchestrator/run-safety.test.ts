// Runs that fail safely, driven as users drive them: two `tessera run` processes on one task, a
// server stopped with runs queued, and tasks whose setup throws, with and without a server. The
// processes whose overlap is the point are real; set-up and the other commands run in-process.
import assert from 'node:assert/strict';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { Run } from '../../src/model/index.ts';
import { tessera, type CliResult } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import {
  closedGate,
  openRepoCatalog,
  READINGS_CSV,
  removeRepo,
  startServer,
  waitFor,
  writeOrchestrationRepo,
} from './orchestration-fixture.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/tessera.js');

function overlap(a: Run, b: Run): boolean {
  const [aStart, aEnd] = [Date.parse(a.startedAt!), Date.parse(a.finishedAt!)];
  const [bStart, bEnd] = [Date.parse(b.startedAt!), Date.parse(b.finishedAt!)];
  return aStart < bEnd && bStart < aEnd;
}

/** `tessera ARGS` as a child process whose stderr the test can read while it runs. */
function startTessera(t: TestContext, args: string[]): { stderr(): string; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolveDone) =>
    child.on('close', (code) => resolveDone({ code: code ?? 1, stdout, stderr })),
  );
  return { stderr: () => stderr, done };
}

test('two tessera run processes on the same task never run it at once: the second waits for the first', async (t) => {
  const gate = await closedGate(t);
  const repo = await writeOrchestrationRepo({ sql: { build_low: gate.lowSql } });
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  const ingest = await tesseraInProcess(['--repo', repo, 'run', 'ingest_readings', '--no-downstream']);
  assert.equal(ingest.code, 0, ingest.stderr);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const first = tessera(['--repo', repo, 'run', 'build_low', '--no-downstream']);
  await waitFor(
    'the first build_low run to be running',
    async () => (await store.listRuns({ task: 'build_low', status: 'running' })).length > 0,
    60_000,
  );
  const second = startTessera(t, ['--repo', repo, 'run', 'build_low', '--no-downstream']);
  await waitFor('the second process to wait', async () => second.stderr().includes('waiting for it to end'));
  await gate.open();
  const [one, two] = await Promise.all([first, second.done]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.match(
    two.stderr,
    /task build_low is already running in [^ ]+:\d+:[0-9a-f]+ \(run [^,]+, since [^)]+\); waiting for it to end/,
  );

  const runs = await store.listRuns({ task: 'build_low' });
  assert.equal(runs.length, 2);
  assert.ok(runs.every((run) => run.status === 'succeeded'));
  assert.equal(overlap(runs[0]!, runs[1]!), false, `overlapping runs: ${JSON.stringify(runs)}`);
  assert.deepEqual(await store.listTaskLeases(), [], 'both leases released');
});

/** `tessera ARGS` as a child process the test can kill. */
function spawnTessera(t: TestContext, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

test('a server does not start a task that a tessera run process is running; it runs it once that one ends', async (t) => {
  const gate = await closedGate(t);
  const repo = await writeOrchestrationRepo({ sql: { build_low: gate.lowSql } });
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  await gate.open();
  assert.equal((await tesseraInProcess(['--repo', repo, 'run', '--all'])).code, 0);
  await gate.close();
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const cli = tessera(['--repo', repo, 'run', 'build_low', '--no-downstream']);
  const running = await waitFor('the CLI run of build_low to be running', async () => {
    const [run] = await store.listRuns({ task: 'build_low', status: 'running' });
    return run;
  });
  await startServer(t, repo);
  const waiting = tesseraInProcess([
    '--repo',
    repo,
    '--json',
    'run',
    'build_low',
    '--no-downstream',
    '--wait',
  ]);
  await waitFor(
    'the server to have a build_low run queued',
    async () => (await store.listRuns({ task: 'build_low', status: 'queued' })).length > 0,
  );
  await gate.open();
  const queued = await waiting;
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal((await cli).code, 0);

  const runs = await store.listRuns({ task: 'build_low' });
  const cliRun = runs.find((run) => run.id === running.id)!;
  const serverRun = runs.find((run) => run.id === (JSON.parse(queued.stdout) as Run[])[0]!.id)!;
  assert.equal(cliRun.status, 'succeeded');
  assert.equal(serverRun.status, 'succeeded');
  assert.equal(overlap(cliRun, serverRun), false, JSON.stringify([cliRun, serverRun]));
});

test('a tessera run process killed mid-run: the next server start records its run failed and frees the task', async (t) => {
  const gate = await closedGate(t);
  const repo = await writeOrchestrationRepo({ sql: { build_low: gate.lowSql } });
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  assert.equal(
    (await tesseraInProcess(['--repo', repo, 'run', 'ingest_readings', '--no-downstream'])).code,
    0,
  );
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const cli = spawnTessera(t, ['--repo', repo, 'run', 'build_low', '--no-downstream']);
  const running = await waitFor('the CLI run of build_low to be running', async () => {
    const [run] = await store.listRuns({ task: 'build_low', status: 'running' });
    return run;
  });
  cli.kill('SIGKILL');
  await new Promise((resolve) => cli.once('exit', resolve));
  assert.equal((await store.getRun(running.id))?.status, 'running', 'left running by the dead process');

  const server = await startServer(t, repo);
  await gate.open();
  const failed = await waitFor(
    `the dead run to be recorded failed (${server.log().slice(-2000)})`,
    async () => {
      const run = await store.getRun(running.id);
      return run?.status === 'failed' ? run : undefined;
    },
  );
  assert.match(failed.error ?? '', /the process running it \(.+:\d+:[0-9a-f]+\) died before the run ended/);
  // The task is free again: the server's catch-up runs it.
  await waitFor(
    'build_low to publish',
    async () => (await store.getCurrentVersion('mart.low')) !== undefined,
    120_000,
  );
});

test('stopping serve with runs queued leaves them queued and says so; a later tessera run supersedes them', async (t) => {
  // The ingestion fails until its source exists; its retry waits an hour, queued.
  const repo = await writeOrchestrationRepo({
    withoutSource: true,
    ingestExtra: 'retries: { attempts: 2, backoff: 1h }',
  });
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  const server = await startServer(t, repo);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const queued = await tesseraInProcess(['--repo', repo, 'run', 'ingest_readings', '--no-downstream']);
  assert.equal(queued.code, 0, queued.stderr);
  const retry = await waitFor(
    `the retry to be queued (${server.log().slice(-2000)})`,
    async () => {
      const [run] = await store.listRuns({ task: 'ingest_readings' });
      return run?.status === 'queued' && run.attempt === 2 ? run : undefined;
    },
    60_000,
  );

  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.log());
  assert.match(
    server.log(),
    new RegExp(
      `1 run left queued: ${retry.id} \\(ingest_readings, manual, attempt 2, due [^)]+\\); they run when serve starts again`,
    ),
  );
  assert.equal((await store.getRun(retry.id))?.status, 'queued');
  const listed = await tesseraInProcess(['--repo', repo, 'runs', '--status', 'queued']);
  assert.match(listed.stdout, new RegExp(`${retry.id} +ingest_readings +queued`));

  await mkdir(join(repo, 'data'), { recursive: true });
  await writeFile(join(repo, 'data', 'readings.csv'), READINGS_CSV);
  const now = await tesseraInProcess(['--repo', repo, 'run', 'ingest_readings', '--no-downstream']);
  assert.equal(now.code, 0, now.stderr);
  const [fresh] = await store.listRuns({ task: 'ingest_readings', status: 'succeeded' });
  assert.ok(fresh);
  const superseded = await store.getRun(retry.id);
  assert.equal(superseded?.status, 'cancelled');
  assert.equal(superseded?.error, `superseded by run ${fresh!.id} (tessera run without a server)`);
  assert.match(
    now.stderr,
    new RegExp(`queued run ${retry.id} of ingest_readings superseded by run ${fresh!.id}`),
  );
  assert.deepEqual(await store.listActiveRuns(), []);
});

/** Make the staging folder of raw.readings impossible to create: its namespace folder is a file. */
async function breakStaging(repo: string): Promise<string> {
  const blocker = join(repo, '.tessera', 'warehouse', 'raw');
  await mkdir(join(repo, '.tessera', 'warehouse'), { recursive: true });
  await writeFile(blocker, 'not a folder\n');
  return blocker;
}

test('tessera run: a task whose staging folder cannot be created is recorded failed, its downstream skipped', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  await breakStaging(repo);

  const result = await tesseraInProcess(['--repo', repo, '--json', 'run', 'ingest_readings']);
  assert.equal(result.code, 1, result.stderr);
  const runs = JSON.parse(result.stdout) as Run[];
  const ingest = runs.find((run) => run.task === 'ingest_readings')!;
  assert.equal(ingest.status, 'failed');
  assert.match(
    ingest.error ?? '',
    /task ingest_readings: cannot create the staging folder of raw\.readings: .*(ENOTDIR|EEXIST)/,
  );
  const downstream = runs.filter((run) => run.task !== 'ingest_readings');
  assert.equal(downstream.length, 5);
  assert.ok(
    downstream.every((run) => run.status === 'skipped'),
    JSON.stringify(downstream),
  );

  const store = await openRepoCatalog(repo);
  t.after(() => store.close());
  assert.equal((await store.getRun(ingest.id))?.status, 'failed');
  assert.deepEqual(await store.listActiveRuns(), [], 'no run stays running');
  assert.deepEqual(await store.listTaskLeases(), []);
});

test('tessera serve: a setup failure fails the run and skips downstream; the server keeps running runs', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  const blocker = await breakStaging(repo);
  const server = await startServer(t, repo);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const first = await tesseraInProcess(['--repo', repo, '--json', 'run', 'ingest_readings', '--wait']);
  assert.equal(first.code, 1, first.stderr);
  const runs = JSON.parse(first.stdout) as Run[];
  const ingest = runs.find((run) => run.task === 'ingest_readings')!;
  assert.equal(ingest.status, 'failed', server.log());
  assert.match(ingest.error ?? '', /cannot create the staging folder of raw\.readings/);
  assert.ok(
    runs.filter((run) => run.task !== 'ingest_readings').every((run) => run.status === 'skipped'),
    JSON.stringify(runs),
  );
  assert.deepEqual(await store.listActiveRuns(), [], 'no run stays running');

  // The scheduler is alive: once the folder can be created, the same server runs the wave.
  await rm(blocker);
  const second = await tesseraInProcess(['--repo', repo, '--json', 'run', 'ingest_readings', '--wait']);
  assert.equal(second.code, 0, `${second.stderr}\n${server.log().slice(-3000)}`);
  assert.ok((JSON.parse(second.stdout) as Run[]).every((run) => run.status === 'succeeded'));
  assert.equal(server.child.exitCode, null, 'the server still runs');
});
