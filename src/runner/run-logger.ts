import type { CatalogStore } from '../catalog/catalog-store.ts';
import type { RunLogLine } from '../model/index.ts';

/** Writes a run's log lines to the catalog as they happen, and echoes them to an observer. */
export class RunLogger {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: CatalogStore,
    private readonly runId: string,
    private readonly observer?: (line: RunLogLine) => void,
  ) {}

  info(message: string): void {
    this.write('info', message);
  }

  warn(message: string): void {
    this.write('warn', message);
  }

  error(message: string): void {
    this.write('error', message);
  }

  /** Resolves once every line so far is stored. */
  flush(): Promise<void> {
    return this.pending;
  }

  private write(level: RunLogLine['level'], message: string): void {
    const line: RunLogLine = { runId: this.runId, at: new Date().toISOString(), level, message };
    this.observer?.(line);
    // Chained so lines keep their order in the store even though writes are asynchronous.
    this.pending = this.pending.then(() => this.store.appendRunLog([line]));
  }
}
