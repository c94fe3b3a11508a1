import type { CatalogStore } from '../catalog/catalog-store.ts';

/**
 * Which tasks are paused, as recorded in the catalog (`tessera pause` may run in another process),
 * cached for the trigger loop and the clock and refreshed by the orchestrator's poll.
 */
export class PausedTasks {
  private paused = new Set<string>();

  constructor(private readonly store: Pick<CatalogStore, 'listTaskStates'>) {}

  /** Whether `task` was paused at the last refresh. */
  isPaused(task: string): boolean {
    return this.paused.has(task);
  }

  /** Re-read the catalog. Returns the tasks resumed since the previous refresh. */
  async refresh(): Promise<string[]> {
    const states = await this.store.listTaskStates();
    const paused = new Set(states.filter((state) => state.pausedAt !== undefined).map((state) => state.task));
    const resumed = [...this.paused].filter((task) => !paused.has(task));
    this.paused = paused;
    return resumed;
  }
}
