/** A timer armed with a `Clock`: opaque, only good for that clock's `clearTimeout`. */
export type ClockTimer = object;

/**
 * Where the orchestrator reads the time and arms its timers: the debounce window, retry backoff,
 * the moment a waiting run becomes due, `every` and cron schedules, polls, heartbeats, timeouts and
 * the stop's grace period. `SYSTEM_CLOCK` by default; a test passes a clock it advances by hand, so
 * nothing waits on the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Call `callback` once `delayMs` have passed on this clock (at once for a delay ≤ 0). */
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  /** Disarm a timer; a timer already fired or cleared, or `undefined`, is ignored. */
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** `setTimeout` takes at most 2^31 - 1 ms; a longer delay is armed again when that much has passed. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/** The wall clock: `Date.now()` and Node's timers, re-armed for delays beyond `setTimeout`'s limit. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer: { id?: NodeJS.Timeout } = {};
    const dueAt = Date.now() + Math.max(0, delayMs);
    const arm = (): void => {
      const remaining = dueAt - Date.now();
      timer.id = setTimeout(
        remaining > LONGEST_TIMEOUT_MS ? arm : callback,
        Math.min(Math.max(0, remaining), LONGEST_TIMEOUT_MS),
      );
    };
    arm();
    return timer;
  },
  clearTimeout(timer) {
    if (timer) clearTimeout((timer as { id?: NodeJS.Timeout }).id);
  },
};

/** Call `callback` every `intervalMs` on `clock` until the returned function is called. */
export function every(clock: Clock, intervalMs: number, callback: () => void): () => void {
  let timer: ClockTimer | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(tick, intervalMs);
    callback();
  };
  timer = clock.setTimeout(tick, intervalMs);
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}
