import type { Command } from 'commander';
import { UsageError } from '../diagnostics/errors.ts';
import { globalOptions, untilStopSignal } from './cli-context.ts';
import { parseDuration } from '../definitions/duration-parser.ts';

/** `tessera worker`: execute runs from the catalog's queue (`orchestrator: workers`). */
export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'execute queued runs from the PostgreSQL catalog (orchestrator: workers) until stopped; start any number, on any machine',
    )
    .option('--concurrency <n>', 'runs at once in this worker (the same task never runs twice at once)', '2')
    .option(
      '--grace <duration>',
      'on SIGTERM, how long running runs may finish before they are requeued',
      '30s',
    )
    .action(async (flags: { concurrency: string; grace: string }, command: Command) => {
      const options = globalOptions(command);
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new UsageError(`--concurrency must be a positive integer, got ${flags.concurrency}`);
      }
      const graceMs = flags.grace.trim() === '0' ? 0 : parseDuration(flags.grace);
      if (graceMs === undefined)
        throw new UsageError(`--grace takes a duration like 30s or 2m, got ${flags.grace}`);
      const { Platform } = await import('../platform.ts');
      const platform = await Platform.open({ repo: options.repo });
      const log = (message: string) => console.error(`${new Date().toISOString()} ${message}`);
      let worker;
      try {
        worker = await platform.work({ concurrency, log });
      } catch (error) {
        await platform.close();
        throw error;
      }
      const signal = await untilStopSignal(() =>
        console.log(
          `worker ${worker.owner} for ${platform.definitions.project.name} (pid ${process.pid}, concurrency ${concurrency}); stop with Ctrl-C or SIGTERM`,
        ),
      );
      log(`${signal}: stopping; running runs may finish for ${graceMs} ms, then go back to the queue`);
      const { abandoned } = await worker.stop(graceMs);
      if (abandoned) process.exit(0);
    });
}
