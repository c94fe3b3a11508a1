import { Option, type Command } from 'commander';
import { parseDuration } from '../definitions/duration-parser.ts';
import { UsageError } from '../diagnostics/errors.ts';
import type { RunSelection } from '../orchestrator/index.ts';
import type { ServerHandle } from '../platform.ts';
import type { Faces, FaceSettings } from '../server/index.ts';
import type { WatchGitSettings } from '../platform/git-sync-server.ts';
import { globalOptions, print, untilStopSignal, withPlatform, type GlobalOptions } from './cli-context.ts';
import { runOrQueue } from './run-commands.ts';

/** `serve`, `backfill`, `cancel`, `pause`, `resume`, `export airflow`. */
export function registerOrchestrationCommands(program: Command): void {
  program
    .command('serve')
    .description('run the scheduler, the trigger loop and the run queue until stopped (Ctrl-C)')
    .option('--concurrency <n>', 'runs at once (the same task never runs twice at once)', '2')
    .option('--debounce <duration>', 'how long a triggered run waits for more triggers to merge', '10ms')
    .option('--grace <duration>', 'on stop, how long running runs may finish before they are requeued', '30s')
    .option(
      '--watch-git <remote>',
      'follow REMOTE[#BRANCH] (the remote --repo was cloned from): apply each new head that validates and plans',
    )
    .option('--poll <duration>', 'with --watch-git: how often the branch is fetched', '30s')
    .option(
      '--webhook-port <port>',
      'with --watch-git: also answer POST /api/v1/hooks/git on a port of its own (the HTTP API answers it on --port)',
    )
    .option('--host <address>', 'where the HTTP API and the PostgreSQL port listen', '127.0.0.1')
    .option('--port <port>', 'the HTTP API and web UI (0 picks a free port)', '4000')
    .option('--pg-port <port>', 'the PostgreSQL wire protocol (0 turns it off)', '6432')
    .option('--pg-tls-cert <file>', 'PEM certificate for PostgreSQL clients (required beyond loopback)')
    .option('--pg-tls-key <file>', 'PEM private key of --pg-tls-cert')
    .action(
      async (
        flags: {
          concurrency: string;
          debounce: string;
          grace: string;
          watchGit?: string;
          poll: string;
          webhookPort?: string;
          host: string;
          port: string;
          pgPort: string;
          pgTlsCert?: string;
          pgTlsKey?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const concurrency = Number(flags.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) {
          throw new UsageError(`--concurrency must be a positive integer, got ${flags.concurrency}`);
        }
        if (flags.watchGit === undefined && flags.webhookPort !== undefined) {
          throw new UsageError(
            '--webhook-port needs --watch-git REMOTE[#BRANCH]: the webhook tells Git sync to fetch',
          );
        }
        const webhookPort =
          flags.webhookPort === undefined ? undefined : portFlag('--webhook-port', flags.webhookPort);
        if ((flags.pgTlsCert === undefined) !== (flags.pgTlsKey === undefined)) {
          throw new UsageError('--pg-tls-cert and --pg-tls-key go together: give both PEM files, or neither');
        }
        const faces: FaceSettings = {
          host: flags.host,
          port: portFlag('--port', flags.port),
          // SPEC §6: `--pg-port 0` turns the PostgreSQL port off (the HTTP port 0 picks a free one).
          ...(portFlag('--pg-port', flags.pgPort) === 0
            ? {}
            : { pgPort: portFlag('--pg-port', flags.pgPort) }),
          ...(flags.pgTlsCert !== undefined && flags.pgTlsKey !== undefined
            ? { pgTls: { certFile: flags.pgTlsCert, keyFile: flags.pgTlsKey } }
            : {}),
        };
        await serve(options, faces, {
          concurrency,
          debounceMs: durationFlag('--debounce', flags.debounce, true),
          graceMs: durationFlag('--grace', flags.grace, true),
          ...(flags.watchGit !== undefined
            ? {
                watchGit: {
                  source: flags.watchGit,
                  pollMs: durationFlag('--poll', flags.poll, false),
                  ...(webhookPort !== undefined ? { webhookPort } : {}),
                },
              }
            : {}),
        });
      },
    );

  program
    .command('backfill')
    .description('rerun a task and everything downstream of it')
    .argument('<task>', 'task name')
    .option('--wait', 'with a server running: wait until the runs end')
    .action(async (task: string, flags: { wait?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const selection: RunSelection = { tasks: [task], downstream: true, trigger: 'backfill' };
      await withPlatform(options, (platform) =>
        runOrQueue(platform, options, selection, flags.wait ?? false, 'not-info'),
      );
    });

  program
    .command('cancel')
    .description('cancel a queued run, or stop a running one before it publishes')
    .argument('<run>', 'run id')
    .action(async (runId: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const { outcome, run } = await platform.cancelRun(runId);
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
        const cancelled = await platform.pauseTask(task);
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
        await platform.resumeTask(task);
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
          const dags = await platform.exportAirflow(flags.out, {
            operator: flags.operator,
            image: flags.image,
            namespace: flags.namespace,
            repoPath: flags.repoPath,
            tesseraCommand: flags.tesseraCommand,
          });
          for (const dag of dags)
            for (const warning of dag.warnings) console.error(`warning: ${dag.dagId}: ${warning}`);
          const summary = dags.map(({ file, dagId, tasks, edges, schedule }) => ({
            file,
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

interface ServeSettings {
  concurrency: number;
  debounceMs: number;
  graceMs: number;
  watchGit?: WatchGitSettings;
}

/**
 * Run the orchestrator until SIGINT or SIGTERM, then stop cleanly: running runs get the grace
 * period, and what still runs after it is requeued for the next start. A second signal stops at once
 * (the runs left `running` are recovered by the next start, as after a crash).
 */
async function serve(
  options: GlobalOptions,
  faceSettings: FaceSettings,
  settings: ServeSettings,
): Promise<void> {
  const { Platform } = await import('../platform.ts');
  const { startFaces } = await import('../server/index.ts');
  const platform = await Platform.open({ repo: options.repo });
  const log = (message: string) => console.error(`${new Date().toISOString()} ${message}`);
  let server: ServerHandle;
  try {
    server = await platform.serve({
      concurrency: settings.concurrency,
      debounceMs: settings.debounceMs,
      log,
      ...(settings.watchGit ? { watchGit: settings.watchGit } : {}),
    });
  } catch (error) {
    await platform.close();
    throw error;
  }
  let faces: Faces;
  try {
    faces = await startFaces(server, { ...faceSettings, log });
  } catch (error) {
    await server.stop(0);
    throw error;
  }
  const signal = await untilStopSignal(() => {
    console.log(
      `serving ${platform.definitions.project.name} from ${options.repo} (pid ${process.pid}, concurrency ${settings.concurrency}); stop with Ctrl-C`,
    );
    for (const line of faces.addresses) console.log(line);
    if (settings.watchGit) {
      const hook = server.sync?.webhookPort;
      console.log(
        `following ${settings.watchGit.source}${hook !== undefined ? `; push webhook: POST http://127.0.0.1:${hook}/api/v1/hooks/git` : ''}`,
      );
    }
  });
  console.error(
    `${new Date().toISOString()} ${signal}: stopping; running runs may finish for ${settings.graceMs} ms`,
  );
  // New connections stop first; the platform closes after them.
  await faces.close();
  const { abandoned } = await server.stop(settings.graceMs);
  if (abandoned) process.exit(0);
}

function portFlag(flag: string, text: string): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`${flag} takes a port number (0-65535; 0 picks a free one), got ${text}`);
  }
  return port;
}

function durationFlag(flag: string, text: string, allowZero: boolean): number {
  const ms = text.trim() === '0' && allowZero ? 0 : parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} takes a duration like 10ms, 30s or 2m, got ${text}`);
  return ms;
}
