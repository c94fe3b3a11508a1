import { format } from 'node:util';
import { main } from '../../src/cli/main.ts';
import type { CliResult } from './cli.ts';

/**
 * Run `tessera` through `main()` in this process, capturing what it prints with `console`: the same
 * command tree and error reporting as the executable, without starting a process per call (each
 * start pays the TypeScript loader). `cwd` and `env` are applied for the call and restored after,
 * as `tessera()` gives them to its child process. Calls must not overlap. Help text (written by
 * commander to the process streams) is not captured. Keep `tessera()` where the process is the
 * point: exit codes of the executable, signals, start-up, several processes on one catalog.
 */
export async function tesseraInProcess(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, error } = console;
  const cwd = process.cwd();
  const savedEnv = Object.entries(options.env ?? {}).map(([name]) => [name, process.env[name]] as const);
  console.log = (...values: unknown[]) => void stdout.push(`${format(...values)}\n`);
  console.error = (...values: unknown[]) => void stderr.push(`${format(...values)}\n`);
  try {
    if (options.cwd !== undefined) process.chdir(options.cwd);
    for (const [name, value] of Object.entries(options.env ?? {})) process.env[name] = value;
    const code = await main(['node', 'tessera', ...args]);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    console.log = log;
    console.error = error;
    process.chdir(cwd);
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
