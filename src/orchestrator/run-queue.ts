import type { EnqueueOutcome, QueuedRun } from '../catalog/catalog-store.ts';
import type { Run } from '../model/index.ts';

export type { EnqueueOutcome, QueuedRun } from '../catalog/catalog-store.ts';

/** A request to run a task through the queue. */
export interface RunRequest {
  task: string;
  /** Why: `manual`, `schedule`, `source_change`, `upstream:<table>@<version>`, `backfill`. */
  trigger: string;
  /**
   * Requests with the same key merge while one of them is queued and not started: enqueueing
   * returns that run instead of adding one, so a burst of triggers yields one run, which reads the
   * newest upstream versions when it starts. Default: the task name (a task has at most one queued
   * run); `null`: never merge.
   */
  dedupeKey?: string | null;
  /** Not before this time (a debounce window). Default: at once. */
  notBefore?: Date;
  /** The trigger wave it belongs to; default: a new wave named after the run. */
  wave?: string;
  /** Whether its publication triggers the tasks downstream (default true). */
  downstream?: boolean;
}

/** What `claimNext` found. */
export interface ClaimResult {
  /** The run now started for the claimer, if one was runnable. */
  claimed?: QueuedRun;
  /** When the earliest queued run that is waiting only for its `notBefore` becomes due (epoch ms). */
  nextDueAt?: number;
}

/** What `cancel` did. */
export type CancelOutcome =
  | 'cancelled' // it was queued: it is now cancelled
  | 'requested' // it is running: its owner stops it at its next heartbeat
  | 'finished' // it had already ended: nothing to do
  | 'not-found';

/**
 * The run queue between triggers and executors. Implementations: `CatalogRunQueue` (queued runs are
 * catalog `runs` rows, for `orchestrator: local`); a PostgreSQL job queue for `tessera worker`
 * processes fits the same contract. Every method is safe when several processes share the queue.
 *
 * Life of a run: `enqueue` → `claimNext` (running; `heartbeat` while it works) → the runner records
 * the outcome → `complete`, or `retry` (a new attempt of the same run id, so publication stays
 * exactly-once), or `release` (back to the queue unchanged: shutdown, dead owner).
 */
export interface RunQueue {
  /** Queue a run, or merge into the queued run with the same dedupe key (see `RunRequest.dedupeKey`). */
  enqueue(request: RunRequest): Promise<EnqueueOutcome>;
  /**
   * Start the next runnable run for `owner`: due, its task not running anywhere, and none of the
   * task's transitive upstream tasks queued or running (nor in `busyTasks`: tasks the claimer is
   * still settling). Oldest first.
   */
  claimNext(owner: string, options?: { busyTasks?: ReadonlySet<string>; now?: Date }): Promise<ClaimResult>;
  /**
   * `owner` still works on these runs (renewing their task leases). Returns the ids among them whose
   * cancellation was requested, and those whose task lease another process took over (they must stop).
   */
  heartbeat(owner: string, runIds: string[]): Promise<HeartbeatOutcome>;
  /** The attempt failed and another follows: queue the same run again as `attempt`, not before `notBefore`. */
  retry(
    runId: string,
    owner: string,
    next: { attempt: number; notBefore: Date; error: string },
  ): Promise<boolean>;
  /** Give a started run back unchanged (same attempt): its owner is shutting down or died. */
  release(runId: string, owner?: string): Promise<boolean>;
  /** The run reached its final state (the runner recorded it): the queue forgets it. */
  complete(runId: string, owner: string): Promise<void>;
  /** A run that started but could not be recorded by the runner (e.g. its task is no longer defined). */
  fail(runId: string, owner: string, error: string): Promise<void>;
  /** End the task's queued runs as skipped with `reason`; record a skipped run when it had none. */
  skip(task: string, reason: string, details: { trigger: string; wave?: string }): Promise<Run[]>;
  /** Cancel a run: a queued one at once, a running one through its owner. */
  cancel(runId: string, reason?: string): Promise<CancelOutcome>;
  /** Queued and running runs, oldest first. */
  active(): Promise<QueuedRun[]>;
  /**
   * Find running runs whose owner died (`ownerAlive` says no, or no heartbeat since `staleBefore`;
   * never `self`'s own) and put them back in the queue, same attempt; a run whose cancellation was
   * requested ends `cancelled` instead.
   */
  recover(options: {
    self: string;
    ownerAlive: (owner: string) => boolean;
    staleBefore: Date;
  }): Promise<RecoveredRuns>;
}

/** What `heartbeat` found. */
export interface HeartbeatOutcome {
  cancelRequested: string[];
  /** Runs whose task lease is no longer theirs (it lapsed and was taken over). */
  leaseLost: string[];
}

/** What `recover` did. */
export interface RecoveredRuns {
  /** Back in the queue, with the owner that died. */
  requeued: { run: Run; deadOwner: string }[];
  cancelled: Run[];
  /** Runs of `tessera run` (no server) whose process died: recorded as failed. */
  failed: Run[];
}
