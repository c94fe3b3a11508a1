// CLI start-up: `tessera --help` and `tessera --repo <demo> tables` (the healthcare demo with 1,000
// patients, applied and run once in a temp folder), each against a bare `node -e 0`, as child
// processes. Runs are interleaved (baseline, help, tables, …) so machine noise hits all three alike;
// the figures are medians. Target: ≤ 3× bare node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './timing.ts';

const REPEATS = 11;
const TARGET = 3;
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tessera.js');

/** Wall-clock seconds of one child process, from spawn to exit. */
function timeProcess(args: string[]): number {
  const start = performance.now();
  execFileSync(process.execPath, args, { stdio: 'ignore' });
  return (performance.now() - start) / 1000;
}

export default async function (): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-cli-startup-bench-'));
  try {
    const repo = join(directory, 'demo');
    execFileSync(process.execPath, [bin, 'demo', '--dir', repo, '--rows', '1000'], { stdio: 'ignore' });
    const runs = {
      'node -e 0': [] as number[],
      'tessera --help': [] as number[],
      'tessera tables': [] as number[],
    };
    for (let i = 0; i < REPEATS; i++) {
      runs['node -e 0'].push(timeProcess(['-e', '0']));
      runs['tessera --help'].push(timeProcess([bin, '--help']));
      runs['tessera tables'].push(timeProcess([bin, '--repo', repo, 'tables']));
    }
    const baseline = median(runs['node -e 0']);
    console.log(`input: the healthcare demo (1,000 patients); ${REPEATS} interleaved runs, medians`);
    console.log(`node -e 0        ${(baseline * 1000).toFixed(0)} ms (baseline)`);
    for (const name of ['tessera --help', 'tessera tables'] as const) {
      const seconds = median(runs[name]);
      const ratio = seconds / baseline;
      console.log(
        `${name.padEnd(16)} ${(seconds * 1000).toFixed(0)} ms = ${ratio.toFixed(1)}× bare node (target ≤ ${TARGET}×) ${ratio <= TARGET ? 'ok' : 'SLOWER'}`,
      );
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
