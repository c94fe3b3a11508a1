import type { Command } from 'commander';
import { UsageError } from '../diagnostics/errors.ts';
import { globalOptions, withPlatform } from './cli-context.ts';
import { formatRows, type OutputFormat } from './output-format.ts';

const FORMATS: OutputFormat[] = ['table', 'csv', 'json'];

/** `query`: governed SQL over the catalog. */
export function registerQueryCommands(program: Command): void {
  program
    .command('query')
    .description(
      'governed SQL over the catalog: SELECT/WITH over catalog tables, masked and filtered for the principal',
    )
    .argument('<sql>', 'the query')
    .option('--as <principal>', 'run as this declared principal (dev mode; default: the local administrator)')
    .option(
      '--token <token>',
      'run as the principal of this token (`tessera token create`); or set TESSERA_TOKEN, which keeps it out of the process list',
    )
    .option('--format <format>', 'table | csv | json', 'table')
    .action(async (sql: string, flags: { as?: string; token?: string; format: string }, command: Command) => {
      const options = globalOptions(command);
      const format = (options.json ? 'json' : flags.format) as OutputFormat;
      if (!FORMATS.includes(format))
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${flags.format}`);
      if (flags.as !== undefined && flags.token !== undefined) {
        throw new UsageError('give --as or --token, not both: a token names its principal');
      }
      await withPlatform(options, async (platform) => {
        const token =
          flags.token ?? (flags.as === undefined ? process.env.TESSERA_TOKEN || undefined : undefined);
        const result = await platform.query(sql, { principal: flags.as, token });
        console.log(formatRows(result, format));
      });
    });
}
