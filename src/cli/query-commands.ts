import type { Command } from 'commander';
import { DURATION_HINT, parseDuration } from '../definitions/duration-parser.ts';
import { UsageError } from '../diagnostics/errors.ts';
import { globalOptions, withPlatform } from './cli-context.ts';
import { formatRows, type OutputFormat } from './output-format.ts';

const FORMATS: OutputFormat[] = ['table', 'csv', 'json'];

interface QueryFlags {
  as?: string;
  token?: string;
  format: string;
  timeout?: string;
}

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
    .option(
      '--timeout <duration>',
      'stop the query after this long, e.g. 30s or 2m (default: governance.query_timeout, else 5m)',
    )
    .action(async (sql: string, flags: QueryFlags, command: Command) => {
      const options = globalOptions(command);
      const format = (options.json ? 'json' : flags.format) as OutputFormat;
      if (!FORMATS.includes(format))
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${flags.format}`);
      if (flags.as !== undefined && flags.token !== undefined) {
        throw new UsageError('give --as or --token, not both: a token names its principal');
      }
      const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout);
      if (flags.timeout !== undefined && !(timeoutMs !== undefined && timeoutMs > 0)) {
        throw new UsageError(`--timeout must be ${DURATION_HINT}, longer than zero; not ${flags.timeout}`);
      }
      await withPlatform(
        options,
        async (platform) => {
          const token =
            flags.token ?? (flags.as === undefined ? process.env.TESSERA_TOKEN || undefined : undefined);
          const result = await platform.query(sql, { principal: flags.as, token, timeoutMs });
          console.log(formatRows(result, format));
        },
        { reading: true },
      );
    });
}
