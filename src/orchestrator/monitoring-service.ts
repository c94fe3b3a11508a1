import type { Notifier } from '../notify/notifier.ts';
import { every, type Clock } from './clock.ts';
import type { Orchestrator, OrchestratorService } from './orchestrator.ts';

export interface MonitoringServiceOptions {
  clock: Clock;
  /** How often freshness is checked and due deliveries and reminders are sent. Default: 30 s. */
  intervalMs?: number;
  log?: (message: string) => void;
}

/**
 * `serve`'s SLA monitor and notification delivery: at start it delivers what earlier processes left
 * behind, after every run it tells what the run recorded, and every interval it checks freshness,
 * queues reminders and retries failed deliveries. Passes never overlap; a request during a pass
 * runs one more pass after it.
 */
export class MonitoringService implements OrchestratorService {
  readonly name = 'monitoring';
  private stopTimer?: () => void;
  private unlisten?: () => void;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly notifier: Notifier,
    private readonly options: MonitoringServiceOptions,
  ) {}

  async start(orchestrator: Orchestrator): Promise<void> {
    this.unlisten = orchestrator.on((event) => {
      if (event.type === 'run-finished') this.request();
    });
    this.stopTimer = every(this.options.clock, this.options.intervalMs ?? 30_000, () => this.request());
    this.request();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTimer?.();
    this.unlisten?.();
    await this.idle();
  }

  /** Resolves when no pass runs or is asked for (tests wait on it after moving the clock). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Ask for a pass now. */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.request();
      }
    });
  }

  private async pass(): Promise<void> {
    try {
      await this.notifier.checkFreshness();
      await this.notifier.flush();
    } catch (error) {
      // The catalog may be briefly unreachable: the next pass tries again.
      this.options.log?.(`monitoring: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
