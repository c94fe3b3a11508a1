import type {
  ColumnInfo,
  Engine,
  EngineSession,
  QueryResult,
  ReadOptions,
  SessionOptions,
} from '../engines/engine.ts';
import type { Dialect } from '../engines/dialect.ts';

/**
 * An engine whose sessions refuse to start a statement once `signal` is aborted, and interrupt the
 * statement running when it is: a cancelled or timed-out run stops promptly. `stillAbortable`
 * returning false (the run has published) lets every statement through: work after publication
 * must never turn into a failure.
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

  get dialect(): Dialect {
    return this.inner.dialect;
  }

  async openSession(options?: SessionOptions): Promise<EngineSession> {
    this.check();
    const session = await this.inner.openSession(options);
    const interrupt = () => {
      if (this.stillAbortable()) session.interrupt();
    };
    this.signal.addEventListener('abort', interrupt, { once: true });
    return new AbortableSession(
      session,
      () => this.check(),
      () => this.signal.removeEventListener('abort', interrupt),
    );
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
    private readonly detach: () => void,
  ) {}

  async run(sql: string): Promise<void> {
    await this.guarded(() => this.inner.run(sql));
  }

  async query(sql: string, options?: ReadOptions): Promise<QueryResult> {
    return this.guarded(() => this.inner.query(sql, options));
  }

  async describe(sql: string): Promise<ColumnInfo[]> {
    return this.guarded(() => this.inner.describe(sql));
  }

  /** An interrupted statement fails with the abort's reason (cancelled, timed out), not the engine's error. */
  private async guarded<T>(statement: () => Promise<T>): Promise<T> {
    this.check();
    try {
      const result = await statement();
      this.check();
      return result;
    } catch (error) {
      this.check();
      throw error;
    }
  }

  interrupt(): void {
    this.inner.interrupt();
  }

  close(): void {
    this.detach();
    this.inner.close();
  }
}
