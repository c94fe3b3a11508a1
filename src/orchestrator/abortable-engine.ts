import type { Engine, EngineSession, QueryResult, SessionOptions } from '../engines/engine.ts';

/**
 * An engine whose sessions refuse to start a statement once `signal` is aborted, and fail a statement
 * that was running when it was: a cancelled or timed-out run stops at the next statement boundary.
 * The `Engine` interface cannot interrupt a statement that is already running (DuckDB can, through
 * `DuckDBConnection.interrupt()`, but the interface does not expose it), so that statement finishes in
 * the background first. `stillAbortable` returning false (the run has published) lets every statement
 * through: work after publication must never turn into a failure.
 */
export class AbortableEngine implements Engine {
  constructor(
    private readonly inner: Engine,
    private readonly signal: AbortSignal,
    private readonly stillAbortable: () => boolean = () => true,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async openSession(options?: SessionOptions): Promise<EngineSession> {
    this.check();
    const session = await this.inner.openSession(options);
    return new AbortableSession(session, () => this.check());
  }

  async close(): Promise<void> {
    // The wrapped engine is shared by every run; its owner closes it.
  }

  private check(): void {
    if (this.signal.aborted && this.stillAbortable()) throw this.signal.reason;
  }
}

class AbortableSession implements EngineSession {
  constructor(
    private readonly inner: EngineSession,
    private readonly check: () => void,
  ) {}

  async run(sql: string): Promise<void> {
    this.check();
    await this.inner.run(sql);
    this.check();
  }

  async query(sql: string): Promise<QueryResult> {
    this.check();
    const result = await this.inner.query(sql);
    this.check();
    return result;
  }

  close(): void {
    this.inner.close();
  }
}
