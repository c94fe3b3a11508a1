// What monitoring records and sends: events, incidents, deliveries, health (SPEC §4).

/** What happened. `on: [...]` in an owner's channel and `--events` of `tessera subscribe` name these. */
export type EventKind =
  'task_failed' | 'validation_failed' | 'sla_missed' | 'upstream_failed' | 'recovered' | 'sync_refused';

/** `Delivery.channelIndex` of an email sent straight to an address an event named. */
export const DIRECT_EMAIL = -1;

export const EVENT_KINDS: readonly EventKind[] = [
  'task_failed',
  'validation_failed',
  'sla_missed',
  'upstream_failed',
  'recovered',
  'sync_refused',
];

/** PagerDuty's severities, which every channel shows. */
export type EventSeverity = 'critical' | 'error' | 'warning' | 'info';

/** One event as recorded in the catalog (in the same transaction as the run outcome it reports). */
export interface MonitoringEvent {
  id: string;
  kind: EventKind;
  severity: EventSeverity;
  /** The table the event is about (for `upstream_failed`: the downstream table). */
  table?: string;
  task?: string;
  runId?: string;
  attempt?: number;
  /** The root cause in one line: "care.members not published: column DOB missing in data/members.csv". */
  cause: string;
  /** What opens or joins an incident: events with the same key share one (task + failure kind). */
  incidentKey: string;
  at: string;
  /**
   * Recipients the event names itself, told besides those of its table: owners (through their
   * channels) and email addresses (through `notifications.smtp`), e.g. a refused commit's author.
   */
  recipients?: { owners: string[]; emails: string[] };
  /** Set once the notifier has turned the event into an incident and deliveries. */
  processedAt?: string;
  incidentId?: string;
}

export type IncidentStatus = 'open' | 'resolved';

export interface Incident {
  id: string;
  key: string;
  /** The kind of the event that opened it. */
  kind: EventKind;
  severity: EventSeverity;
  table?: string;
  task?: string;
  cause: string;
  status: IncidentStatus;
  openedAt: string;
  /** The last time its recipients were told (opening or a reminder). */
  notifiedAt: string;
  resolvedAt?: string;
  /** How many events joined it (the opening one included). */
  eventCount: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One message to one owner through one of its channels; retried with backoff until delivered. */
export interface Delivery {
  id: string;
  incidentId: string;
  eventId: string;
  /** `opened`, `reminder` or `resolved`: where in the incident's life this message is. */
  phase: 'opened' | 'reminder' | 'resolved';
  /** The event kind this message reports to this recipient (`upstream_failed` for a downstream subscriber). */
  kind: EventKind;
  owner: string;
  /** The table this recipient is told about (its own; for `upstream_failed`, the downstream one). */
  table?: string;
  /** The one line this recipient reads: the incident's cause, or how it reaches their table. */
  cause: string;
  /**
   * The channel's position in the owner's `channels` and its type (`slack`, `email`, ...).
   * `DIRECT_EMAIL` (-1): no owner's channel but an address the event named (`owner` is the address).
   */
  channelIndex: number;
  channelType: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt?: string;
  deliveredAt?: string;
  lastError?: string;
}

/** A table's health, worst first. */
export type HealthState = 'failing' | 'upstream_failing' | 'stale' | 'warning' | 'healthy';

export interface TableHealth {
  table: string;
  health: HealthState;
  reason: string;
  owner?: string;
  /** The open incident behind a health other than `healthy`, if any. */
  incidentId?: string;
}

/** A subscription made with `tessera subscribe`, kept in the catalog. */
export interface Subscription {
  table: string;
  owner: string;
  /** Absent: every event kind. */
  events?: EventKind[];
  createdAt: string;
}
