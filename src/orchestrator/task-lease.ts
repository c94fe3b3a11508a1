import type { CatalogStore, TaskLease } from '../catalog/catalog-store.ts';
import { RunFailedError } from '../diagnostics/errors.ts';

/** How long a task lease lasts unless its holder renews it (a third of this apart). */
export const TASK_LEASE_TTL_MS = 30_000;

/** How `HeldTaskLease.acquire` waits for a task that runs elsewhere. */
export interface TaskLeaseWaiting {
  /** The lease's lifetime without renewal. Default: `TASK_LEASE_TTL_MS`. */
  ttlMs?: number;
  /** How often to try again while another process holds the lease. Default: 500 ms. */
  pollMs?: number;
  /** False when the holder's process is certainly gone (its lease is then taken over at once). */
  ownerAlive: (owner: string) => boolean;
  /** Called once per holder run we wait for. */
  onWait?: (holder: TaskLease) => void;
}

/**
 * The lease of one task for one run, held by this process (`tessera run` without a server): renewed
 * in the background, and `signal` aborts when it is lost (another process took it over after it
 * expired, e.g. the catalog was unreachable for longer than the lease lasts), so the run stops
 * before it publishes.
 */
export class HeldTaskLease {
  private readonly controller = new AbortController();
  private readonly renewal: NodeJS.Timeout;

  private constructor(
    private readonly store: CatalogStore,
    readonly lease: TaskLease,
    private readonly ttlMs: number,
  ) {
    this.renewal = setInterval(() => void this.renew(), ttlMs / 3);
    this.renewal.unref();
  }

  /** Aborted (with a `RunFailedError`) when the lease was lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Take the task's lease for `runId`, waiting while another live process holds it. A holder whose
   * process is gone (same host, pid gone) is replaced at once; one on another host once its lease
   * expires.
   */
  static async acquire(
    store: CatalogStore,
    request: { task: string; owner: string; runId: string },
    waiting: TaskLeaseWaiting,
  ): Promise<HeldTaskLease> {
    const ttlMs = waiting.ttlMs ?? TASK_LEASE_TTL_MS;
    let announced: string | undefined;
    for (;;) {
      const expiresAt = new Date(Date.now() + ttlMs).toISOString();
      let outcome = await store.acquireTaskLease({ ...request, expiresAt });
      if (!outcome.acquired && !waiting.ownerAlive(outcome.holder.owner)) {
        outcome = await store.acquireTaskLease({ ...request, expiresAt, replacing: outcome.holder.owner });
      }
      if (outcome.acquired) return new HeldTaskLease(store, outcome.lease, ttlMs);
      if (announced !== outcome.holder.runId) {
        announced = outcome.holder.runId;
        waiting.onWait?.(outcome.holder);
      }
      await new Promise((resolve) => setTimeout(resolve, waiting.pollMs ?? 500));
    }
  }

  /** End the lease. Never throws: a lease that cannot be released now lapses at its expiry. */
  async release(): Promise<void> {
    clearInterval(this.renewal);
    await this.store.releaseTaskLease(this.lease.runId, this.lease.owner).catch(() => false);
  }

  private async renew(): Promise<void> {
    const { task, owner, runId } = this.lease;
    try {
      const held = await this.store.renewTaskLeases(
        owner,
        [runId],
        new Date(Date.now() + this.ttlMs).toISOString(),
      );
      if (held.length > 0 || this.controller.signal.aborted) return;
      clearInterval(this.renewal);
      this.controller.abort(
        new RunFailedError(
          `run ${runId} lost the lease of task ${task}: it was not renewed in time and another process may run the task now; run it again once that one ends`,
          { task, runId },
        ),
      );
    } catch {
      // The catalog is unreachable for now; the next renewal tries again before the lease lapses.
    }
  }
}
