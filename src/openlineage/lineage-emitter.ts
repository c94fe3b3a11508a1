/**
 * Delivery of OpenLineage events without making a run wait: `observe` queues (bounded) and
 * returns; one background sender POSTs the events in order, each with a timeout; a failure is
 * logged, never thrown; `flush` waits (bounded) for what is queued, as `tessera run` does before exit.
 */
import type { OpenLineageSettings, RunLifecycleEvent } from '../model/index.ts';
import { redactUrl, type OpenLineageRunEvent, type RunEventBuilder } from './run-events.ts';

/** How long one POST may take when the settings do not say. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;
/** Events waiting beyond this many are dropped (and said so): a receiver down never grows memory without bound. */
export const DEFAULT_MAX_QUEUED = 1_000;

export interface LineageEmitterOptions {
  settings: OpenLineageSettings;
  builder: RunEventBuilder;
  /** Applied to every event before it leaves (secrets put back as `${VAR}`). Default: none. */
  redact?: (event: OpenLineageRunEvent) => OpenLineageRunEvent;
  /** Where a failed delivery is reported. Default: standard error. */
  warn?: (message: string) => void;
  maxQueued?: number;
}

export class LineageEmitter {
  readonly #settings: OpenLineageSettings;
  readonly #builder: RunEventBuilder;
  readonly #redact: (event: OpenLineageRunEvent) => OpenLineageRunEvent;
  readonly #warn: (message: string) => void;
  readonly #maxQueued: number;
  readonly #stop = new AbortController();
  #queued = 0;
  #dropped = 0;
  #tail: Promise<void> = Promise.resolve();
  /** A flush ran out of time: the receiver is not answering, so `close` waits no more. */
  #gaveUp = false;
  /** Events delivered (2xx) and failed so far. */
  readonly counts = { delivered: 0, failed: 0 };

  constructor(options: LineageEmitterOptions) {
    this.#settings = options.settings;
    this.#builder = options.builder;
    this.#redact = options.redact ?? ((event) => event);
    this.#warn = options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  /** Queue the event a run lifecycle event means; returns at once (the runner's `onRunEvent`). */
  readonly observe = (event: RunLifecycleEvent): void => {
    if (this.#stop.signal.aborted) return;
    if (this.#queued >= this.#maxQueued) {
      if (this.#dropped++ === 0) {
        this.#warn(
          `OpenLineage: more than ${this.#maxQueued} events waiting for ${this.#where()}; dropping events`,
        );
      }
      return;
    }
    this.#queued++;
    // Built now (in order) but sent after the previous event: START always precedes COMPLETE.
    const built = this.#builder.build(event).catch((error: unknown) => {
      this.#warn(`OpenLineage: cannot describe run ${event.run.id}: ${messageOf(error)}`);
      return undefined;
    });
    this.#tail = this.#tail.then(async () => {
      try {
        const payload = await built;
        if (payload && !this.#stop.signal.aborted) await this.#send(this.#redact(payload));
      } finally {
        this.#queued--;
      }
    });
  };

  /**
   * Wait for the queued events to be sent, at most `timeoutMs` (default: one delivery timeout and a
   * second); returns false, saying how many were left, if they were not all sent in time.
   */
  async flush(timeoutMs = this.#timeoutMs() + 1_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((done) => {
      timer = setTimeout(() => done(false), timeoutMs);
    });
    const finished = await Promise.race([this.#tail.then(() => true as const), expired]);
    clearTimeout(timer);
    if (!finished) {
      this.#gaveUp = true;
      this.#warn(
        `OpenLineage: ${this.#queued} event(s) not delivered to ${this.#where()} within ${timeoutMs}ms`,
      );
    }
    return finished;
  }

  /** Flush (bounded; not again after a flush ran out of time), then abandon what is still in flight. */
  async close(timeoutMs?: number): Promise<void> {
    if (!this.#gaveUp || this.#queued === 0) await this.flush(timeoutMs);
    this.#stop.abort();
  }

  async #send(event: OpenLineageRunEvent): Promise<void> {
    const timeoutMs = this.#timeoutMs();
    try {
      const response = await fetch(this.#settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.#settings.apiKey ? { authorization: `Bearer ${this.#settings.apiKey}` } : {}),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel().catch(() => {});
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      this.counts.delivered++;
    } catch (error) {
      this.counts.failed++;
      const reason =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
          ? `no answer within ${timeoutMs}ms`
          : messageOf(error);
      this.#warn(
        `OpenLineage: the ${event.eventType} event of job ${event.job.name} (run ${event.run.runId}) was not delivered to ${this.#where()}: ${reason}; the run is not affected`,
      );
    }
  }

  #timeoutMs(): number {
    return this.#settings.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  }

  #where(): string {
    return redactUrl(this.#settings.url);
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
