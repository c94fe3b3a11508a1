import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics/errors.ts';
import type { Run, RunStatus } from '../model/index.ts';
import {
  globalOptions,
  positiveIntegerFlag,
  print,
  warnAboutHashKey,
  withCatalog,
  withPlatform,
} from './cli-context.ts';
import { textTable } from './output-format.ts';
import { runOrQueue } from './orchestration-commands.ts';

interface RunFlags {
  all?: boolean;
  downstream: boolean;
  wait?: boolean;
}

const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'];

/** `run`, `runs`, `logs`. */
export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run tasks now and wait; downstream tasks follow unless --no-downstream')
    .argument('[tasks...]', 'task names')
    .option('--all', 'run every task')
    .option('--no-downstream', 'do not run the tasks that read what these publish')
    .option('--wait', 'with `tessera serve` running: wait for the queued runs to end')
    .action(async (tasks: string[], flags: RunFlags, command: Command) => {
      const options = globalOptions(command);
      if (tasks.length === 0 && !flags.all) {
        throw new UsageError('name at least one task, or pass --all');
      }
      const selection = { tasks, all: flags.all, downstream: flags.downstream };
      await withPlatform(options, async (platform) => {
        warnAboutHashKey(platform);
        await runOrQueue(platform, options, selection, flags.wait ?? false, 'warn');
      });
    });

  program
    .command('runs')
    .description('run history, newest first')
    .option('--task <task>', 'only this task')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(RUN_STATUSES))
    .option('--limit <n>', 'at most this many', '50')
    .action(async (flags: { task?: string; status?: Run['status']; limit: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = positiveIntegerFlag('--limit', flags.limit);
      await withCatalog(options, async (catalog) => {
        const runs = await catalog.runs({ task: flags.task, status: flags.status, limit });
        print(options, runs, () => formatRuns(runs));
      });
    });

  program
    .command('logs')
    .description("a run's log")
    .argument('<run>', 'run id')
    .action(async (runId: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const lines = await catalog.runLog(runId);
        print(options, lines, () =>
          lines.map((line) => `${line.at} ${line.level.padEnd(5)} ${line.message}`).join('\n'),
        );
      });
    });
}

/**
 * A run that ended failed or cancelled. A skipped run is not one: it either had nothing new to do, or
 * was skipped because of an upstream run that is itself in the list.
 */
export function endedBadly(run: Run): boolean {
  return run.status === 'failed' || run.status === 'cancelled';
}

export function formatRuns(runs: Run[]): string {
  if (runs.length === 0) return 'no runs';
  const table = textTable(
    ['run', 'task', 'status', 'trigger', 'published', 'rows', 'duration'],
    runs.map((run) => [
      run.id,
      run.task,
      run.status,
      run.trigger,
      run.published ? `${run.published.table}@${run.published.version}` : '',
      run.rowsWritten === undefined ? '' : String(run.rowsWritten),
      run.startedAt && run.finishedAt
        ? `${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(2)}s`
        : '',
    ]),
  );
  const failures = runs.filter((run) => run.error).map((run) => `${run.task} (${run.status}): ${run.error}`);
  return failures.length === 0 ? table : `${table}\n\n${failures.join('\n')}`;
}
