/**
 * What an open `Platform` is made of — catalog store, storage, engine, task graph, run context —
 * for tests, benches and the platform's own modules. The faces (cli/, the servers) never import
 * this module (eslint.config.js): they call `Platform` methods, so every read and every run keeps
 * going through the services that govern and record it.
 */
import type { CatalogStore } from '../catalog/catalog-store.ts';
import type { Engine } from '../engines/engine.ts';
import type { OrchestratorHost } from '../orchestrator/index.ts';
import type { Storage } from '../storage/index.ts';

/** An open platform's parts; also what an `Orchestrator` runs on. */
export interface PlatformInternals extends OrchestratorHost {
  /** The catalog store the platform opened (closed with the platform). */
  readonly store: CatalogStore;
  /** The object storage version files live in. */
  readonly storage: Storage;
  /** The engine, started on first use (closed with the platform). */
  engine(): Promise<Engine>;
}

const parts = new WeakMap<object, PlatformInternals>();

/** Called once by `Platform`'s constructor. */
export function registerPlatformInternals(platform: object, internals: PlatformInternals): void {
  if (parts.has(platform)) throw new Error('platform internals registered twice');
  parts.set(platform, internals);
}

/** The parts of an open `Platform`. */
export function internalsOf(platform: object): PlatformInternals {
  const internals = parts.get(platform);
  if (!internals) throw new Error('internalsOf: not a Platform');
  return internals;
}
