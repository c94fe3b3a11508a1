import type { Clock, ClockTimer } from '../../src/orchestrator/clock.ts';

interface PendingTimer {
  dueAt: number;
  /** Arming order: timers due at the same time fire in the order they were armed. */
  order: number;
  callback: () => void;
}

/**
 * A clock that stands still until the test moves it: `advance(ms)` fires every timer that falls due,
 * in order, each at its own due time. Debounce windows, backoffs and schedules then take no
 * wall-clock time, and a test decides exactly what has elapsed when it looks.
 */
export class ManualClock implements Clock {
  private current: number;
  private armed = 0;
  private readonly timers = new Map<ClockTimer, PendingTimer>();

  /** `start`: the time it shows first (ms since the epoch); default the wall clock's now. */
  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const timer = {};
    this.timers.set(timer, { dueAt: this.current + Math.max(0, delayMs), order: this.armed++, callback });
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer) this.timers.delete(timer);
  }

  /** Timers armed and not yet fired: their due times, earliest first. */
  pending(): number[] {
    return [...this.timers.values()].map((timer) => timer.dueAt).sort((a, b) => a - b);
  }

  /**
   * Move the time forward by `ms`, firing each timer due by then at its due time (timers a callback
   * arms are fired too if they fall due in the window). After each callback the event loop gets a
   * turn, so what it started can run up to its first I/O.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      let next: [ClockTimer, PendingTimer] | undefined;
      for (const entry of this.timers) {
        const [, timer] = entry;
        if (timer.dueAt > target) continue;
        if (
          !next ||
          timer.dueAt < next[1].dueAt ||
          (timer.dueAt === next[1].dueAt && timer.order < next[1].order)
        ) {
          next = entry;
        }
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].dueAt);
      next[1].callback();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = target;
  }
}
