// `orchestrator: workers`: 100 independent ingestion tasks queued at once in a PostgreSQL catalog,
// executed by 1 `tessera worker` process, then by 3 (each `--concurrency 2`), on one shared storage
// folder. The figure is the wall time from queueing to the last run ended; the workers are started
// (and ready) before the clock starts. Baseline: the single worker. Needs PostgreSQL on
// 127.0.0.1:5432 (user postgres, database test); each round gets a schema of its own, dropped after.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Platform } from '../src/platform.ts';

const TASKS = Number(process.env.WORKERS_BENCH_TASKS ?? 100);
const PG = process.env.WORKERS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/tessera.js');

export default async function (): Promise<void> {
  const one = await round(1);
  const three = await round(3);
  console.log(`${TASKS} independent tasks, 1 worker (concurrency 2): ${(one / 1000).toFixed(1)} s`);
  console.log(`${TASKS} independent tasks, 3 workers (concurrency 2 each): ${(three / 1000).toFixed(1)} s`);
  console.log(`speed-up with 3 workers: ${(one / three).toFixed(2)}x (on ${await cores()} cores)`);
}

async function cores(): Promise<number> {
  const { availableParallelism } = await import('node:os');
  return availableParallelism();
}

/** Milliseconds for `workers` worker processes to run the TASKS tasks. */
async function round(workers: number): Promise<number> {
  const schema = `tessera_workers_bench_${randomBytes(4).toString('hex')}`;
  const repo = await mkdtemp(join(tmpdir(), 'tessera-workers-bench-'));
  const children: ChildProcess[] = [];
  try {
    await writeRepo(repo, `${PG}?schema=${schema}`);
    const platform = await Platform.open({ repo });
    try {
      await platform.apply();
      for (let index = 0; index < workers; index++) children.push(await startWorker(repo));
      const start = performance.now();
      const outcome = await platform.runOrQueue({
        tasks: Array.from({ length: TASKS }, (_, index) => `ingest_${index}`),
        downstream: false,
      });
      const elapsed = performance.now() - start;
      const bad = outcome.runs.filter((run) => run.status !== 'succeeded');
      if (bad.length > 0) throw new Error(`bench: ${bad.length} runs did not succeed: ${bad[0]!.error}`);
      return elapsed;
    } finally {
      await platform.close();
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await rm(repo, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}

async function startWorker(repo: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, '--repo', repo, 'worker', '--concurrency', '2'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolveReady, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('worker ')) resolveReady();
    });
    child.on('exit', (code) => reject(new Error(`bench: tessera worker exited ${code}`)));
  });
  return child;
}

async function writeRepo(repo: string, catalog: string): Promise<void> {
  const files: Record<string, string> = {
    'tessera.yaml': `name: workers-bench\ncatalog: ${catalog}\nstorage: file:${join(repo, 'warehouse')}\norchestrator: workers\n`,
    'owners/team.yaml': 'kind: owner\nname: team\nmembers: [team@example.org]\n',
    'schemas/raw.proto': [
      'syntax = "proto3";',
      'package raw;',
      'import "tessera/options.proto";',
      'message Reading {',
      '  string id = 1 [(tessera.field) = { primary_key: true }];',
      '  int64 value = 2;',
      '}',
      '',
    ].join('\n'),
    'data/readings.csv': `id,value\n${Array.from({ length: 1000 }, (_, index) => `r${index},${index}`).join('\n')}\n`,
  };
  const tables: string[] = [];
  const tasks: string[] = [];
  for (let index = 0; index < TASKS; index++) {
    tables.push(`kind: table\nname: raw.r_${index}\nowner: team\nschema: schemas/raw.proto#raw.Reading\n`);
    tasks.push(
      `kind: task\nname: ingest_${index}\ntype: ingestion\ntarget: raw.r_${index}\nsource: { type: csv, uri: data/readings.csv }\n`,
    );
  }
  files['tables/tables.yaml'] = tables.join('---\n');
  files['tasks/tasks.yaml'] = tasks.join('---\n');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
}
