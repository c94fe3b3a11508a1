import { Command, CommanderError, Option } from 'commander';
import { TesseraError } from '../diagnostics/errors.ts';
import { registerCatalogCommands } from './catalog-commands.ts';
import { registerDefinitionCommands } from './definition-commands.ts';
import { registerRunCommands } from './run-commands.ts';
import { registerQueryCommands } from './query-commands.ts';
import { registerDemoCommands } from './demo-commands.ts';
import { registerOrchestrationCommands } from './orchestration-commands.ts';
import { registerGovernanceCommands } from './governance-commands.ts';

/** Build the `tessera` command tree. */
export function buildProgram(): Command {
  const program = new Command('tessera')
    .description(
      'Config-as-code data platform: a Git repo of definitions becomes a governed, versioned catalog.',
    )
    .addOption(new Option('--repo <dir>', 'the catalog repo (default: the current directory)'))
    .addOption(new Option('--json', 'machine-readable output'))
    .showHelpAfterError()
    .exitOverride();
  registerDefinitionCommands(program);
  registerRunCommands(program);
  registerQueryCommands(program);
  registerCatalogCommands(program);
  registerDemoCommands(program);
  registerOrchestrationCommands(program);
  registerGovernanceCommands(program);
  return program;
}

/** Run the CLI; returns the exit code: 0 success, 1 the work failed, 2 bad usage or invalid definitions. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Commands report failure through process.exitCode; read and clear it so main() can run in-process.
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof TesseraError) {
      console.error(`error: ${error.message}`);
      return error.exitCode;
    }
    console.error(error);
    return 1;
  } finally {
    process.exitCode = undefined;
  }
}
