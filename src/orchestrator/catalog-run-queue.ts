import type { CatalogStore, EnqueueOutcome, QueuedRun } from '../catalog/catalog-store.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { MonitoringEvent, Run } from '../model/index.ts';
import { runOutcomeEvents } from '../notify/run-events.ts';
import { newRunId } from '../runner/index.ts';
import { SYSTEM_CLOCK, type Clock } from './clock.ts';
import { RunReadiness } from './run-readiness.ts';
import { TASK_LEASE_TTL_MS } from './task-lease.ts';
import type {
  CancelOutcome,
  ClaimResult,
  HeartbeatOutcome,
  RecoveredRuns,
  RunQueue,
  RunRequest,
} from './run-queue.ts';

/**
 * The run queue of `orchestrator: local`, kept in the catalog: a queued run is a `runs` row with
 * status `queued`, so the queue survives restarts and `tessera run` in another process can add to
 * it. Claims are atomic in the catalog (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory lock).
 */
export class CatalogRunQueue implements RunQueue {
  private readonly readiness: RunReadiness;
  private readonly leaseTtlMs: number;
  private readonly clock: Clock;

  /**
   * `leaseTtlMs`: how long a claim's task lease lasts unless renewed (default `TASK_LEASE_TTL_MS`).
   * `clock`: the time runs are queued, finished and leased at (default the system clock).
   */
  constructor(
    private readonly store: CatalogStore,
    graph: TaskGraph,
    options: { leaseTtlMs?: number; clock?: Clock } = {},
  ) {
    this.readiness = new RunReadiness(graph);
    this.leaseTtlMs = options.leaseTtlMs ?? TASK_LEASE_TTL_MS;
    this.clock = options.clock ?? SYSTEM_CLOCK;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async enqueue(request: RunRequest): Promise<EnqueueOutcome> {
    const now = this.now();
    const id = newRunId(now);
    const run: Run = {
      id,
      task: request.task,
      status: 'queued',
      attempt: 1,
      trigger: request.trigger,
      queuedAt: now.toISOString(),
    };
    return this.store.enqueueRun(run, {
      dedupeKey: request.dedupeKey === null ? undefined : (request.dedupeKey ?? request.task),
      notBefore: request.notBefore?.toISOString(),
      wave: request.wave ?? id,
      downstream: request.downstream ?? true,
    });
  }

  async claimNext(
    owner: string,
    options: { busyTasks?: ReadonlySet<string>; now?: Date } = {},
  ): Promise<ClaimResult> {
    let nextDueAt: number | undefined;
    // The claim takes the task's lease too: a task that `tessera run` (or another server) runs
    // now counts as running, so it is not claimed until its lease is released or lapses.
    const claimed = await this.store.claimRun(
      owner,
      (active, leasedTasks) => {
        const busy = new Set([...(options.busyTasks ?? []), ...leasedTasks]);
        const choice = this.readiness.choose(active, (options.now ?? this.now()).getTime(), busy);
        nextDueAt = choice.nextDueAt;
        return choice.runId;
      },
      { expiresAt: this.leaseExpiry() },
    );
    return { claimed, nextDueAt };
  }

  async heartbeat(owner: string, runIds: string[]): Promise<HeartbeatOutcome> {
    const held = new Set(await this.store.renewTaskLeases(owner, runIds, this.leaseExpiry()));
    return {
      cancelRequested: await this.store.heartbeatRuns(owner, runIds),
      leaseLost: runIds.filter((id) => !held.has(id)),
    };
  }

  private leaseExpiry(): string {
    return new Date(this.clock.now() + this.leaseTtlMs).toISOString();
  }

  async retry(
    runId: string,
    owner: string,
    next: { attempt: number; notBefore: Date; error: string },
  ): Promise<boolean> {
    const requeued = await this.store.requeueRun(
      runId,
      { attempt: next.attempt, notBefore: next.notBefore.toISOString(), error: next.error },
      owner,
    );
    await this.store.releaseTaskLease(runId, owner);
    return requeued;
  }

  async release(runId: string, owner?: string): Promise<boolean> {
    const entry = owner === undefined ? await this.store.getQueuedRun(runId) : undefined;
    const requeued = await this.store.requeueRun(runId, {}, owner);
    const holder = owner ?? entry?.queue.owner;
    if (holder !== undefined) await this.store.releaseTaskLease(runId, holder);
    return requeued;
  }

  async complete(runId: string, owner: string): Promise<void> {
    // The runner already recorded the outcome on the run's row, which is the queue entry itself.
    await this.store.releaseTaskLease(runId, owner);
  }

  async fail(runId: string, owner: string, error: string): Promise<void> {
    const entry = await this.store.getQueuedRun(runId);
    if (entry?.run.status !== 'running' || entry.queue.owner !== owner) return;
    const finishedAt = this.now().toISOString();
    await this.store.updateRun(
      runId,
      { status: 'failed', finishedAt, error },
      failureEvents(entry.run, error, finishedAt),
    );
  }

  async skip(task: string, reason: string, details: { trigger: string; wave?: string }): Promise<Run[]> {
    const skipped: Run[] = [];
    for (const { run } of await this.store.listActiveRuns()) {
      if (run.task !== task || run.status !== 'queued') continue;
      if (await this.store.finishQueuedRun(run.id, 'skipped', reason)) {
        skipped.push((await this.store.getRun(run.id)) ?? run);
      }
    }
    if (skipped.length > 0) return skipped;
    const now = this.now().toISOString();
    const run: Run = {
      id: newRunId(),
      task,
      status: 'skipped',
      attempt: 0,
      trigger: details.trigger,
      queuedAt: now,
      finishedAt: now,
      error: reason,
    };
    await this.store.createRun(run);
    return [run];
  }

  async cancel(runId: string, reason = 'cancelled by request'): Promise<CancelOutcome> {
    const entry = await this.store.getQueuedRun(runId);
    if (!entry) return 'not-found';
    if (entry.run.status === 'queued' && (await this.store.finishQueuedRun(runId, 'cancelled', reason))) {
      return 'cancelled';
    }
    // Not queued (or claimed a moment ago): ask whoever runs it.
    if (await this.store.requestRunCancel(runId)) return 'requested';
    return 'finished';
  }

  active(): Promise<QueuedRun[]> {
    return this.store.listActiveRuns();
  }

  async recover(options: {
    self: string;
    ownerAlive: (owner: string) => boolean;
    staleBefore: Date;
  }): Promise<RecoveredRuns> {
    const recovered: RecoveredRuns = { requeued: [], cancelled: [], failed: [] };
    const leases = new Map((await this.store.listTaskLeases()).map((lease) => [lease.runId, lease]));
    for (const { run, queue } of await this.store.listActiveRuns()) {
      const owner = queue.owner;
      if (run.status === 'running' && owner === undefined) {
        // Started outside the queue (`tessera run` with no server): judged by its task lease.
        const lease = leases.get(run.id);
        if (!lease || lease.owner === options.self) continue;
        const expired = Date.parse(lease.expiresAt) < this.clock.now();
        if (options.ownerAlive(lease.owner) && !expired) continue;
        const error = `the process running it (${lease.owner}) died before the run ended`;
        const finishedAt = this.now().toISOString();
        await this.store.updateRun(
          run.id,
          { status: 'failed', finishedAt, error },
          failureEvents(run, error, finishedAt),
        );
        await this.store.releaseTaskLease(run.id, lease.owner);
        recovered.failed.push({ ...run, status: 'failed', error });
        continue;
      }
      if (run.status !== 'running' || owner === undefined || owner === options.self) continue;
      const silent =
        queue.heartbeatAt !== undefined && Date.parse(queue.heartbeatAt) < options.staleBefore.getTime();
      if (options.ownerAlive(owner) && !silent) continue;
      const message = `the process running attempt ${run.attempt} (${owner}) died`;
      if (queue.cancelRequested) {
        const error = `cancelled by request; ${message} before it stopped`;
        await this.store.updateRun(run.id, {
          status: 'cancelled',
          finishedAt: this.now().toISOString(),
          error,
        });
        recovered.cancelled.push({ ...run, status: 'cancelled', error });
      } else if (await this.store.requeueRun(run.id, {}, owner)) {
        await this.store.releaseTaskLease(run.id, owner);
        await this.store.appendRunLog([
          {
            runId: run.id,
            at: this.now().toISOString(),
            level: 'warn',
            message: `${message}; queued again as the same attempt`,
          },
        ]);
        recovered.requeued.push({ run: { ...run, status: 'queued' }, deadOwner: owner });
      }
    }
    return recovered;
  }
}

/** A run that ended without its runner recording it (timeout, a dead process): a `task_failed` event. */
function failureEvents(run: Run, error: string, at: string): MonitoringEvent[] {
  return runOutcomeEvents({
    run: { ...run, status: 'failed', error },
    failedChecks: [],
    openIncidents: [],
    at,
  });
}
