import { Cron } from 'croner';
import type { CatalogStore } from '../catalog/catalog-store.ts';
import type { Definitions, TaskDef } from '../model/index.ts';
import type { Clock, ClockTimer } from './clock.ts';
import { formatDuration } from './duration-text.ts';
import type { PausedTasks } from './paused-tasks.ts';
import { fingerprintSource, isWatchableUri } from './source-fingerprint.ts';

/** What the clock needs from its orchestrator. */
export interface ScheduleClockHooks {
  /** Enqueue a run of `task` (in a new wave). */
  fire(task: TaskDef, trigger: 'schedule' | 'source_change' | 'stream'): Promise<void>;
  log(message: string): void;
}

/**
 * The only clock in the platform: it starts ingestion tasks (the roots of the graph) on their
 * `schedule`. Everything downstream runs on publication, never on a timer.
 *
 * - cron (macros arrive expanded): evaluated in UTC; ticks missed while the server was down are not
 *   replayed (Airflow's `catchup=False`).
 * - `every`: due one interval after the task's last run was queued (across restarts too), at once if
 *   it never ran; runs are never closer than the interval.
 * - `source_change`: polls the files `source.uri` matches (resolved against the repo root; an
 *   `s3://` uri's objects, listed in the bucket) and fires when their fingerprint (paths, sizes,
 *   mtimes; keys and ETags) differs from the one recorded when it last fired.
 *   The fingerprint is kept in the catalog, so the first poll after a start fires if the files
 *   changed while the server was down, or if the task was never fired by a server; no matching
 *   file never fires (the run could only fail).
 * - `stream` (nats, kafka): a run at start; the orchestrator queues the next one whenever a run of
 *   the task ends, so the task reads batch after batch (each run waits up to `batch.max_wait`).
 * Paused tasks are skipped; a `source_change` change seen while paused fires after `resume`.
 * Every time is read from, and every wait armed on, the given `Clock`.
 */
export class ScheduleClock {
  private readonly timers = new Set<ClockTimer>();
  private stopped = false;

  constructor(
    private readonly definitions: Definitions,
    private readonly store: CatalogStore,
    private readonly pausedTasks: PausedTasks,
    private readonly hooks: ScheduleClockHooks,
    private readonly clock: Clock,
  ) {}

  /** Arm every schedule; resolves after the first `source_change` polls (which may fire). */
  async start(): Promise<void> {
    const firstPolls: Promise<void>[] = [];
    for (const task of this.definitions.tasks) {
      const schedule = task.schedule;
      if (!schedule || task.type !== 'ingestion') continue;
      if (schedule.kind === 'cron') {
        this.armCron(task, new Cron(schedule.expression, { timezone: 'UTC' }));
      } else if (schedule.kind === 'every') {
        await this.armEvery(task, schedule.intervalMs);
      } else if (schedule.kind === 'stream') {
        // The first batch now; the orchestrator queues each next one when a run ends (`streamRunEnded`).
        await this.fire(task, 'stream');
      } else {
        firstPolls.push(this.watchSource(task, schedule.pollMs));
      }
    }
    await Promise.all(firstPolls);
  }

  /** Disarm every schedule; nothing fires afterwards. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  /** Fire on each tick of `cron` from now on; a tick that passes while a fire is enqueuing is skipped. */
  private armCron(task: TaskDef, cron: Cron): void {
    const armNext = (): void => {
      const next = cron.nextRun(new Date(this.clock.now()));
      if (!next) return;
      this.after(next.getTime() - this.clock.now(), async () => {
        await this.fire(task, 'schedule');
        armNext();
      });
    };
    armNext();
  }

  private async armEvery(task: TaskDef, intervalMs: number): Promise<void> {
    const [last] = await this.store.listRuns({ task: task.name, limit: 1 });
    const dueAt = last ? Date.parse(last.queuedAt) + intervalMs : this.clock.now();
    // Each run is due one interval after the previous one was queued, as across a restart: runs are
    // never closer than the interval, and ticks missed while asleep are not fired in a burst.
    const tick = async (): Promise<void> => {
      await this.fire(task, 'schedule');
      this.after(intervalMs, tick);
    };
    this.after(dueAt - this.clock.now(), tick);
  }

  private async watchSource(task: TaskDef, pollMs: number): Promise<void> {
    const uri = task.source?.uri;
    if (!isWatchableUri(uri)) {
      this.hooks.log(
        `task ${task.name}: \`on: source_change\` needs local files or s3:// objects, but the source ${uri ? `uri is ${uri}` : 'has no uri'}; it is not watched`,
      );
      return;
    }
    let seen = (await this.store.getTaskState(task.name))?.sourceFingerprint;
    const poll = async (): Promise<void> => {
      try {
        if (!this.pausedTasks.isPaused(task.name)) {
          const { project } = this.definitions;
          const { files, fingerprint } = await fingerprintSource(project.root, uri, project.s3);
          if (files.length > 0 && fingerprint !== seen) {
            await this.fire(task, 'source_change');
            await this.store.updateTaskState(task.name, { sourceFingerprint: fingerprint });
            seen = fingerprint;
          }
        }
      } catch (error) {
        this.hooks.log(
          `task ${task.name}: cannot poll ${uri}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    };
    await poll();
    const loop = async (): Promise<void> => {
      await poll();
      this.after(pollMs, loop);
    };
    this.after(pollMs, loop);
    this.hooks.log(`watching ${uri} for ${task.name} every ${formatDuration(pollMs)}`);
  }

  private async fire(task: TaskDef, trigger: 'schedule' | 'source_change' | 'stream'): Promise<void> {
    if (this.stopped || this.pausedTasks.isPaused(task.name)) return;
    try {
      await this.hooks.fire(task, trigger);
    } catch (error) {
      this.hooks.log(
        `task ${task.name}: cannot enqueue a ${trigger} run: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private after(delayMs: number, callback: () => Promise<void>): void {
    if (this.stopped) return;
    const timer = this.clock.setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopped) void callback();
      },
      Math.max(0, delayMs),
    );
    this.timers.add(timer);
  }
}
