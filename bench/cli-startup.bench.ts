// CLI start-up: `tessera --help` and `tessera --repo <demo> tables` (the healthcare demo with 1,000
// patients, applied and run once in a temp folder), each against a bare `node -e 0`, as child
// processes. Runs are interleaved (baseline, help, tables, …) so machine noise hits all three alike;
// the figures are medians. Target: ≤ 3× bare node. With dist/ built (`npm run build`), the same two
// commands are also timed as the published package runs them: bin/ and dist/ without src/.
// Besides wall time, each process reports the CPU time it used (user + system, all its threads):
// on a shared machine that ratio moves far less with the load than wall time does.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

/** A module that, loaded with `--import`, prints the process's CPU time on stderr as it exits. */
function cpuReporter(directory: string): string {
  const path = join(directory, 'cpu-reporter.mjs');
  writeFileSync(
    path,
    "import { writeSync } from 'node:fs';\n" +
      "process.on('exit', () => { const { user, system } = process.cpuUsage(); writeSync(2, `\\ncpu-us ${user + system}\\n`); });\n",
  );
  return path;
}

/** Wall-clock and CPU seconds of one child process, from spawn to exit. */
function timeProcess(reporter: string, args: string[]): { wall: number; cpu: number } {
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', reporter, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const wall = (performance.now() - start) / 1000;
  const reported = /cpu-us (\d+)\s*$/.exec(child.stderr);
  if (child.status !== 0 || !reported) throw new Error(`${args.join(' ')} failed: ${child.stderr}`);
  return { wall, cpu: Number(reported[1]) / 1e6 };
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
    const reporter = cpuReporter(directory);
    const all = { 'node -e 0': ['-e', '0'], ...commands };
    const runs: Record<string, { wall: number; cpu: number }[]> = {};
    for (const name of Object.keys(all)) runs[name] = [];
    for (let i = 0; i < REPEATS; i++) {
      for (const [name, args] of Object.entries(all)) runs[name]!.push(timeProcess(reporter, args));
    }
    const wall = (name: string) => median(runs[name]!.map((run) => run.wall));
    const cpu = (name: string) => median(runs[name]!.map((run) => run.cpu));
    console.log(`input: the healthcare demo (1,000 patients); ${REPEATS} interleaved runs, medians`);
    console.log(
      `node -e 0        ${(wall('node -e 0') * 1000).toFixed(0)} ms wall, ${(cpu('node -e 0') * 1000).toFixed(0)} ms CPU (baseline)`,
    );
    if (!compiled) console.log('(no dist/: `npm run build` first to time the compiled package too)');
    for (const name of Object.keys(commands)) {
      const ratio = wall(name) / wall('node -e 0');
      const cpuRatio = cpu(name) / cpu('node -e 0');
      console.log(
        `${name.padEnd(16)} ${(wall(name) * 1000).toFixed(0)} ms = ${ratio.toFixed(1)}× bare node wall, ${cpuRatio.toFixed(1)}× CPU (target ≤ ${TARGET}×) ${ratio <= TARGET ? 'ok' : 'SLOWER'}`,
      );
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
