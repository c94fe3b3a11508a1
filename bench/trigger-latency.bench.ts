// Trigger latency: a chain of 200 trivial projections (`select * from ns.t_{i-1}`) run through the
// orchestrator in this process. For each link: the time from the upstream version's publication to
// the dependent run's start. Baseline, same process: one bare `runTask` of a trivial projection.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Orchestrator } from '../src/orchestrator/index.ts';
import { Platform } from '../src/platform.ts';
import { internalsOf } from '../src/platform/internals.ts';
import { runTask } from '../src/runner/index.ts';

const CHAIN = Number(process.env.TRIGGER_BENCH_CHAIN ?? 200);
const BASELINE_RUNS = 20;

export default async function (): Promise<void> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-trigger-bench-'));
  try {
    await writeChainRepo(repo, CHAIN);
    const platform = await Platform.open({ repo });
    try {
      await platform.apply();
      const context = await internalsOf(platform).runContext();
      // Data for the baseline: the root and the first link, run directly.
      await runTask(context, 'ingest_t_0');
      await runTask(context, 'build_t_1');
      const runCost: number[] = [];
      for (let index = 0; index < BASELINE_RUNS; index++) {
        const start = performance.now();
        const run = await runTask(context, 'build_t_1');
        runCost.push(performance.now() - start);
        if (run.status !== 'succeeded') throw new Error(`bench: baseline run failed: ${run.error}`);
      }
      const baseline = percentile(runCost, 50);

      for (const debounceMs of [10, 0]) {
        const latencies = await measureChain(platform, debounceMs);
        const p50 = percentile(latencies, 50);
        const p95 = percentile(latencies, 95);
        console.log(
          `trigger latency, chain of ${CHAIN} projections, debounce ${debounceMs} ms: ` +
            `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (target p50 < 50 ms); ` +
            `one bare runTask ${baseline.toFixed(1)} ms → trigger/run ${(p50 / baseline).toFixed(2)}x`,
        );
      }
    } finally {
      await platform.close();
    }
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

/** One wave down the whole chain; returns publication → dependent start, per link (ms). */
async function measureChain(platform: Platform, debounceMs: number): Promise<number[]> {
  const orchestrator = new Orchestrator(internalsOf(platform), { schedules: false, debounceMs });
  const publishedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  orchestrator.on((event) => {
    if (event.type === 'version-published') publishedAt.set(event.version.table, event.at);
    if (event.type === 'run-started') startedAt.set(event.run.task, event.at);
  });
  await orchestrator.start();
  try {
    // Starting may catch up on links the baseline left stale; let that settle first.
    await orchestrator.whenIdle(600_000);
    publishedAt.clear();
    startedAt.clear();
    await orchestrator.enqueue({ task: 'ingest_t_0', trigger: 'manual' });
    await orchestrator.whenIdle(600_000);
  } finally {
    await orchestrator.stop();
  }
  const latencies: number[] = [];
  for (let index = 1; index <= CHAIN; index++) {
    const published = publishedAt.get(`ns.t_${index - 1}`);
    const started = startedAt.get(`build_t_${index}`);
    if (published === undefined || started === undefined)
      throw new Error(`bench: link ${index} of the chain did not run`);
    latencies.push(started - published);
  }
  return latencies;
}

async function writeChainRepo(repo: string, length: number): Promise<void> {
  const files: Record<string, string> = {
    'tessera.yaml': 'name: trigger-bench\n',
    'owners/bench.yaml': 'kind: owner\nname: bench\nmembers: [bench@example.org]\n',
    'schemas/ns.proto':
      'syntax = "proto3";\npackage ns;\nimport "tessera/options.proto";\n\n// A row.\nmessage Row {\n  string id = 1 [(tessera.field) = { primary_key: true }];\n  int64 value = 2;\n}\n',
    'data/t_0.csv': 'id,value\na,1\nb,2\nc,3\n',
  };
  const tables = ['kind: table\nname: ns.t_0\nowner: bench\nschema: schemas/ns.proto#ns.Row\n'];
  const tasks = [
    'kind: task\nname: ingest_t_0\ntype: ingestion\ntarget: ns.t_0\nsource: { type: csv, uri: data/t_0.csv }\n',
  ];
  for (let index = 1; index <= length; index++) {
    tables.push(`kind: table\nname: ns.t_${index}\nowner: bench\n`);
    tasks.push(
      `kind: task\nname: build_t_${index}\ntype: projection\ntarget: ns.t_${index}\nsql: select * from ns.t_${index - 1}\n`,
    );
  }
  files['tables/chain.yaml'] = tables.join('---\n');
  files['tasks/chain.yaml'] = tasks.join('---\n');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
