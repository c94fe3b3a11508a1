// The HTTP API's cost over the governed read path: the same three analyst queries (masks + row
// filter) run in-process through `Platform.query` and through `POST /api/v1/query` (JSON, fetch on
// loopback), each by 8 concurrent clients. Prints throughput and p95 latency for both, and the
// ratio: what the protocol (HTTP, JSON encoding and parsing, the token check) adds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../src/platform.ts';
import { startHttpApi } from '../src/server/http/index.ts';
import { median } from './timing.ts';

const PATIENTS = 20_000;
const CLIENTS = 8;
/** Queries per client per pass. */
const PER_CLIENT = 10;
/**
 * Measured passes each way, interleaved (who goes first alternates), after one warm-up pass: on a
 * shared machine the load moves within a minute, so neither side should always run in a quieter one.
 */
const ROUNDS = 6;
const ANALYST = 'bob@example.org';

const QUERIES: Record<string, string> = {
  'aggregation by state': `select state, gender, count(*) as patients, min(birth_date) as oldest
from clinical.patients group by all order by all`,
  'join patients ⋈ encounters': `select p.state, e.encounter_class, count(*) as encounters, round(sum(e.total_cost), 2) as cost
from clinical.patients p join clinical.encounters e on e.patient_id = p.patient_id
group by all order by all`,
  'selective scan, masked columns': `select patient_id, ssn, birth_date, zip, email, state
from clinical.patients where patient_id between 'P000100' and 'P000600' order by patient_id`,
};

export default async function httpQueryBench(): Promise<void> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-http-bench-'));
  const env = { ...process.env, TESSERA_MODE: 'production', TESSERA_HASH_KEY: 'http-bench-key' };
  await Platform.writeExample(repo, PATIENTS);
  const platform = await Platform.open({ repo, env });
  await platform.apply();
  const failed = (await platform.run({ tasks: [], all: true }, undefined, { writeConsole: () => {} })).filter(
    (run) => run.status !== 'succeeded',
  );
  if (failed.length > 0) throw new Error(`example runs failed: ${failed.map((run) => run.error).join('; ')}`);
  const { token } = await platform.tokens.create(ANALYST);
  const handle = await platform.serve({ concurrency: 1, debounceMs: 10, writeConsole: () => {} });
  const server = await startHttpApi(handle, { host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${server.port}/api/v1/query`;
  try {
    for (const [label, sql] of Object.entries(QUERIES)) {
      const inProcess = async () => (await handle.platform.query(sql, { token, limit: 10_000 })).rows.length;
      const overHttp = async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sql, format: 'json', limit: 10_000 }),
        });
        if (response.status !== 200)
          throw new Error(`${label}: HTTP ${response.status} ${await response.text()}`);
        return ((await response.json()) as { rows: unknown[] }).rows.length;
      };
      const [rowsIn, rowsHttp] = [await inProcess(), await overHttp()];
      if (rowsIn !== rowsHttp) throw new Error(`${label}: ${rowsIn} rows in-process, ${rowsHttp} over HTTP`);
      await load(inProcess);
      await load(overHttp);
      const local: Pass[] = [];
      const http: Pass[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) {
          local.push(await load(inProcess));
          http.push(await load(overHttp));
        } else {
          http.push(await load(overHttp));
          local.push(await load(inProcess));
        }
      }
      const [localRate, httpRate] = [
        median(local.map((pass) => pass.perSecond)),
        median(http.map((pass) => pass.perSecond)),
      ];
      const [localP95, httpP95] = [
        p95(local.flatMap((pass) => pass.latencies)),
        p95(http.flatMap((pass) => pass.latencies)),
      ];
      console.log(
        `http query (${label}, ${rowsIn} rows, ${CLIENTS} clients × ${PER_CLIENT} × ${ROUNDS} rounds): ` +
          `in-process ${localRate.toFixed(0)} q/s p95 ${localP95.toFixed(1)} ms; ` +
          `HTTP ${httpRate.toFixed(0)} q/s p95 ${httpP95.toFixed(1)} ms; ` +
          `throughput ratio ${(localRate / httpRate).toFixed(2)}x, p95 ratio ${(httpP95 / localP95).toFixed(2)}x`,
      );
    }
  } finally {
    await server.close();
    await handle.stop(1000);
    await rm(repo, { recursive: true, force: true });
  }
}

interface Pass {
  perSecond: number;
  latencies: number[];
}

/** `CLIENTS` loops of `PER_CLIENT` calls each: queries per second and every latency in ms. */
async function load(call: () => Promise<number>): Promise<Pass> {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let index = 0; index < PER_CLIENT; index++) {
        const begun = performance.now();
        await call();
        latencies.push(performance.now() - begun);
      }
    }),
  );
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), latencies };
}

function p95(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.95) - 1]!;
}
