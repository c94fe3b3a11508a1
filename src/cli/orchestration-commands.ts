import { Option, type Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDuration } from '../definitions/duration-parser.ts';
import { FileAccessError, NotFoundError, UsageError } from '../diagnostics/errors.ts';
import type { RunSelection } from '../orchestrator/index.ts';
import type { Platform } from '../platform.ts';
import { globalOptions, print, withPlatform, type GlobalOptions } from './cli-context.ts';
import { endedBadly, formatRuns } from './run-commands.ts';

/** `serve`, `backfill`, `cancel`, `pause`, `resume`, `export airflow`. */
export function registerOrchestrationCommands(program: Command): void {
  program
    .command('serve')
    .description('run the scheduler, the trigger loop and the run queue until stopped (Ctrl-C)')
    .option('--concurrency <n>', 'runs at once (the same task never runs twice at once)', '2')
    .option('--debounce <duration>', 'how long a triggered run waits for more triggers to merge', '10ms')
    .option('--grace <duration>', 'on stop, how long running runs may finish before they are requeued', '30s')
    .action(async (flags: { concurrency: string; debounce: string; grace: string }, command: Command) => {
      const options = globalOptions(command);
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new UsageError(`--concurrency must be a positive integer, got ${flags.concurrency}`);
      }
      await serve(options, {
        concurrency,
        debounceMs: durationFlag('--debounce', flags.debounce, true),
        graceMs: durationFlag('--grace', flags.grace, true),
      });
    });

  program
    .command('backfill')
    .description('rerun a task and everything downstream of it')
    .argument('<task>', 'task name')
    .option('--wait', 'with a server running: wait until the runs end')
    .action(async (task: string, flags: { wait?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const selection: RunSelection = { tasks: [task], downstream: true, trigger: 'backfill' };
      if (await runThroughServer(options, selection, flags.wait ?? false)) return;
      await withPlatform(options, async (platform) => {
        const runs = await platform.run(selection, logEcho(options));
        print(options, runs, () => formatRuns(runs));
        if (runs.some(endedBadly)) process.exitCode = 1;
      });
    });

  program
    .command('cancel')
    .description('cancel a queued run, or stop a running one before it publishes')
    .argument('<run>', 'run id')
    .action(async (runId: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const { CatalogRunQueue } = await import('../orchestrator/catalog-run-queue.ts');
        const outcome = await new CatalogRunQueue(platform.store, platform.graph).cancel(
          runId,
          'cancelled by request',
        );
        if (outcome === 'not-found') {
          throw new NotFoundError(`run ${runId} not found; \`tessera runs\` lists the runs`);
        }
        const run = (await platform.store.getRun(runId))!;
        print(options, { outcome, run }, () => {
          if (outcome === 'cancelled') return `run ${runId} of ${run.task} cancelled`;
          if (outcome === 'requested') {
            return `run ${runId} of ${run.task} is running: asked its server to stop it before it publishes`;
          }
          return `run ${runId} of ${run.task} already ended (${run.status}); nothing to cancel`;
        });
      });
    });

  program
    .command('pause')
    .description('stop triggering and scheduling a task (persisted; runs asked for by name still run)')
    .argument('<task>', 'task name')
    .action(async (task: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const { pauseTask } = await loadOrchestrator();
        const cancelled = await pauseTask(platform.store, platform.definitions, task);
        print(options, { task, paused: true, cancelled }, () =>
          [
            `paused ${task}`,
            ...cancelled.map((run) => `cancelled queued run ${run.id} (${run.trigger})`),
          ].join('\n'),
        );
      });
    });

  program
    .command('resume')
    .description('trigger and schedule a paused task again (it catches up on what it missed)')
    .argument('<task>', 'task name')
    .action(async (task: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const { resumeTask } = await loadOrchestrator();
        await resumeTask(platform.store, platform.definitions, task);
        print(options, { task, paused: false }, () => `resumed ${task}`);
      });
    });

  const exporter = program.command('export').description('write the task graph for another orchestrator');
  exporter
    .command('airflow')
    .description('write one Airflow DAG file per connected part of the task graph')
    .requiredOption('--out <dir>', 'folder for the DAG files')
    .addOption(
      new Option('--operator <kind>', 'operator per task').choices(['bash', 'kubernetes']).default('bash'),
    )
    .option('--image <image>', 'container image with tessera and the repo (kubernetes)')
    .option('--namespace <namespace>', 'Kubernetes namespace of the pods (kubernetes)')
    .option('--repo-path <path>', 'where the catalog repo is when the tasks run (default: this repo)')
    .option('--tessera-command <command>', 'how the tasks call tessera', 'tessera')
    .action(
      async (
        flags: {
          out: string;
          operator: 'bash' | 'kubernetes';
          image?: string;
          namespace?: string;
          repoPath?: string;
          tesseraCommand: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (flags.operator === 'kubernetes' && !flags.image) {
          throw new UsageError(
            '--operator kubernetes needs --image (a container with tessera and the catalog repo)',
          );
        }
        await withPlatform(options, async (platform) => {
          const { exportAirflowDags } = await loadOrchestrator();
          const dags = exportAirflowDags(platform.definitions, platform.graph, {
            operator: flags.operator,
            image: flags.image,
            namespace: flags.namespace,
            repoPath: flags.repoPath,
            tesseraCommand: flags.tesseraCommand,
          });
          const out = resolve(flags.out);
          try {
            await mkdir(out, { recursive: true });
            for (const dag of dags) await writeFile(join(out, dag.fileName), dag.content);
          } catch (error) {
            throw new FileAccessError(
              `cannot write the DAG files to --out ${out}: ${(error as Error).message}; choose a folder you can write to`,
              { cause: error },
            );
          }
          for (const dag of dags)
            for (const warning of dag.warnings) console.error(`warning: ${dag.dagId}: ${warning}`);
          const summary = dags.map(({ fileName, dagId, tasks, edges, schedule }) => ({
            file: join(out, fileName),
            dagId,
            tasks,
            edges,
            schedule,
          }));
          print(options, summary, () =>
            summary
              .map((dag) => `${dag.file}: ${dag.tasks.length} task(s), schedule ${dag.schedule}`)
              .join('\n'),
          );
        });
      },
    );
}

/**
 * With a server running on the repo, queue the selection through the catalog instead of running it
 * here, and with `wait` poll the runs until they end. Returns false (nothing done) when no server runs.
 */
export async function runThroughServer(
  options: GlobalOptions,
  selection: RunSelection,
  wait: boolean,
): Promise<boolean> {
  const { findRunningServer, enqueueSelection, waitForRuns } = await loadOrchestrator();
  const server = await findRunningServer(options.repo);
  if (!server) return false;
  const { CatalogRunQueue } = await import('../orchestrator/catalog-run-queue.ts');
  await withPlatform(options, async (platform) => {
    await requireApplied(platform);
    const queue = new CatalogRunQueue(platform.store, platform.graph);
    const queued = await enqueueSelection(queue, platform.definitions, platform.graph, selection);
    if (!wait) {
      const runs = queued.map((entry) => entry.run);
      print(options, runs, () =>
        [`queued on the server (pid ${server.pid}); follow with \`tessera runs\`:`, formatRuns(runs)].join(
          '\n',
        ),
      );
      return;
    }
    if (!options.json)
      console.error(`queued ${queued.length} run(s) on the server (pid ${server.pid}); waiting`);
    const runs = await waitForRuns(
      platform.store,
      platform.definitions,
      queued.map((entry) => entry.run.id),
      {
        onChange: (run) => {
          if (!options.json)
            console.error(
              `  ${run.task}: ${run.status}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}`,
            );
        },
      },
    );
    print(options, runs, () => formatRuns(runs));
    if (runs.some(endedBadly)) process.exitCode = 1;
  });
  return true;
}

interface ServeSettings {
  concurrency: number;
  debounceMs: number;
  graceMs: number;
}

/**
 * Run the orchestrator until SIGINT or SIGTERM, then stop cleanly: running runs get the grace
 * period, and what still runs after it is requeued for the next start. A second signal stops at once
 * (the runs left `running` are recovered by the next start, as after a crash).
 */
async function serve(options: GlobalOptions, settings: ServeSettings): Promise<void> {
  const { findRunningServer, Orchestrator, ServerFileService } = await loadOrchestrator();
  const running = await findRunningServer(options.repo);
  if (running) {
    throw new UsageError(
      `a server is already running on ${options.repo} (pid ${running.pid}, since ${running.startedAt}); stop it first`,
    );
  }
  const { Platform } = await import('../platform.ts');
  const platform = await Platform.open({ repo: options.repo });
  let released: string[] = [];
  try {
    await requireApplied(platform);
    const orchestrator = new Orchestrator(platform, {
      concurrency: settings.concurrency,
      debounceMs: settings.debounceMs,
      log: (message) => console.error(`${new Date().toISOString()} ${message}`),
    });
    orchestrator.use(new ServerFileService(options.repo));
    const stopSignal = new Promise<NodeJS.Signals>((resolveSignal) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        process.once('SIGINT', () => process.exit(130));
        process.once('SIGTERM', () => process.exit(143));
        resolveSignal(signal);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    await orchestrator.start();
    console.log(
      `serving ${platform.definitions.project.name} from ${options.repo} (pid ${process.pid}, concurrency ${settings.concurrency}); stop with Ctrl-C`,
    );
    const signal = await stopSignal;
    console.error(
      `${new Date().toISOString()} ${signal}: stopping; running runs may finish for ${settings.graceMs} ms`,
    );
    released = await orchestrator.stop(settings.graceMs, { exitAfter: true });
  } finally {
    if (released.length === 0) await platform.close();
  }
  if (released.length > 0) {
    // The engine may still be inside a statement of a requeued run: leave without waiting for it.
    await platform.store.close().catch(() => {});
    process.exit(0);
  }
}

/** The orchestrator's modules, loaded when a command needs them rather than at CLI start-up. */
function loadOrchestrator(): Promise<typeof import('../orchestrator/index.ts')> {
  return import('../orchestrator/index.ts');
}

/** Like `tessera run`: no work against a catalog that disagrees with the repo. */
async function requireApplied(platform: Platform): Promise<void> {
  if (!(await platform.plan()).isEmpty) {
    throw new UsageError(
      'the catalog repo has changes that are not applied yet; review them with `tessera plan` and register them with `tessera apply`',
    );
  }
}

function durationFlag(flag: string, text: string, allowZero: boolean): number {
  const ms = text.trim() === '0' && allowZero ? 0 : parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} takes a duration like 10ms, 30s or 2m, got ${text}`);
  return ms;
}

function logEcho(options: GlobalOptions): ((line: { level: string; message: string }) => void) | undefined {
  return options.json
    ? undefined
    : (line) => {
        if (line.level !== 'info') console.error(`  ${line.level}: ${line.message}`);
      };
}
