import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../diagnostics/errors.ts';
import { Platform } from '../platform.ts';

/** Global flags every command reads. */
export interface GlobalOptions {
  repo: string;
  json: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{ repo?: string; json?: boolean }>();
  return { repo: resolve(options.repo ?? process.cwd()), json: options.json ?? false };
}

/** Open the platform for a command and always close it, so the process can exit. */
export async function withPlatform<T>(
  options: GlobalOptions,
  work: (platform: Platform) => Promise<T>,
): Promise<T> {
  const platform = await Platform.open({ repo: options.repo });
  try {
    return await work(platform);
  } finally {
    await platform.close();
  }
}

/** Print data as JSON (for `--json`) or as text. */
export function print(options: GlobalOptions, data: unknown, text: () => string): void {
  console.log(options.json ? JSON.stringify(data, null, 2) : text());
}

/** A flag that takes a count (`--limit 50`): a positive whole number, or a usage error naming the flag. */
export function positiveIntegerFlag(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a positive whole number, not ${text}`);
  }
  return value;
}
