import type { CatalogStore, QueuedRun } from '../catalog/catalog-store.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Run, Version } from '../model/index.ts';
import type { Clock } from './clock.ts';
import type { PausedTasks } from './paused-tasks.ts';
import type { RunQueue } from './run-queue.ts';

/** How many waves' skip decisions are remembered (older waves have long ended). */
const REMEMBERED_WAVES = 1000;

/** What the trigger loop needs from its orchestrator. */
export interface TriggerLoopHooks {
  /** Something was queued: look at the queue. */
  wake(): void;
  log(message: string): void;
}

/**
 * Publication → downstream, with no timers between tasks: when a run publishes, every task that
 * reads its table is enqueued at once, in the run's wave, merged into that task's queued run if it
 * has one, and due after a short debounce window (a burst of publishes within it makes one run).
 * When a run fails for good or is cancelled, everything downstream is skipped with the reason, and
 * later triggers of those tasks in the same wave are dropped: a diamond whose one branch failed does
 * not run its join on half-new inputs.
 */
export class TriggerLoop {
  /** Wave → tasks skipped in it. Insertion-ordered, so the oldest waves are forgotten first. */
  private readonly skippedInWave = new Map<string, Set<string>>();

  constructor(
    private readonly graph: TaskGraph,
    private readonly queue: RunQueue,
    private readonly logStore: Pick<CatalogStore, 'appendRunLog'>,
    private readonly pausedTasks: PausedTasks,
    private readonly hooks: TriggerLoopHooks,
    private readonly debounceMs: number,
    private readonly clock: Clock,
  ) {}

  /** `entry` published `version`: enqueue the tasks that read it. Awaited before the run is recorded as ended. */
  async onPublished(entry: QueuedRun, version: Version): Promise<void> {
    if (!entry.queue.downstream) return;
    const wave = entry.queue.wave ?? entry.run.id;
    const trigger = `upstream:${version.table}@${version.version}`;
    const notBefore = this.debounceMs > 0 ? new Date(this.clock.now() + this.debounceMs) : undefined;
    for (const task of this.graph.consumersOf(version.table)) {
      if (this.pausedTasks.isPaused(task)) {
        this.hooks.log(`not triggering ${task} on ${trigger}: the task is paused`);
        continue;
      }
      if (this.skippedInWave.get(wave)?.has(task)) continue;
      const { queued, created } = await this.queue.enqueue({
        task,
        trigger,
        notBefore,
        wave,
        downstream: true,
      });
      if (!created) {
        await this.logStore.appendRunLog([
          {
            runId: queued.run.id,
            at: new Date(this.clock.now()).toISOString(),
            level: 'info',
            message: `also triggered by ${trigger}`,
          },
        ]);
      }
    }
    this.hooks.wake();
  }

  /** `run` ended for good. A failure or cancellation skips everything downstream of it. */
  async onFinished(entry: QueuedRun, run: Run): Promise<void> {
    if ((run.status !== 'failed' && run.status !== 'cancelled') || !entry.queue.downstream) return;
    const downstream = this.graph.downstreamTasks(run.task);
    if (downstream.length === 0) return;
    const wave = entry.queue.wave ?? run.id;
    this.rememberSkipped(wave, downstream);
    const what = run.status === 'failed' ? 'failed' : 'was cancelled';
    const cause = run.error ? `: ${run.error.split('\n')[0]}` : '';
    const reason = `skipped: upstream task ${run.task} ${what} (run ${run.id})${cause}`;
    const trigger = `upstream:${this.graph.targetOf(run.task) ?? run.task}`;
    for (const task of downstream) {
      if (this.pausedTasks.isPaused(task)) continue;
      await this.queue.skip(task, reason, { trigger, wave });
    }
    this.hooks.log(`${run.task} ${what}; skipped downstream: ${downstream.join(', ')}`);
    this.hooks.wake();
  }

  private rememberSkipped(wave: string, tasks: string[]): void {
    const skipped = this.skippedInWave.get(wave) ?? new Set<string>();
    for (const task of tasks) skipped.add(task);
    this.skippedInWave.delete(wave);
    this.skippedInWave.set(wave, skipped);
    while (this.skippedInWave.size > REMEMBERED_WAVES) {
      this.skippedInWave.delete(this.skippedInWave.keys().next().value!);
    }
  }
}
