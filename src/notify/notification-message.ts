import type { EventKind, EventSeverity } from '../model/index.ts';

/** What one recipient is told about one incident, through any channel. Plain serializable data. */
export interface NotificationMessage {
  /** `ProjectDef.name`: which Tessera project speaks. */
  project: string;
  /** Stable for the incident's life: PagerDuty's dedup key and the webhook receiver's grouping key. */
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
  /** `ui_url + '/tables/' + table`, when `notifications.ui_url` is set. */
  link?: string;
  /** ISO time of the event. */
  at: string;
  /** The owner's name. */
  recipient: string;
}

/** The cause as one line, however it was written: a title or a Slack header must not break. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * One line naming project, kind and cause: "[clinical-analytics] task_failed: care.members not
 * published: …", prefixed "Resolved: " or "Reminder: " past the incident's opening.
 */
export function messageTitle(message: NotificationMessage): string {
  const prefix =
    message.phase === 'resolved' ? 'Resolved: ' : message.phase === 'reminder' ? 'Reminder: ' : '';
  return `${prefix}[${oneLine(message.project)}] ${message.kind}: ${oneLine(message.cause)}`;
}

/** The facts beside the cause, as label/value pairs, in the order every channel shows them. */
export function messageFacts(message: NotificationMessage): { label: string; value: string }[] {
  const facts: { label: string; value: string }[] = [];
  if (message.table) facts.push({ label: 'Table', value: message.table });
  if (message.task) facts.push({ label: 'Task', value: message.task });
  if (message.runId) {
    const attempt = message.attempt !== undefined ? ` (attempt ${message.attempt})` : '';
    facts.push({ label: 'Run', value: `${message.runId}${attempt}` });
  }
  facts.push({ label: 'Severity', value: message.severity });
  return facts;
}

/** Plain text, several lines: the title, table, task, run and attempt, severity, cause, link. */
export function messageText(message: NotificationMessage): string {
  const rows = [
    ...messageFacts(message),
    { label: 'Cause', value: oneLine(message.cause) },
    ...(message.link ? [{ label: 'Link', value: message.link }] : []),
    { label: 'At', value: message.at },
  ];
  const width = Math.max(...rows.map((row) => row.label.length)) + 1;
  return [
    messageTitle(message),
    '',
    ...rows.map((row) => `${`${row.label}:`.padEnd(width)} ${row.value}`),
  ].join('\n');
}

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A small self-contained HTML document (inline styles only: mail clients drop style sheets). */
export function messageHtml(message: NotificationMessage): string {
  const rows = messageFacts(message)
    .map(
      (fact) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(fact.label)}</th><td>${escapeHtml(fact.value)}</td></tr>`,
    )
    .join('');
  // Only http(s) links become anchors: anything else in a link is shown, never followed.
  const link =
    message.link && /^https?:\/\//i.test(message.link)
      ? `<p><a href="${escapeHtml(message.link)}">Open ${escapeHtml(message.table ?? 'Tessera')} in Tessera</a></p>`
      : message.link
        ? `<p>${escapeHtml(message.link)}</p>`
        : '';
  return [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(messageTitle(message))}</h2>`,
    `<p>${escapeHtml(oneLine(message.cause))}</p>`,
    `<table>${rows}</table>`,
    link,
    `<p style="color:#666">${escapeHtml(message.project)} · incident ${escapeHtml(message.incidentId)} · ${escapeHtml(message.at)}</p>`,
    '</body></html>',
  ].join('\n');
}
