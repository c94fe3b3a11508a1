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
    .option('--as <principal>', 'run as this principal (default: the local administrator, in dev mode)')
    .option('--format <format>', 'table | csv | json', 'table')
    .action(async (sql: string, flags: { as?: string; format: string }, command: Command) => {
      const options = globalOptions(command);
      const format = (options.json ? 'json' : flags.format) as OutputFormat;
      if (!FORMATS.includes(format))
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${flags.format}`);
      await withPlatform(options, async (platform) => {
        const result = await platform.query(sql, { principal: flags.as });
        console.log(formatRows(result, format));
      });
    });
}
