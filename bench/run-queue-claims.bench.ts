// `orchestrator: workers` claims: N queued runs of independent tasks in a PostgreSQL catalog, drained
// by C claimers (each its own connection; each claim followed by marking the run finished, as a
// worker does), two ways side by side:
//   advisory lock  the catalog's claim as `tessera worker` makes it: `CatalogRunQueue.claimNext`
//                  (one transaction under `pg_advisory_xact_lock`: read every queued and running
//                  run, choose by the readiness rule, take the task's lease, start the run), then
//                  `updateRun` (succeeded) and `complete` (the lease given back).
//   SKIP LOCKED    `SELECT … WHERE status = 'queued' ORDER BY queued_at, id FOR UPDATE SKIP LOCKED
//                  LIMIT 1` and the same start update in one transaction, then the same finish
//                  update. No readiness rule and no task lease: the upper bound SKIP LOCKED could
//                  reach, since it cannot check upstream runs against a consistent view.
// Baseline: the advisory lock. Also prints how long one claim holds the lock and what one small
// ingestion run costs. Needs PostgreSQL on 127.0.0.1:5432 (user postgres); the bench creates a
// database of its own and drops it after.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Transaction } from 'kysely';
import pg from 'pg';
import type { CatalogDatabase } from '../src/catalog/catalog-database.ts';
import { PostgresCatalogStore } from '../src/catalog/postgres-catalog-store.ts';
import { TaskGraph } from '../src/graph/index.ts';
import type { TaskDef } from '../src/model/index.ts';
import { CatalogRunQueue } from '../src/orchestrator/catalog-run-queue.ts';
import { Platform } from '../src/platform.ts';
import { median } from './timing.ts';

const RUNS = Number(process.env.CLAIMS_BENCH_RUNS ?? 2000);
const CLAIMERS = [1, 4, 16];
const SERVER = process.env.CLAIMS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `tessera_claims_bench_${process.pid}`;
const URL = `${SERVER}/${DATABASE}`;
/** Claims counted as "with every run still queued" / "with few left" for the lock's hold time. */
const EDGE = 100;

/** One drain of the queue. */
interface Drain {
  claimsPerSecond: number;
  /** Milliseconds of each claim call (waiting for the lock included). */
  claimLatencies: number[];
  /** Advisory lock only: milliseconds from acquiring the lock to the claim's commit, in claim order. */
  lockHolds: number[];
}

export default async function (): Promise<void> {
  await admin(`create database ${DATABASE}`);
  try {
    const graph = independentTasks(RUNS);
    let holdsAtOne: number[] = [];
    for (const claimers of CLAIMERS) {
      const lock = await drainWithAdvisoryLock(graph, claimers);
      const skip = await drainWithSkipLocked(graph, claimers);
      if (claimers === 1) holdsAtOne = lock.lockHolds;
      console.log(
        `N=${RUNS} C=${claimers}: advisory lock ${lock.claimsPerSecond.toFixed(0)} claims/s ` +
          `(median claim ${ms(median(lock.claimLatencies))}), SKIP LOCKED ${skip.claimsPerSecond.toFixed(0)} claims/s ` +
          `(median claim ${ms(median(skip.claimLatencies))}): SKIP LOCKED/lock ${(skip.claimsPerSecond / lock.claimsPerSecond).toFixed(2)}x; ` +
          `lock held ${ms(median(lock.lockHolds))} per claim (median)`,
      );
    }
    const hold = median(holdsAtOne);
    const first = median(holdsAtOne.slice(0, EDGE));
    const last = median(holdsAtOne.slice(-EDGE));
    console.log(
      `advisory lock held per claim (C=1): median ${ms(hold)}; ${ms(first)} with ${RUNS}–${RUNS - EDGE} runs queued, ` +
        `${ms(last)} with ${EDGE} or fewer (each claim reads every queued and running run)`,
    );
    console.log(
      'SKIP LOCKED figures skip the readiness rule and the task lease: the upper bound it could reach, ' +
        'since it cannot check upstream runs against a consistent view',
    );
    const run = await smallIngestion();
    console.log(
      `→ claims could sustain ${(1000 / hold).toFixed(0)} runs/s (${(1000 / first).toFixed(0)} with ${RUNS} queued); ` +
        `a run costs ${ms(run.recorded)} (one 1,000-row CSV ingestion, started to finished as recorded; ` +
        `${ms(run.wall)} for the whole \`tessera run\` in process; medians of 5)`,
    );
  } finally {
    await admin(`drop database if exists ${DATABASE} with (force)`);
  }
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/test` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** `count` ingestion tasks reading nothing: every queued run is ready at once. */
function independentTasks(count: number): TaskGraph {
  const tasks = Array.from({ length: count }, (_, index): TaskDef => ({
    name: `ingest_${index}`,
    type: 'ingestion',
    target: `raw.r_${index}`,
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: { file: 'tasks/tasks.yaml', line: index + 1, column: 1 },
  }));
  return TaskGraph.fromDefinitions(tasks, () => []);
}

/** A catalog schema of its own per drain, migrated, with RUNS runs queued through the run queue. */
async function queuedCatalog(graph: TaskGraph, schema: string): Promise<void> {
  const store = new PostgresCatalogStore({ url: URL, schema, maxConnections: 1 });
  try {
    await store.migrate();
    const queue = new CatalogRunQueue(store, graph);
    for (const task of graph.taskNames) await queue.enqueue({ task, trigger: 'manual' });
  } finally {
    await store.close();
  }
}

/** The PostgreSQL store, noting when its claim transaction acquired the run queue's lock. */
class LockTimedStore extends PostgresCatalogStore {
  lockedAt = 0;

  protected override async lockRunQueue(trx: Transaction<CatalogDatabase>): Promise<void> {
    await super.lockRunQueue(trx);
    this.lockedAt = performance.now();
  }
}

async function drainWithAdvisoryLock(graph: TaskGraph, claimers: number): Promise<Drain> {
  const schema = `claims_lock_${claimers}`;
  await queuedCatalog(graph, schema);
  const stores = Array.from(
    { length: claimers },
    () => new LockTimedStore({ url: URL, schema, maxConnections: 1 }),
  );
  const claimLatencies: number[] = [];
  const lockHolds: { at: number; hold: number }[] = [];
  let claimed = 0;
  try {
    // Connect every claimer before the clock starts.
    await Promise.all(stores.map((store) => store.listTaskLeases()));
    const start = performance.now();
    await Promise.all(
      stores.map(async (store, index) => {
        const owner = `bench:${process.pid}:${index}`;
        const queue = new CatalogRunQueue(store, graph);
        for (;;) {
          const before = performance.now();
          const { claimed: entry } = await queue.claimNext(owner);
          const after = performance.now();
          if (!entry) return;
          claimLatencies.push(after - before);
          lockHolds.push({ at: store.lockedAt, hold: after - store.lockedAt });
          claimed++;
          await store.updateRun(entry.run.id, { status: 'succeeded', finishedAt: new Date().toISOString() });
          await queue.complete(entry.run.id, owner);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    if (claimed !== RUNS)
      throw new Error(`bench: the advisory lock drain claimed ${claimed} of ${RUNS} runs`);
    lockHolds.sort((a, b) => a.at - b.at);
    return {
      claimsPerSecond: RUNS / seconds,
      claimLatencies,
      lockHolds: lockHolds.map((entry) => entry.hold),
    };
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

async function drainWithSkipLocked(graph: TaskGraph, claimers: number): Promise<Drain> {
  const schema = `claims_skip_${claimers}`;
  await queuedCatalog(graph, schema);
  const clients = Array.from({ length: claimers }, () => new pg.Client({ connectionString: URL }));
  const claimLatencies: number[] = [];
  let claimed = 0;
  try {
    for (const client of clients) {
      await client.connect();
      await client.query(`set search_path to "${schema}"`);
    }
    const start = performance.now();
    await Promise.all(
      clients.map(async (client, index) => {
        const owner = `bench:${process.pid}:${index}`;
        for (;;) {
          const before = performance.now();
          const id = await claimSkipLocked(client, owner);
          const after = performance.now();
          if (id === undefined) return;
          claimLatencies.push(after - before);
          claimed++;
          await client.query(`update runs set status = 'succeeded', finished_at = $2 where id = $1`, [
            id,
            new Date().toISOString(),
          ]);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    if (claimed !== RUNS) throw new Error(`bench: the SKIP LOCKED drain claimed ${claimed} of ${RUNS} runs`);
    return { claimsPerSecond: RUNS / seconds, claimLatencies, lockHolds: [] };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

/** Start the oldest queued run no other transaction has locked; the same columns `claimRun` sets. */
async function claimSkipLocked(client: pg.Client, owner: string): Promise<string | undefined> {
  await client.query('begin');
  try {
    const { rows } = await client.query<{ id: string }>(
      `select id from runs where status = 'queued' order by queued_at, id for update skip locked limit 1`,
    );
    const id = rows[0]?.id;
    if (id !== undefined) {
      const now = new Date().toISOString();
      await client.query(
        `update runs set status = 'running', owner = $2, heartbeat_at = $3, started_at = $3,
           finished_at = null, cancel_requested = 0
         where id = $1 and status = 'queued'`,
        [id, owner, now],
      );
    }
    await client.query('commit');
    return id;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** One small ingestion (1,000 CSV rows) after a warm-up run: medians of 5 runs, in milliseconds. */
async function smallIngestion(): Promise<{ recorded: number; wall: number }> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-claims-bench-'));
  try {
    await writeRepo(repo, `${URL}?schema=ingestion_probe`);
    const platform = await Platform.open({ repo });
    try {
      await platform.apply();
      const recorded: number[] = [];
      const wall: number[] = [];
      for (let round = 0; round < 6; round++) {
        const start = performance.now();
        const [run] = await platform.run({ tasks: ['ingest'], downstream: false });
        const elapsed = performance.now() - start;
        if (run?.status !== 'succeeded' || run.published?.version !== round + 1) {
          throw new Error(
            `bench: ingestion round ${round + 1} ended ${run?.status} without its version: ${run?.error}`,
          );
        }
        if (round === 0) continue;
        recorded.push(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!));
        wall.push(elapsed);
      }
      return { recorded: median(recorded), wall: median(wall) };
    } finally {
      await platform.close();
    }
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

async function writeRepo(repo: string, catalog: string): Promise<void> {
  const files: Record<string, string> = {
    'tessera.yaml': `name: claims-bench\ncatalog: ${catalog}\nstorage: file:${join(repo, 'warehouse')}\n`,
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
    'tables/tables.yaml':
      'kind: table\nname: raw.readings\nowner: team\nschema: schemas/raw.proto#raw.Reading\n',
    'tasks/tasks.yaml':
      'kind: task\nname: ingest\ntype: ingestion\ntarget: raw.readings\nsource: { type: csv, uri: data/readings.csv }\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
}
