import { Option, type Command } from 'commander';
import { UsageError } from '../diagnostics/errors.ts';
import type { Run, RunLogLine, RunStatus } from '../model/index.ts';
import type { RunSelection } from '../orchestrator/index.ts';
import type { Platform, RollbackOutcome } from '../platform.ts';
import {
  globalOptions,
  type GlobalOptions,
  positiveIntegerFlag,
  print,
  warnAboutHashKey,
  withCatalog,
  withPlatform,
} from './cli-context.ts';
import { textTable } from './output-format.ts';

interface RunFlags {
  all?: boolean;
  select?: string[];
  exclude?: string[];
  downstream: boolean;
  wait?: boolean;
  fullRefresh?: boolean;
}

const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'];

/** `run`, `rollback`, `runs`, `logs`. */
export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run tasks now and wait; downstream tasks follow unless --no-downstream')
    .argument('[tasks...]', 'task names')
    .option('--all', 'run every task')
    .option(
      '-s, --select <selectors...>',
      'run exactly these (dbt syntax): names, globs (clinical.*), tag:NAME, owner:NAME; +x adds upstream, x+ downstream',
    )
    .option('--exclude <selectors...>', 'never run these (same syntax); alone: every task but these')
    .option('--no-downstream', 'do not run the tasks that read what the named tasks publish')
    .option('--wait', 'with `tessera serve` running: wait for the queued runs to end')
    .option(
      '--full-refresh',
      "forget the selected tasks' source cursors (object ETags, high-water marks, offsets) and read their sources whole",
    )
    .action(async (tasks: string[], flags: RunFlags, command: Command) => {
      const options = globalOptions(command);
      if (tasks.length === 0 && !flags.all && !flags.select && !flags.exclude) {
        throw new UsageError('name at least one task, or pass --all, --select or --exclude');
      }
      const selection: RunSelection = {
        tasks,
        all: flags.all,
        downstream: flags.downstream,
        ...(flags.select ? { select: flags.select } : {}),
        ...(flags.exclude ? { exclude: flags.exclude } : {}),
      };
      await withPlatform(options, async (platform) => {
        warnAboutHashKey(platform);
        await runOrQueue(platform, options, selection, flags.wait ?? false, 'warn', {
          fullRefresh: flags.fullRefresh ?? false,
        });
      });
    });

  program
    .command('rollback')
    .description(
      'make an earlier version of a table current again, as a new version listing its files (nothing copied, history kept); what reads the table runs next',
    )
    .argument('<table>', 'table name, e.g. clinical.patients')
    .requiredOption('--to <version>', 'the version to restore (`tessera versions TABLE` lists them)')
    .option('--wait', 'with `tessera serve` running: wait for the downstream runs it queues there')
    .action(async (table: string, flags: { to: string; wait?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const to = positiveIntegerFlag('--to', flags.to);
      await withPlatform(options, async (platform) => {
        const quiet = options.json;
        const outcome = await platform.rollback(table, to, {
          wait: flags.wait ?? false,
          onLog: quiet
            ? undefined
            : (line) => {
                if (line.level === 'warn') console.error(`  ${line.level}: ${line.message}`);
              },
          onQueued: (runs, server) => {
            if (flags.wait && !quiet)
              console.error(
                server.workers
                  ? `queued ${runs.length} run(s) for the workers (orchestrator: workers); waiting`
                  : `queued ${runs.length} run(s) on the server (pid ${server.pid}); waiting`,
              );
          },
        });
        print(options, outcome, () => formatRollback(table, to, outcome));
        const { downstream } = outcome;
        if (downstream.ended && downstream.runs.some(endedBadly)) process.exitCode = 1;
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

function formatRollback(table: string, to: number, outcome: RollbackOutcome): string {
  const { version, from, downstream } = outcome;
  const lines = [
    `rolled ${table} back to version ${to}: version ${version.version} (${version.rowCount} rows) lists its files; version ${from} stays in the history`,
  ];
  if (downstream.runs.length === 0) lines.push('nothing reads it: no run triggered');
  else if (downstream.server && !downstream.ended)
    lines.push(
      `queued on the server (pid ${downstream.server.pid}); follow with \`tessera runs\`:`,
      formatRuns(downstream.runs),
    );
  else
    lines.push(`triggered downstream (upstream:${table}@${version.version}):`, formatRuns(downstream.runs));
  return lines.join('\n');
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

/**
 * Run a selection here, or queue it on the repo's running server (which owns execution), and print
 * the runs; exit code 1 when one ended badly. `echo`: which log lines of local runs reach stderr.
 */
export async function runOrQueue(
  platform: Platform,
  options: GlobalOptions,
  selection: RunSelection,
  wait: boolean,
  echo: 'warn' | 'not-info',
  how: { fullRefresh?: boolean } = {},
): Promise<void> {
  const quiet = options.json;
  const outcome = await platform.runOrQueue(selection, {
    wait,
    ...(how.fullRefresh ? { fullRefresh: true } : {}),
    onLog: quiet
      ? undefined
      : (line: RunLogLine) => {
          if (echo === 'warn' ? line.level === 'warn' : line.level !== 'info') {
            console.error(`  ${line.level}: ${line.message}`);
          }
        },
    onQueued: (runs, server) => {
      if ((wait || server.workers) && !quiet)
        console.error(
          server.workers
            ? `queued ${runs.length} run(s) for the workers (orchestrator: workers); waiting`
            : `queued ${runs.length} run(s) on the server (pid ${server.pid}); waiting`,
        );
    },
    onRunChange: quiet
      ? undefined
      : (run) =>
          console.error(`  ${run.task}: ${run.status}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}`),
  });
  const { runs, server } = outcome;
  if (server && !outcome.ended) {
    print(options, runs, () =>
      [`queued on the server (pid ${server.pid}); follow with \`tessera runs\`:`, formatRuns(runs)].join(
        '\n',
      ),
    );
    return;
  }
  print(options, runs, () => formatRuns(runs));
  if (runs.some(endedBadly)) process.exitCode = 1;
}
