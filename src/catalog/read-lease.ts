import { hostname } from 'node:os';
import { TesseraError } from '../diagnostics/errors.ts';
import type { VersionRef } from '../model/index.ts';
import type { CatalogStore } from './catalog-store.ts';

/**
 * Readers hold leases on the files of the versions they read, so retention (in this process or
 * another) never deletes a file under a running query or task (SPEC §2). A lease lasts
 * `READ_LEASE_TTL_MS` and is renewed in the background while held: a reader that dies lets it lapse.
 */

/** How long a lease lasts unless renewed. */
const READ_LEASE_TTL_MS = 10 * 60_000;
/** How many times versions are resolved again when retention removed one before the lease was taken. */
const RESOLVE_ATTEMPTS = 3;

/** A lease this process holds; `release()` ends it (and its renewal). */
export class HeldReadLease {
  private readonly renewal: NodeJS.Timeout | undefined;

  private constructor(
    private readonly store: CatalogStore,
    /** Undefined for a read of no version (`SELECT 1`): nothing to hold. */
    readonly id: string | undefined,
    readonly files: readonly string[],
  ) {
    if (id === undefined) return;
    this.renewal = setInterval(() => {
      void this.store.renewReadLease(id, expiry()).catch(() => {
        // The catalog is unreachable for now; the next renewal tries again before the lease lapses.
      });
    }, READ_LEASE_TTL_MS / 3);
    this.renewal.unref();
  }

  /** Lease the files of `versions`; `undefined` when one of them no longer exists. */
  static async acquire(store: CatalogStore, versions: VersionRef[]): Promise<HeldReadLease | undefined> {
    if (versions.length === 0) return new HeldReadLease(store, undefined, []);
    const lease = await store.acquireReadLease({
      versions,
      holder: `${hostname()}:${process.pid}`,
      expiresAt: expiry(),
    });
    return lease && new HeldReadLease(store, lease.id, lease.files);
  }

  /** End the lease. Never throws: a lease that cannot be released now lapses at its expiry. */
  async release(): Promise<void> {
    clearInterval(this.renewal);
    if (this.id === undefined) return;
    await this.store.releaseReadLease(this.id).catch(() => undefined);
  }
}

/**
 * Resolve what to read (`resolve` returns the versions it picked) and lease those versions' files.
 * When retention removed a version between the two, resolve again: the newer version is read.
 */
export async function leaseResolved<T extends { versions: VersionRef[] }>(
  store: CatalogStore,
  resolve: () => Promise<T>,
): Promise<{ resolved: T; lease: HeldReadLease }> {
  for (let attempt = 1; ; attempt++) {
    const resolved = await resolve();
    const lease = await HeldReadLease.acquire(store, resolved.versions);
    if (lease) return { resolved, lease };
    if (attempt >= RESOLVE_ATTEMPTS) {
      throw new TesseraError(
        `the versions to read were removed by retention ${RESOLVE_ATTEMPTS} times while being resolved; try again`,
      );
    }
  }
}

function expiry(): string {
  return new Date(Date.now() + READ_LEASE_TTL_MS).toISOString();
}
