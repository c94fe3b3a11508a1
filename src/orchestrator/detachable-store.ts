import type { CatalogStore } from '../catalog/catalog-store.ts';

/** Store methods a run's execution writes through; detached, they no longer reach the catalog. */
const RUN_WRITES = new Set<PropertyKey>([
  'createRun',
  'updateRun',
  'appendRunLog',
  'replaceTaskLineage',
  'deleteVersions',
]);

/**
 * The catalog as one run's execution sees it, with a switch: once `detached()` is true (the run was
 * given back to the queue at shutdown), publishing throws and the run's other writes are dropped, so
 * work still unwinding in the background can neither publish nor overwrite the requeued run's row.
 * Reads pass through.
 */
export function detachableStore(store: CatalogStore, detached: () => boolean): CatalogStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (property === 'publishVersion') {
        return async (...args: unknown[]) => {
          if (detached())
            throw new Error('the run was given back to the queue; it publishes in its next attempt');
          return method.apply(target, args);
        };
      }
      if (RUN_WRITES.has(property)) {
        return async (...args: unknown[]) => (detached() ? undefined : method.apply(target, args));
      }
      return method.bind(target);
    },
  });
}
