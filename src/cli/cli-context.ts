import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { UsageError } from '../diagnostics/errors.ts';
import type { Platform } from '../platform.ts';
import type { CatalogBrowser } from '../platform/catalog-browser.ts';

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
  mode: { reading?: boolean } = {},
): Promise<T> {
  // Loaded on demand: `--help` and usage errors never pay for the platform's modules (DuckDB, Kysely…).
  const { Platform } = await import('../platform.ts');
  const platform = mode.reading
    ? await Platform.openForReading({ repo: options.repo })
    : await Platform.open({ repo: options.repo });
  if (platform.workingTreeError) console.error(workingTreeWarning(platform.workingTreeError));
  try {
    return await work(platform);
  } finally {
    await platform.close();
  }
}

/**
 * Open the catalog alone for a read-only command (`tables`, `show`, `runs`…) and always close it:
 * only `tessera.yaml` is read for settings, so these start fast and answer while the repo has
 * errors elsewhere; a definition file that does not parse as YAML is named in one warning line.
 */
export async function withCatalog<T>(
  options: GlobalOptions,
  work: (catalog: CatalogBrowser) => Promise<T>,
): Promise<T> {
  const { CatalogBrowser } = await import('../platform/catalog-browser.ts');
  const syntaxError = CatalogBrowser.firstSyntaxError({ repo: options.repo }).catch(() => undefined);
  const catalog = await CatalogBrowser.open({ repo: options.repo });
  const problem = await syntaxError;
  if (problem) console.error(workingTreeWarning(problem));
  try {
    return await work(catalog);
  } finally {
    await catalog.close();
  }
}

/**
 * The one line a reading command prints (on stderr) when it answers from the catalog as last
 * applied because the working tree has errors: the first of them, and where to see them all.
 */
export function workingTreeWarning(first: Diagnostic): string {
  return `warning: the catalog repo has errors, so this answers from the definitions as last applied; the first: ${formatDiagnostic(first)} (\`tessera validate\` lists them all)`;
}

/** Dev mode's warnings about an unset `governance.hash_key` (the variable it names, or the setting itself). */
const HASH_KEY_WARNINGS = new Set(['missing-hash-key', 'missing-env']);

/**
 * On stderr (stdout stays machine-readable): the warning that `governance.hash_key` should be set,
 * when dev mode hashes with the catalog's generated key instead. One line; the key is never shown.
 */
export function warnAboutHashKey(platform: Platform): void {
  for (const diagnostic of platform.diagnostics) {
    if (diagnostic.severity === 'warning' && HASH_KEY_WARNINGS.has(diagnostic.code)) {
      console.error(formatDiagnostic(diagnostic));
    }
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

/**
 * Waits for Ctrl-C or SIGTERM, for the long-running commands (`serve`, `worker`): `announce` runs
 * once the handlers are in place, so a signal sent right after the announcement is never missed.
 * A second signal exits at once (130 for SIGINT, 143 for SIGTERM) instead of waiting for the grace.
 */
export function untilStopSignal(announce: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (received: NodeJS.Signals): void => {
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolveSignal(received);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    announce();
  });
}
