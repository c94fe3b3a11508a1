import { randomUUID } from 'node:crypto';
import type { CatalogStore } from '../catalog/index.ts';
import type { TaskGraph } from '../graph/index.ts';
import type {
  ChannelDef,
  Definitions,
  Delivery,
  Incident,
  MonitoringEvent,
  OwnerDef,
  TableDef,
} from '../model/index.ts';
import { DIRECT_EMAIL } from '../model/index.ts';
import type { NotificationMessage } from './notification-message.ts';
import { channelCarries, eventRecipients } from './recipients.ts';
import { formatAge } from './age-text.ts';
import { incidentKeys } from './run-events.ts';

/** Sends one message through one channel; throws when the service did not accept it. */
export interface MessageSender {
  send(message: NotificationMessage, channel: ChannelDef): Promise<void>;
}

export interface NotifierOptions {
  store: CatalogStore;
  definitions: Definitions;
  graph: TaskGraph;
  sender: MessageSender;
  /** Who claims deliveries while sending them: `host:pid:nonce` of this process. */
  claimant: string;
  /** Milliseconds since the epoch; the orchestrator's clock under `serve`, a test's hand-moved one. */
  now?: () => number;
  /** How long a claim on a delivery holds: longer than any send may take. Default 2 minutes. */
  claimMs?: number;
  /** Where a failed delivery is reported (it never throws out of the notifier). */
  warn?: (message: string) => void;
}

/** What one `deliverDue` did. */
export interface DeliveryReport {
  delivered: Delivery[];
  failed: { delivery: Delivery; error: string }[];
}

/** Attempts before a delivery is given up as `failed`; the waits double from 30 s up to 1 h. */
export const MAX_DELIVERY_ATTEMPTS = 8;
const FIRST_RETRY_MS = 30_000;
const LONGEST_RETRY_MS = 3_600_000;

/** Deliveries sent at once by one `deliverDue`; each channel's send has its own timeout. */
const DELIVERY_BATCH = 50;

/**
 * Turns recorded events into incidents and deliveries, and deliveries into messages (SPEC §4).
 * Every step reads and writes the catalog only, so any process may run it: the one that ran a task
 * (at once), and `serve` (what was left behind, retries, reminders, freshness). A failing channel
 * costs only its own delivery, retried with backoff.
 */
export class Notifier {
  private readonly store: CatalogStore;
  private readonly definitions: Definitions;
  private readonly graph: TaskGraph;
  private readonly sender: MessageSender;
  private readonly now: () => number;
  private readonly claimMs: number;
  private readonly owners: Map<string, OwnerDef>;
  private readonly tables: Map<string, TableDef>;

  constructor(private readonly options: NotifierOptions) {
    this.store = options.store;
    this.definitions = options.definitions;
    this.graph = options.graph;
    this.sender = options.sender;
    this.now = options.now ?? Date.now;
    this.claimMs = options.claimMs ?? 120_000;
    this.owners = new Map(options.definitions.owners.map((owner) => [owner.name, owner]));
    this.tables = new Map(options.definitions.tables.map((table) => [table.name, table]));
  }

  /** Settle what is pending, queue due reminders, and send every due delivery. */
  async flush(): Promise<DeliveryReport> {
    await this.settlePending();
    await this.remind();
    return this.deliverDue();
  }

  /** Turn every pending event into its incident change and deliveries; returns how many were settled. */
  async settlePending(): Promise<number> {
    let settled = 0;
    for (;;) {
      const events = await this.store.listPendingEvents();
      if (events.length === 0) return settled;
      const subscriptions = await this.store.listSubscriptions();
      for (const event of events) {
        await this.settle(event, subscriptions);
        settled += 1;
      }
    }
  }

  private async settle(
    event: MonitoringEvent,
    subscriptions: Awaited<ReturnType<CatalogStore['listSubscriptions']>>,
  ) {
    const at = this.isoNow();
    if (event.kind === 'recovered') {
      const incident = await this.store.findOpenIncident(event.incidentKey);
      if (!incident) {
        await this.store.settleEvent({
          eventId: event.id,
          processedAt: at,
          change: { action: 'none' },
          deliveries: [],
        });
        return;
      }
      await this.store.settleEvent({
        eventId: event.id,
        processedAt: at,
        change: { action: 'resolve', incidentIds: [incident.id], resolvedAt: at },
        deliveries: await this.resolutionDeliveries(incident, event, at),
      });
      return;
    }
    const open = await this.store.findOpenIncident(event.incidentKey);
    if (open) {
      await this.store.settleEvent({
        eventId: event.id,
        processedAt: at,
        change: { action: 'join', incidentId: open.id },
        deliveries: [],
      });
      return;
    }
    const incident: Incident = {
      id: randomUUID(),
      key: event.incidentKey,
      kind: event.kind,
      severity: event.severity,
      ...(event.table !== undefined ? { table: event.table } : {}),
      ...(event.task !== undefined ? { task: event.task } : {}),
      cause: event.cause,
      status: 'open',
      openedAt: at,
      notifiedAt: at,
      eventCount: 1,
    };
    const deliveries: Delivery[] = [];
    // One message per channel per incident: the most direct reason the channel carries.
    const served = new Set<string>();
    for (const recipient of eventRecipients(event, this.definitions, this.graph, subscriptions)) {
      this.owners.get(recipient.owner)?.channels.forEach((channel, channelIndex) => {
        const key = `${recipient.owner}\u0000${channelIndex}`;
        if (served.has(key) || !channelCarries(channel, recipient.kind)) return;
        served.add(key);
        deliveries.push({
          id: randomUUID(),
          incidentId: incident.id,
          eventId: event.id,
          phase: 'opened',
          kind: recipient.kind,
          owner: recipient.owner,
          ...(recipient.table !== undefined ? { table: recipient.table } : {}),
          cause: recipient.cause,
          channelIndex,
          channelType: channel.type,
          status: 'pending',
          attempts: 0,
          createdAt: at,
        });
      });
    }
    // Addresses the event names (a refused commit's author) are mailed directly, if email is set up.
    if (this.definitions.project.notifications.smtp) {
      for (const address of new Set(event.recipients?.emails ?? [])) {
        deliveries.push({
          id: randomUUID(),
          incidentId: incident.id,
          eventId: event.id,
          phase: 'opened',
          kind: event.kind,
          owner: address,
          cause: event.cause,
          channelIndex: DIRECT_EMAIL,
          channelType: 'email',
          status: 'pending',
          attempts: 0,
          createdAt: at,
        });
      }
    }
    await this.store.settleEvent({
      eventId: event.id,
      processedAt: at,
      change: { action: 'open', incident },
      deliveries,
    });
  }

  /**
   * A resolution for every channel that was told the incident opened, whatever its `on:` says:
   * whoever heard of a failure hears that it is over, and PagerDuty's incident must be resolved.
   */
  private async resolutionDeliveries(
    incident: Incident,
    event: MonitoringEvent,
    at: string,
  ): Promise<Delivery[]> {
    return (await this.toldOf(incident)).map((delivery) =>
      resend(delivery, at, {
        eventId: event.id,
        phase: 'resolved',
        kind: 'recovered',
        // A downstream subscriber reads which of its tables is back, not just the upstream's news.
        cause:
          delivery.kind === 'upstream_failed' && delivery.table
            ? `${delivery.table}: ${event.cause}`
            : event.cause,
      }),
    );
  }

  /** Queue a reminder of every open incident not told for `reminders.every`; returns how many. */
  async remind(): Promise<number> {
    const every = this.definitions.project.notifications.reminderEveryMs;
    if (every === undefined || every <= 0) return 0;
    const now = this.now();
    let reminded = 0;
    for (const incident of await this.store.listIncidents({ status: 'open' })) {
      if (Date.parse(incident.notifiedAt) + every > now) continue;
      const at = new Date(now).toISOString();
      const reminders = (await this.toldOf(incident)).map((delivery) =>
        resend(delivery, at, { phase: 'reminder' }),
      );
      if (await this.store.remindIncident(incident.id, incident.notifiedAt, at, reminders)) reminded += 1;
    }
    return reminded;
  }

  /** The messages that told the incident opened: one per channel that heard of it. */
  private async toldOf(incident: Incident): Promise<Delivery[]> {
    return (await this.store.listDeliveries({ incidentId: incident.id })).filter(
      (delivery) => delivery.phase === 'opened',
    );
  }

  /**
   * Record `sla_missed` for every table whose current version is older than its `freshness`
   * (`error_after`: severity error; `warn_after`: warning), once per incident, and `recovered` when a
   * newer version makes it fresh again. Returns the events recorded.
   */
  async checkFreshness(): Promise<MonitoringEvent[]> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const open = new Map(
      (await this.store.listIncidents({ status: 'open' })).map((incident) => [incident.key, incident]),
    );
    const pending = new Set((await this.store.listPendingEvents()).map((event) => event.incidentKey));
    const events: MonitoringEvent[] = [];
    for (const table of this.definitions.tables) {
      const freshness = table.freshness;
      if (!freshness) continue;
      const current = await this.store.getCurrentVersion(table.name);
      if (!current) continue;
      const ageMs = now - Date.parse(current.publishedAt);
      const levels = [
        {
          key: incidentKeys.stale(table.name),
          limitMs: freshness.errorAfterMs,
          severity: 'error' as const,
          setting: 'error_after',
        },
        {
          key: incidentKeys.staleWarning(table.name),
          limitMs: freshness.warnAfterMs,
          severity: 'warning' as const,
          setting: 'warn_after',
        },
      ];
      for (const level of levels) {
        if (level.limitMs === undefined || pending.has(level.key)) continue;
        const late = ageMs > level.limitMs;
        const incident = open.get(level.key);
        if (late && !incident) {
          events.push({
            id: randomUUID(),
            kind: 'sla_missed',
            severity: level.severity,
            table: table.name,
            task: current.task,
            runId: current.runId,
            cause: `${table.name} is stale: version ${current.version} was published ${formatAge(ageMs)} ago; freshness.${level.setting} is ${formatAge(level.limitMs)}`,
            incidentKey: level.key,
            at,
          });
        } else if (!late && incident) {
          events.push({
            id: randomUUID(),
            kind: 'recovered',
            severity: 'info',
            table: table.name,
            task: current.task,
            runId: current.runId,
            cause: `${table.name} is fresh again: version ${current.version} was published ${formatAge(ageMs)} ago`,
            incidentKey: level.key,
            at,
          });
        }
      }
    }
    await this.store.recordEvents(events);
    return events;
  }

  /** Send every due delivery (claimed first, so two processes never send one twice at once). */
  async deliverDue(): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], failed: [] };
    for (;;) {
      const now = this.now();
      const due = await this.store.claimDueDeliveries(
        new Date(now).toISOString(),
        this.options.claimant,
        new Date(now + this.claimMs).toISOString(),
        DELIVERY_BATCH,
      );
      if (due.length === 0) return report;
      // Channels are independent: one slow or failing service never holds up another.
      await Promise.all(due.map((delivery) => this.deliver(delivery, report)));
    }
  }

  private async deliver(delivery: Delivery, report: DeliveryReport): Promise<void> {
    const channel: ChannelDef | undefined =
      delivery.channelIndex === DIRECT_EMAIL
        ? { type: 'email', to: [delivery.owner] }
        : this.owners.get(delivery.owner)?.channels[delivery.channelIndex];
    let error: string | undefined;
    let retry = true;
    if (!channel || channel.type !== delivery.channelType) {
      error = `owner ${delivery.owner} no longer has ${delivery.channelType} channel #${delivery.channelIndex + 1} in the repo`;
      retry = false;
    } else {
      try {
        await this.sender.send(await this.message(delivery), channel);
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
    }
    const at = new Date(this.now()).toISOString();
    if (error === undefined) {
      await this.store.recordDeliveryAttempt(delivery.id, { ok: true, at });
      report.delivered.push({
        ...delivery,
        status: 'delivered',
        attempts: delivery.attempts + 1,
        deliveredAt: at,
      });
      return;
    }
    const attempts = delivery.attempts + 1;
    const retryAt =
      retry && attempts < MAX_DELIVERY_ATTEMPTS
        ? new Date(
            this.now() + Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), LONGEST_RETRY_MS),
          ).toISOString()
        : undefined;
    await this.store.recordDeliveryAttempt(delivery.id, {
      ok: false,
      at,
      error,
      ...(retryAt ? { retryAt } : {}),
    });
    report.failed.push({ delivery, error });
    this.options.warn?.(
      `notification to ${delivery.owner} by ${delivery.channelType} failed (attempt ${attempts}${retryAt ? `; retried at ${retryAt}` : '; given up'}): ${error}`,
    );
  }

  private async message(delivery: Delivery): Promise<NotificationMessage> {
    const [incident, event] = await Promise.all([
      this.store.getIncident(delivery.incidentId),
      this.store.getEvent(delivery.eventId),
    ]);
    const uiUrl = this.definitions.project.notifications.uiUrl;
    const table = delivery.table ?? incident?.table;
    return stripUndefined({
      project: this.definitions.project.name,
      incidentId: delivery.incidentId,
      phase: delivery.phase,
      kind: delivery.kind,
      severity: delivery.phase === 'resolved' ? 'info' : (incident?.severity ?? 'error'),
      table,
      task: event?.task ?? incident?.task,
      runId: event?.runId,
      attempt: event?.attempt,
      cause: delivery.cause,
      link: uiUrl && table ? `${uiUrl.replace(/\/+$/, '')}/tables/${encodeURIComponent(table)}` : undefined,
      at: event?.at ?? delivery.createdAt,
      recipient: delivery.owner,
    });
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /** The table definitions by name (health and freshness read them). */
  tableDef(name: string): TableDef | undefined {
    return this.tables.get(name);
  }
}

/** A new pending message to the same owner and channel as `delivery`, with `changes`. */
function resend(
  delivery: Delivery,
  at: string,
  changes: Partial<Pick<Delivery, 'eventId' | 'phase' | 'kind' | 'cause'>>,
): Delivery {
  return stripUndefined({
    ...delivery,
    ...changes,
    id: randomUUID(),
    status: 'pending' as const,
    attempts: 0,
    createdAt: at,
    nextAttemptAt: undefined,
    deliveredAt: undefined,
    lastError: undefined,
  });
}

function stripUndefined<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}
