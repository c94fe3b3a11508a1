// Timing helpers shared by the benchmarks (not itself a benchmark: bench/run.ts runs *.bench.ts).

export interface Timing {
  /** Wall-clock seconds. */
  wall: number;
  /** CPU seconds of every thread in the process (DuckDB's included): steadier than wall time on a shared machine. */
  cpu: number;
}

/** Run `work` once and time it. */
export async function measure(work: () => Promise<unknown>): Promise<Timing> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await work();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
