// CLI start-up: `tessera --help` and `tessera --repo <demo> tables` (the healthcare demo with 1,000
// patients, applied and run once in a temp folder), each against a bare `node -e 0`, as child
// processes. Runs are interleaved (baseline, help, tables, …) so machine noise hits all three alike;
// the figures are medians. Target: ≤ 3× bare node. With dist/ built (`npm run build`), the same two
// commands are also timed as the published package runs them: bin/ and dist/ without src/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './timing.ts';

const REPEATS = 11;
const TARGET = 3;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'tessera.js');

/** A package laid out as npm installs it (bin/, dist/, proto/, no src/), or undefined without dist/. */
function installedPackage(directory: string): string | undefined {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return undefined;
  const folder = join(directory, 'package');
  mkdirSync(join(folder, 'bin'), { recursive: true });
  copyFileSync(bin, join(folder, 'bin', 'tessera.js'));
  copyFileSync(join(root, 'package.json'), join(folder, 'package.json'));
  for (const name of ['dist', 'proto', 'node_modules']) symlinkSync(join(root, name), join(folder, name));
  return join(folder, 'bin', 'tessera.js');
}

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
    const compiled = installedPackage(directory);
    const commands: Record<string, string[]> = {
      'tessera --help': [bin, '--help'],
      'tessera tables': [bin, '--repo', repo, 'tables'],
      ...(compiled && {
        'dist --help': [compiled, '--help'],
        'dist tables': [compiled, '--repo', repo, 'tables'],
      }),
    };
    const runs: Record<string, number[]> = { 'node -e 0': [] };
    for (const name of Object.keys(commands)) runs[name] = [];
    for (let i = 0; i < REPEATS; i++) {
      runs['node -e 0']!.push(timeProcess(['-e', '0']));
      for (const [name, args] of Object.entries(commands)) runs[name]!.push(timeProcess(args));
    }
    const baseline = median(runs['node -e 0']!);
    console.log(`input: the healthcare demo (1,000 patients); ${REPEATS} interleaved runs, medians`);
    console.log(`node -e 0        ${(baseline * 1000).toFixed(0)} ms (baseline)`);
    if (!compiled) console.log('(no dist/: `npm run build` first to time the compiled package too)');
    for (const name of Object.keys(commands)) {
      const seconds = median(runs[name]!);
      const ratio = seconds / baseline;
      console.log(
        `${name.padEnd(16)} ${(seconds * 1000).toFixed(0)} ms = ${ratio.toFixed(1)}× bare node (target ≤ ${TARGET}×) ${ratio <= TARGET ? 'ok' : 'SLOWER'}`,
      );
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
