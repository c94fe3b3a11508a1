import type { CatalogStore, QueuedRun } from '../catalog/catalog-store.ts';
import { RunFailedError } from '../diagnostics/errors.ts';
import type { Definitions, Run, RunLogLine, TaskDef, Version } from '../model/index.ts';
import { RunCancelledError, runTask, type RunContext } from '../runner/index.ts';
import { AbortableEngine } from './abortable-engine.ts';
import { every, type Clock, type ClockTimer } from './clock.ts';
import { detachableStore } from './detachable-store.ts';
import { formatDuration } from './duration-text.ts';
import type { RunOwner } from './run-owner.ts';
import type { RunQueue } from './run-queue.ts';

/** How the dispatcher paces itself. */
export interface RunDispatcherOptions {
  /** Runs executing at once in this process. */
  concurrency: number;
  /** How often running runs are confirmed alive (and cancellation requests picked up). */
  heartbeatMs: number;
  /** How often the queue is looked at without a wake-up (runs queued by other processes). */
  pollMs: number;
  /** The time and the timers: backoff, due runs, polls, heartbeats, timeouts, the stop's grace period. */
  clock: Clock;
}

/** What the dispatcher tells its orchestrator. */
export interface RunDispatcherHooks {
  /** A run was claimed and is about to start (`at`: `performance.now()`). */
  onStarted(entry: QueuedRun, at: number): void;
  /**
   * A run published a version (`at`: `performance.now()` right after the publication committed).
   * Awaited before the run is recorded as succeeded, so what it enqueues is pending before the run ends.
   */
  onPublished(entry: QueuedRun, version: Version, at: number): Promise<void>;
  /** A run ended for good: succeeded, cancelled, or failed with no attempt left. */
  onFinished(entry: QueuedRun, run: Run): Promise<void>;
  /** Server log (one line, no trailing newline). */
  log(message: string): void;
}

interface Execution {
  entry: QueuedRun;
  controller: AbortController;
  /** Set once the version is published: from then on nothing may abort the run. */
  published: boolean;
  cancelRequested: boolean;
  /** Given back to the queue at shutdown: its outcome is no longer ours to record. */
  abandoned: boolean;
  done: Promise<void>;
}

/**
 * Claims runnable runs from the queue and executes them, at most `concurrency` at once: heartbeats,
 * timeouts, cancellation, retries with exponential backoff (a retry is a new attempt of the same run
 * id, so publication stays exactly-once), and a clean stop.
 */
export class RunDispatcher {
  private readonly executions = new Map<string, Execution>();
  /** Tasks with an execution here, until its outcome is settled (retry queued, downstream handled). */
  private readonly busyTasks = new Set<string>();
  private accepting = false;
  private pumping = false;
  private pumpAgain = false;
  private dueTimer?: ClockTimer;
  private stopPolling?: () => void;
  private stopHeartbeats?: () => void;

  constructor(
    private readonly queue: RunQueue,
    private readonly owner: RunOwner,
    private readonly context: RunContext,
    private readonly definitions: Definitions,
    private readonly logStore: Pick<CatalogStore, 'appendRunLog'>,
    private readonly hooks: RunDispatcherHooks,
    private readonly options: RunDispatcherOptions,
  ) {}

  /** Runs executing (or settling) in this process. */
  get inFlight(): number {
    return this.executions.size;
  }

  /** Start claiming: at once, at every wake-up and poll, and when a waiting run becomes due. */
  start(): void {
    this.accepting = true;
    const { clock } = this.options;
    this.stopPolling = every(clock, this.options.pollMs, () => this.wake());
    this.stopHeartbeats = every(clock, this.options.heartbeatMs, () => void this.beat());
    this.wake();
  }

  /** Look at the queue now (coalesced: a wake during a pass causes one more pass). */
  wake(): void {
    if (!this.accepting) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  /**
   * Stop claiming, let running runs finish for up to `graceMs`, then give the rest back to the queue
   * (same attempt) for the next start. Returns the ids given back. With `awaitReleased`, also waits
   * until their work in this process has unwound (its current engine statement ended), so another
   * orchestrator in this process can run them; without it the caller must exit the process.
   */
  async stop(graceMs: number, awaitReleased: boolean): Promise<string[]> {
    this.accepting = false;
    const { clock } = this.options;
    this.stopPolling?.();
    clock.clearTimeout(this.dueTimer);
    let timer: ClockTimer | undefined;
    const grace = new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, graceMs)));
    await Promise.race([
      Promise.allSettled([...this.executions.values()].map((execution) => execution.done)),
      grace,
    ]);
    clock.clearTimeout(timer);
    const released: string[] = [];
    const unwinding = [...this.executions.values()];
    for (const execution of unwinding) {
      // From here on the execution can neither publish nor write its run (see `detachableStore`),
      // and it stops at its next statement.
      execution.abandoned = true;
      const { run } = execution.entry;
      execution.controller.abort(
        new RunFailedError('the server stopped; the run was requeued', { task: run.task, runId: run.id }),
      );
      if (await this.queue.release(run.id, this.owner.id).catch(() => false)) {
        released.push(run.id);
        await this.appendLog(
          run.id,
          'warn',
          `the server stopped before the run ended; requeued for the next start`,
        );
        this.hooks.log(
          `run ${run.id} of ${run.task} requeued: still running after the ${formatDuration(graceMs)} grace period`,
        );
      }
    }
    this.stopHeartbeats?.();
    if (awaitReleased) await Promise.allSettled(unwinding.map((execution) => execution.done));
    return released;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.accepting && this.executions.size < this.options.concurrency) {
          const { claimed, nextDueAt } = await this.queue.claimNext(this.owner.id, {
            busyTasks: this.busyTasks,
            now: new Date(this.options.clock.now()),
          });
          this.scheduleDue(nextDueAt);
          if (!claimed) break;
          this.execute(claimed);
        }
      } while (this.pumpAgain && this.accepting);
    } catch (error) {
      // A busy or unreachable catalog: the next poll tries again.
      this.hooks.log(`cannot claim runs: ${errorMessage(error)}`);
    } finally {
      this.pumping = false;
    }
  }

  private scheduleDue(nextDueAt: number | undefined): void {
    const { clock } = this.options;
    clock.clearTimeout(this.dueTimer);
    if (nextDueAt === undefined || !this.accepting) return;
    this.dueTimer = clock.setTimeout(() => this.wake(), Math.max(0, nextDueAt - clock.now()) + 1);
  }

  private execute(entry: QueuedRun): void {
    const execution: Execution = {
      entry,
      controller: new AbortController(),
      published: false,
      cancelRequested: false,
      abandoned: false,
      done: Promise.resolve(),
    };
    this.executions.set(entry.run.id, execution);
    this.busyTasks.add(entry.run.task);
    this.hooks.onStarted(entry, performance.now());
    execution.done = this.runAndSettle(execution)
      .catch((error: unknown) =>
        this.hooks.log(`run ${entry.run.id} of ${entry.run.task}: ${errorMessage(error)}`),
      )
      .finally(() => {
        this.executions.delete(entry.run.id);
        this.busyTasks.delete(entry.run.task);
        this.wake();
      });
  }

  private async runAndSettle(execution: Execution): Promise<void> {
    const { entry, controller } = execution;
    const { run } = entry;
    const task = this.definitions.tasks.find((candidate) => candidate.name === run.task);
    const timer =
      task?.timeoutMs !== undefined
        ? this.options.clock.setTimeout(() => void this.timeOut(execution, task), task.timeoutMs)
        : undefined;
    let result: Run;
    try {
      const context: RunContext = {
        ...this.context,
        store: detachableStore(this.context.store, () => execution.abandoned),
        engine: new AbortableEngine(this.context.engine, controller.signal, () => !execution.published),
      };
      result = await runTask(context, run.task, {
        runId: run.id,
        attempt: run.attempt,
        trigger: run.trigger,
        signal: controller.signal,
        willRetryOnFailure: task !== undefined && run.attempt < task.retries.attempts,
        onPublished: async (version) => {
          execution.published = true;
          if (!execution.abandoned) await this.hooks.onPublished(entry, version, performance.now());
        },
      });
    } catch (error) {
      // The runner throws only when it cannot even start (e.g. the task is no longer defined).
      const message = errorMessage(error);
      if (!execution.abandoned) await this.queue.fail(run.id, this.owner.id, message);
      result = { ...run, status: 'failed', error: message, finishedAt: this.now().toISOString() };
    } finally {
      this.options.clock.clearTimeout(timer);
    }
    if (execution.abandoned) return;

    if (
      result.status === 'failed' &&
      task &&
      !execution.cancelRequested &&
      run.attempt < task.retries.attempts
    ) {
      const delayMs = task.retries.backoffMs * 2 ** (run.attempt - 1);
      const decidedAt = this.now();
      const next = {
        attempt: run.attempt + 1,
        notBefore: new Date(decidedAt.getTime() + delayMs),
        error: result.error ?? 'failed',
      };
      if (await this.queue.retry(run.id, this.owner.id, next)) {
        const message = `attempt ${run.attempt} of ${task.retries.attempts} failed; attempt ${next.attempt} in ${formatDuration(delayMs)}`;
        await this.appendLog(run.id, 'warn', message, decidedAt);
        this.hooks.log(`run ${run.id} of ${run.task}: ${message}: ${result.error ?? ''}`);
        return;
      }
    }
    await this.queue.complete(run.id, this.owner.id);
    await this.hooks.onFinished(entry, result);
  }

  private async timeOut(execution: Execution, task: TaskDef): Promise<void> {
    if (execution.published) return;
    const { run } = execution.entry;
    const message = `timed out after ${formatDuration(task.timeoutMs ?? 0)}`;
    execution.controller.abort(
      new RunFailedError(message, { task: task.name, runId: run.id, table: task.target }),
    );
    await this.appendLog(
      run.id,
      'error',
      `${message}: stopping at the next statement (a statement already running in the engine finishes first) and discarding its output`,
    );
    // On the last attempt, say so at once rather than when the engine's current statement returns.
    if (run.attempt >= task.retries.attempts) await this.queue.fail(run.id, this.owner.id, message);
  }

  private now(): Date {
    return new Date(this.options.clock.now());
  }

  private async beat(): Promise<void> {
    const ids = [...this.executions.values()]
      .filter((execution) => !execution.abandoned)
      .map((execution) => execution.entry.run.id);
    if (ids.length === 0) return;
    try {
      const { cancelRequested, leaseLost } = await this.queue.heartbeat(this.owner.id, ids);
      for (const id of leaseLost) {
        const execution = this.executions.get(id);
        if (!execution || execution.published || execution.controller.signal.aborted) continue;
        const { run } = execution.entry;
        // Heartbeats failed for longer than the lease lasts, and another process took the task:
        // stop before publishing rather than run the task twice at once.
        execution.controller.abort(
          new RunFailedError(
            `run ${id} lost the lease of task ${run.task} (not renewed in time; another process took it over); stopped before publishing`,
            { task: run.task, runId: id },
          ),
        );
        this.hooks.log(`run ${id} of ${run.task}: lost the task lease; stopping`);
      }
      for (const id of cancelRequested) {
        const execution = this.executions.get(id);
        if (!execution || execution.cancelRequested || execution.published) continue;
        execution.cancelRequested = true;
        execution.controller.abort(
          new RunCancelledError(
            `cancelled by request while running (attempt ${execution.entry.run.attempt})`,
          ),
        );
        this.hooks.log(`run ${id} of ${execution.entry.run.task}: cancellation requested; stopping`);
      }
    } catch (error) {
      this.hooks.log(`heartbeat failed: ${errorMessage(error)}`);
    }
  }

  private async appendLog(
    runId: string,
    level: RunLogLine['level'],
    message: string,
    at = this.now(),
  ): Promise<void> {
    await this.logStore
      .appendRunLog([{ runId, at: at.toISOString(), level, message }])
      .catch((error: unknown) =>
        this.hooks.log(`cannot write the log of run ${runId}: ${errorMessage(error)}`),
      );
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
