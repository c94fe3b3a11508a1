import type { CatalogStore, EnqueueOutcome, QueuedRun } from '../catalog/catalog-store.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Definitions, Run, RunLogLine, Version } from '../model/index.ts';
import type { RunContext } from '../runner/index.ts';
import { CatalogRunQueue } from './catalog-run-queue.ts';
import { every, SYSTEM_CLOCK, type Clock } from './clock.ts';
import { formatDuration } from './duration-text.ts';
import { PausedTasks } from './paused-tasks.ts';
import { RunDispatcher } from './run-dispatcher.ts';
import { newRunOwner, ownerMayBeAlive, type RunOwner } from './run-owner.ts';
import type { RunQueue, RunRequest } from './run-queue.ts';
import { ScheduleClock } from './schedule-clock.ts';
import { findStaleTasks } from './stale-tasks.ts';
import { TriggerLoop } from './trigger-loop.ts';

/** What the orchestrator needs from the platform (`Platform` provides it). */
export interface OrchestratorHost {
  readonly definitions: Definitions;
  readonly graph: TaskGraph;
  readonly store: CatalogStore;
  runContext(onLog?: (line: RunLogLine) => void): Promise<RunContext>;
}

/** Tuning; every field has a default that suits `tessera serve`. */
export interface OrchestratorOptions {
  /** Runs executing at once (the same task never runs twice at once). Default: 2. */
  concurrency?: number;
  /** How long a triggered run waits for more triggers to merge into it. Default: 10 ms. */
  debounceMs?: number;
  /** How often running runs are confirmed alive and cancellations picked up. Default: 1000 ms. */
  heartbeatMs?: number;
  /** A running run whose owner has not confirmed it for this long is presumed dead and requeued. Default: 30 s. */
  staleAfterMs?: number;
  /** How often the queue, pauses and other processes' requests are looked at. Default: 250 ms. */
  pollMs?: number;
  /** Arm the ingestion tasks' schedules. Default: true. */
  schedules?: boolean;
  /**
   * Claim and execute queued runs. Default: true. `tessera serve` under `orchestrator: workers`
   * passes false: it queues (schedules, catch-up, recovery) and `tessera worker` processes execute.
   */
  execute?: boolean;
  /**
   * Queue a stream task's next batch when its run ends here. Default: `schedules`. A worker has no
   * schedules but passes true: it is where the stream's runs end.
   */
  continueStreams?: boolean;
  /** The run queue. Default: a `CatalogRunQueue` on the host's store. */
  queue?: RunQueue;
  /** Server log lines. Default: none. */
  log?: (message: string) => void;
  /**
   * The time and every timer: debounce, backoff, schedules, polls, heartbeats, timeouts, grace.
   * Default: `SYSTEM_CLOCK`. Tests pass a clock they advance by hand.
   */
  clock?: Clock;
}

/** What happened, for services that watch (UI, SLA monitor) and for measurements. */
export type OrchestratorEvent =
  /** `at`: `performance.now()` when the run was claimed. */
  | { type: 'run-started'; run: Run; at: number }
  /** `at`: `performance.now()` right after the publication committed. */
  | { type: 'version-published'; run: Run; version: Version; at: number }
  | { type: 'run-finished'; run: Run };

/** A long-running part of `tessera serve` (HTTP API, UI, Git sync, SLA monitor) started and stopped with it. */
export interface OrchestratorService {
  readonly name: string;
  /** Called once the orchestrator runs; a throw aborts the start. */
  start(orchestrator: Orchestrator): Promise<void>;
  /** Called first when the orchestrator stops, in reverse order of start. */
  stop(): Promise<void>;
}

/**
 * The scheduler, the trigger loop and the run queue's executor in one object with a start and a
 * stop: what `tessera serve` runs, and what other services attach to (`use`, `on`).
 *
 * Start: requeue runs whose process died, enqueue projections that have not read their upstream's
 * current versions, then claim runs and arm the ingestion schedules. Stop: no new work; running runs
 * get a grace period, and those still running after it go back to the queue for the next start.
 * Publication is one catalog transaction, so nothing is ever half-published.
 */
export class Orchestrator {
  /** This process's identity on the runs it claims (`host:pid:nonce`). */
  readonly owner: RunOwner = newRunOwner();
  /** The run queue it executes (and that `enqueue` writes to). */
  readonly queue: RunQueue;
  private readonly paused: PausedTasks;
  private readonly listeners = new Set<(event: OrchestratorEvent) => void>();
  private readonly services: OrchestratorService[] = [];
  private readonly startedServices: OrchestratorService[] = [];
  private readonly settings: Required<Omit<OrchestratorOptions, 'queue' | 'log' | 'clock'>>;
  private readonly clock: Clock;
  private dispatcher?: RunDispatcher;
  private triggers?: TriggerLoop;
  private schedules?: ScheduleClock;
  private stopMaintenance?: () => void;
  private lastRecovery = 0;
  /** A maintenance pass is running (passes never overlap). */
  private maintaining = false;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(
    private readonly host: OrchestratorHost,
    private readonly options: OrchestratorOptions = {},
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.queue =
      options.queue ??
      new CatalogRunQueue(host.store, host.graph, {
        leaseTtlMs: options.staleAfterMs ?? 30_000,
        clock: this.clock,
      });
    this.paused = new PausedTasks(host.store);
    this.settings = {
      concurrency: options.concurrency ?? 2,
      debounceMs: options.debounceMs ?? 10,
      heartbeatMs: options.heartbeatMs ?? 1000,
      staleAfterMs: options.staleAfterMs ?? 30_000,
      pollMs: options.pollMs ?? 250,
      schedules: options.schedules ?? true,
      execute: options.execute ?? true,
      continueStreams: options.continueStreams ?? options.schedules ?? true,
    };
    if (!Number.isInteger(this.settings.concurrency) || this.settings.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${this.settings.concurrency}`);
    }
  }

  /** Attach a service, started after the orchestrator and stopped before it. Call before `start`. */
  use(service: OrchestratorService): this {
    if (this.state !== 'new') throw new Error(`cannot add service ${service.name} to a started orchestrator`);
    this.services.push(service);
    return this;
  }

  /** Listen to events; returns the function that stops listening. */
  on(listener: (event: OrchestratorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start everything; if any part (or a service) fails to start, what started is stopped again. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('an orchestrator starts once');
    this.state = 'running';
    try {
      await this.startParts();
    } catch (error) {
      await this.stop(0);
      throw error;
    }
  }

  private async startParts(): Promise<void> {
    const { definitions, graph, store } = this.host;
    await this.paused.refresh();
    await this.recover();
    await this.cancelRunsOfUnknownTasks();

    this.triggers = new TriggerLoop(
      graph,
      this.queue,
      store,
      this.paused,
      {
        wake: () => this.dispatcher?.wake(),
        log: (message) => this.log(message),
      },
      this.settings.debounceMs,
      this.clock,
    );
    if (this.settings.execute) await this.startDispatcher();
    await this.catchUp();
    this.dispatcher?.start();
    if (this.settings.schedules) {
      this.schedules = new ScheduleClock(
        definitions,
        store,
        this.paused,
        {
          fire: async (task, trigger) => void (await this.enqueue({ task: task.name, trigger })),
          log: (message) => this.log(message),
        },
        this.clock,
      );
      await this.schedules.start();
    }
    this.stopMaintenance = every(this.clock, Math.max(this.settings.pollMs, 250), () => void this.maintain());
    for (const service of this.services) {
      await service.start(this);
      this.startedServices.push(service);
    }
    this.log(
      `orchestrator ${this.owner.id} started: ${definitions.tasks.length} tasks, ${this.settings.execute ? `concurrency ${this.settings.concurrency}` : 'runs executed by `tessera worker` processes'}`,
    );
  }

  private async startDispatcher(): Promise<void> {
    const { definitions, store } = this.host;
    this.dispatcher = new RunDispatcher(
      this.queue,
      this.owner,
      await this.host.runContext(),
      definitions,
      store,
      {
        onStarted: (entry, at) => this.runStarted(entry, at),
        onPublished: (entry, version, at) => this.versionPublished(entry, version, at),
        onFinished: (entry, run) => this.runFinished(entry, run),
        log: (message) => this.log(message),
      },
      {
        concurrency: this.settings.concurrency,
        heartbeatMs: this.settings.heartbeatMs,
        pollMs: this.settings.pollMs,
        clock: this.clock,
      },
    );
  }

  /**
   * Stop: services first, then schedules and claims; running runs get `graceMs` to finish, and those
   * still running are given back to the queue (same attempt) for the next start; from then on this
   * process neither publishes nor records them. Returns their ids. By default it then waits for their
   * work to unwind (the engine's current statement to end); with `exitAfter` it does not, and the
   * caller must exit the process (what `tessera serve` does).
   */
  async stop(graceMs = 30_000, options: { exitAfter?: boolean } = {}): Promise<string[]> {
    if (this.state !== 'running') return [];
    this.state = 'stopping';
    for (const service of this.startedServices.splice(0).reverse()) {
      await service
        .stop()
        .catch((error: unknown) => this.log(`service ${service.name} failed to stop: ${String(error)}`));
    }
    this.stopMaintenance?.();
    this.schedules?.stop();
    const released = (await this.dispatcher?.stop(graceMs, !options.exitAfter)) ?? [];
    this.state = 'stopped';
    this.log(`orchestrator stopped${released.length > 0 ? `; requeued ${released.join(', ')}` : ''}`);
    await this.reportLeftQueued();
    return released;
  }

  /** Runs still queued at stop stay queued in the catalog: say which, and what becomes of them. */
  private async reportLeftQueued(): Promise<void> {
    let queued: QueuedRun[];
    try {
      queued = (await this.queue.active()).filter((entry) => entry.run.status === 'queued');
    } catch (error) {
      this.log(`cannot list the runs left queued: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (queued.length === 0) return;
    const listed = queued
      .map(({ run, queue }) => {
        const due = queue.notBefore ? `, due ${queue.notBefore}` : '';
        return `${run.id} (${run.task}, ${run.trigger}, attempt ${run.attempt}${due})`;
      })
      .join(', ');
    this.log(
      `${queued.length} run${queued.length === 1 ? '' : 's'} left queued: ${listed}; ${this.settings.execute && this.settings.schedules ? 'they run when serve starts again' : 'any running `tessera worker` runs them'} ` +
        '(`tessera runs --status queued` lists them; `tessera run TASK` without a server supersedes them)',
    );
  }

  /** Queue a run (or merge it into the task's queued run) and look at the queue at once. */
  async enqueue(request: RunRequest): Promise<EnqueueOutcome> {
    const outcome = await this.queue.enqueue(request);
    this.dispatcher?.wake();
    return outcome;
  }

  /**
   * Resolves once nothing is queued or running (including runs waiting for a retry); rejects after
   * `timeoutMs` of wall-clock time (whatever the orchestrator's clock). For tests, benchmarks and
   * scripted use.
   */
  async whenIdle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((this.dispatcher?.inFlight ?? 0) === 0 && (await this.queue.active()).length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`the orchestrator was still busy after ${formatDuration(timeoutMs)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private runStarted(entry: QueuedRun, at: number): void {
    const { run } = entry;
    this.log(`run ${run.id} of ${run.task} started (attempt ${run.attempt}, trigger ${run.trigger})`);
    this.emit({ type: 'run-started', run, at });
  }

  private async versionPublished(entry: QueuedRun, version: Version, at: number): Promise<void> {
    this.emit({ type: 'version-published', run: entry.run, version, at });
    await this.triggers?.onPublished(entry, version);
  }

  private async runFinished(entry: QueuedRun, run: Run): Promise<void> {
    const published = run.published ? ` → ${run.published.table}@${run.published.version}` : '';
    const error = run.error ? `: ${run.error.split('\n')[0]}` : '';
    this.log(`run ${run.id} of ${run.task} ${run.status}${published}${error}`);
    this.emit({ type: 'run-finished', run });
    await this.triggers?.onFinished(entry, run);
    await this.streamRunEnded(run);
  }

  /**
   * A task on `{ on: stream }` reads continuously: when its run ends, the next is queued, at once
   * after a batch (published or nothing new: the run itself waited up to `batch.max_wait`), after
   * the task's retry backoff when it failed for good or was cancelled, so a message that fails every
   * run does not spin. `pause` stops the loop; `resume` or a restart starts it again.
   */
  private async streamRunEnded(run: Run): Promise<void> {
    const task = this.host.definitions.tasks.find((candidate) => candidate.name === run.task);
    if (task?.schedule?.kind !== 'stream' || this.state !== 'running' || !this.settings.continueStreams)
      return;
    if (this.paused.isPaused(task.name)) return;
    const ended = run.status === 'succeeded' || run.status === 'skipped';
    try {
      await this.enqueue({
        task: task.name,
        trigger: 'stream',
        ...(ended ? {} : { notBefore: new Date(this.clock.now() + task.retries.backoffMs) }),
      });
    } catch (error) {
      this.log(
        `task ${task.name}: cannot queue its next stream batch: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Requeue runs whose owner died: at start at once, then now and then (other hosts' workers). */
  private async recover(): Promise<void> {
    this.lastRecovery = this.clock.now();
    const { requeued, cancelled, failed } = await this.queue.recover({
      self: this.owner.id,
      ownerAlive: ownerMayBeAlive,
      staleBefore: new Date(this.clock.now() - this.settings.staleAfterMs),
    });
    for (const { run, deadOwner } of requeued) {
      this.log(`run ${run.id} of ${run.task} was running in ${deadOwner}, which died; queued again`);
    }
    for (const run of cancelled) this.log(`run ${run.id} of ${run.task}: ${run.error ?? 'cancelled'}`);
    for (const run of failed) this.log(`run ${run.id} of ${run.task} failed: ${run.error ?? ''}`);
    if (requeued.length > 0) this.dispatcher?.wake();
  }

  private async cancelRunsOfUnknownTasks(): Promise<void> {
    const known = new Set(this.host.definitions.tasks.map((task) => task.name));
    for (const { run } of await this.queue.active()) {
      if (run.status !== 'queued' || known.has(run.task)) continue;
      await this.queue.cancel(run.id, `cancelled: task ${run.task} is no longer defined`);
      this.log(`run ${run.id} cancelled: task ${run.task} is no longer defined`);
    }
  }

  /** Enqueue projections that have not read the current versions of their inputs. */
  private async catchUp(tasks?: string[]): Promise<void> {
    const { store, graph, definitions } = this.host;
    const stale = (await findStaleTasks(store, graph, definitions, tasks)).filter(
      ({ task }) => !this.paused.isPaused(task),
    );
    if (stale.length === 0) return;
    const wave = `catch-up-${this.owner.id}-${this.clock.now()}`;
    for (const { task, trigger } of stale) await this.queue.enqueue({ task, trigger, wave });
    this.log(`catching up: ${stale.map(({ task, trigger }) => `${task} (${trigger})`).join(', ')}`);
    this.dispatcher?.wake();
  }

  /** Periodic: pauses and resumes made by other processes, and runs of owners that went silent. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.state !== 'running') return;
    this.maintaining = true;
    try {
      const resumed = await this.paused.refresh();
      if (resumed.length > 0) {
        this.log(`resumed: ${resumed.join(', ')}`);
        await this.catchUp(resumed);
        for (const task of this.host.definitions.tasks) {
          if (task.schedule?.kind === 'stream' && resumed.includes(task.name) && this.settings.schedules) {
            await this.enqueue({ task: task.name, trigger: 'stream' });
          }
        }
      }
      if (this.clock.now() - this.lastRecovery >= this.settings.staleAfterMs / 2) await this.recover();
    } catch (error) {
      this.log(`maintenance failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.maintaining = false;
    }
  }

  private emit(event: OrchestratorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log(`an event listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}
