import { format } from 'node:util';
import { main } from '../../src/cli/main.ts';
import type { CliResult } from './cli.ts';

/**
 * Run `tessera` through `main()` in this process, capturing what it prints with `console`: the same
 * command tree and error reporting as the executable, without starting a process per call. Calls
 * must not overlap. Help text (written by commander to the process streams) is not captured.
 */
export async function tesseraInProcess(args: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, error } = console;
  console.log = (...values: unknown[]) => void stdout.push(`${format(...values)}\n`);
  console.error = (...values: unknown[]) => void stderr.push(`${format(...values)}\n`);
  try {
    const code = await main(['node', 'tessera', ...args]);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    console.log = log;
    console.error = error;
  }
}
