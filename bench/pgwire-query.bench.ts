// The PostgreSQL wire protocol's cost over the governed read path: the same parameterized queries
// (50 concurrent clients × 20 queries each, as the analyst: a mask and the row filter at work) run
// in-process through `Platform.query`, then through pgwire by 50 `pg` clients (extended protocol,
// Parse/Bind/Describe/Execute/Sync per query). Prints throughput, p95 latency and the ratio.
import pg from 'pg';
import { startPgServer } from '../src/server/pgwire/index.ts';
import { ANALYST, openServedExample } from '../test/support/served-example.ts';

const CLIENTS = 50;
const QUERIES_PER_CLIENT = 20;
const SQL =
  'SELECT patient_id, ssn FROM clinical.patients WHERE state = $1 AND healthcare_expenses >= $2 LIMIT 5';
const STATES = ['CA', 'NY', 'TX'];

function p95(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
}

/** Run `CLIENTS` workers of `QUERIES_PER_CLIENT` queries each; queries per second and each latency (ms). */
async function load(
  open: () => Promise<{ query(parameters: [string, number]): Promise<unknown>; close(): Promise<void> }>,
): Promise<{ perSecond: number; p95: number }> {
  const workers = await Promise.all(Array.from({ length: CLIENTS }, open));
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    workers.map(async (worker, clientIndex) => {
      for (let index = 0; index < QUERIES_PER_CLIENT; index += 1) {
        const began = performance.now();
        await worker.query([STATES[(clientIndex + index) % STATES.length]!, index]);
        latencies.push(performance.now() - began);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(workers.map((worker) => worker.close()));
  return { perSecond: (CLIENTS * QUERIES_PER_CLIENT) / seconds, p95: p95(latencies) };
}

export default async function pgwireQueryBench(): Promise<void> {
  const served = await openServedExample({ patients: 2000 });
  const server = await startPgServer(served.handle, { host: '127.0.0.1', port: 0, log: () => {} });
  try {
    const token = served.tokens.analyst;
    const inProcess = () =>
      Promise.resolve({
        query: (parameters: [string, number]) => served.handle.platform.query(SQL, { token, parameters }),
        close: async () => {},
      });
    const overWire = async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: ANALYST, password: token });
      await client.connect();
      return {
        query: (parameters: [string, number]) => client.query(SQL, parameters),
        close: () => client.end(),
      };
    };
    // Each path warms first: the guard keeps rewrites by SQL text, and parameters arrive from pg as
    // text ('3') where the in-process caller passes numbers (3), so their bound statements differ.
    await load(inProcess);
    const direct = await load(inProcess);
    await load(overWire);
    const wire = await load(overWire);
    const label = `${CLIENTS} clients × ${QUERIES_PER_CLIENT} parameterized queries`;
    console.log(
      `${label}, in process (Platform.query): ${direct.perSecond.toFixed(0)} q/s, p95 ${direct.p95.toFixed(1)} ms`,
    );
    console.log(
      `${label}, over pgwire (pg client):     ${wire.perSecond.toFixed(0)} q/s, p95 ${wire.p95.toFixed(1)} ms`,
    );
    console.log(
      `pgwire / in process: throughput ${(wire.perSecond / direct.perSecond).toFixed(2)}×, p95 latency ${(wire.p95 / direct.p95).toFixed(2)}×`,
    );
  } finally {
    await server.close();
    await served.close();
  }
}
