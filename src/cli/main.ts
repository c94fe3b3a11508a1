import { Command, CommanderError, Option } from 'commander';
import { formatError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import { registerCatalogCommands } from './catalog-commands.ts';
import { registerDefinitionCommands } from './definition-commands.ts';
import { registerRunCommands } from './run-commands.ts';
import { registerQueryCommands } from './query-commands.ts';
import { registerDemoCommands } from './demo-commands.ts';
import { registerOrchestrationCommands } from './orchestration-commands.ts';
import { registerGovernanceCommands } from './governance-commands.ts';
import { registerMonitoringCommands } from './monitoring-commands.ts';
import { registerSyncCommands } from './sync-commands.ts';
import { registerSchemaCommands } from './schema-commands.ts';
import { registerImportCommands } from './import-commands.ts';
import { registerWorkerCommands } from './worker-commands.ts';

/** Build the `tessera` command tree. */
export function buildProgram(): Command {
  const program = new Command('tessera')
    .description(
      'Config-as-code data platform: a Git repo of definitions becomes a governed, versioned catalog.',
    )
    .addOption(new Option('--repo <dir>', 'the catalog repo (default: the current directory)'))
    .addOption(new Option('--json', 'machine-readable output'))
    // Usage errors are reported by main() like every other error: one line, or JSON with --json.
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerDefinitionCommands(program);
  registerRunCommands(program);
  registerQueryCommands(program);
  registerCatalogCommands(program);
  registerDemoCommands(program);
  registerOrchestrationCommands(program);
  registerGovernanceCommands(program);
  registerMonitoringCommands(program);
  registerSyncCommands(program);
  registerSchemaCommands(program);
  registerImportCommands(program);
  registerWorkerCommands(program);
  return program;
}

/**
 * Run the CLI; returns the exit code: 0 success, 1 the work failed, 2 bad usage or invalid definitions.
 * Every failure is reported as `error[CODE]: message` on stderr, or `{"error": {"code", "message"}}`
 * on stdout with `--json`; a stack trace only with TESSERA_DEBUG=1.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Commands report failure through process.exitCode; read and clear it so main() can run in-process.
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const json = program.opts<{ json?: boolean }>().json === true || argv.slice(2).includes('--json');
    return report(userFacingError(error), error, json);
  } finally {
    process.exitCode = undefined;
  }
}

/** What the user is told: a Tessera error as it is; commander's usage errors as `usage`; anything else is a bug. */
function userFacingError(error: unknown): TesseraError | undefined {
  if (error instanceof TesseraError) return error;
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return undefined;
    // Help already printed to stderr: `tessera` or `tessera token` without a subcommand.
    if (error.code === 'commander.help') {
      return new UsageError('name a command; `tessera --help` lists them');
    }
    const message = error.message
      .replace(/^error: /, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' ')
      .replace(/\.$/, '');
    return new UsageError(`${message}; see \`tessera --help\``);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TesseraError(
    `${oneLine(message)} (an unexpected error, a bug in Tessera; TESSERA_DEBUG=1 prints its stack trace)`,
    { code: 'internal', cause: error },
  );
}

function report(error: TesseraError | undefined, original: unknown, json: boolean): number {
  if (!error) return 0;
  if (process.env.TESSERA_DEBUG === '1') console.error(original);
  if (json) {
    console.log(JSON.stringify({ error: { code: error.code, message: error.message } }, null, 2));
  } else {
    console.error(formatError(error));
  }
  return error.exitCode;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
