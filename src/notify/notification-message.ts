import type { EventKind, EventSeverity } from '../model/index.ts';

/** What one recipient is told through one channel: every channel renders this. */
export interface NotificationMessage {
  /** `ProjectDef.name`. */
  project: string;
  /** Stable for the incident's life (PagerDuty's dedup key is made from it). */
  incidentId: string;
  phase: 'opened' | 'reminder' | 'resolved';
  /** What this recipient is told (`upstream_failed` for a downstream subscriber). */
  kind: EventKind;
  severity: EventSeverity;
  table?: string;
  task?: string;
  runId?: string;
  attempt?: number;
  /** One line: "care.members not published: column DOB missing in data/members.csv". */
  cause: string;
  /** `ui_url` + `/tables/` + table, when `ui_url` is set. */
  link?: string;
  /** ISO time of the event. */
  at: string;
  /** The owner's name. */
  recipient: string;
}
