import type { ChannelDef } from '../../model/index.ts';
import { DeliveryError } from '../delivery-error.ts';
import { messageTitle, type NotificationMessage } from '../notification-message.ts';
import type { Channel, ChannelOptions } from './channel.ts';
import { hostOf, postJson, quoteAnswer } from './json-poster.ts';

/** Events API v2: `payload.summary` is cut at 1024 characters. */
const SUMMARY_LENGTH = 1024;

/**
 * Triggers and resolves PagerDuty incidents through the Events API v2
 * (https://developer.pagerduty.com/docs/events-api-v2/). One Tessera incident is one PagerDuty
 * alert: every message about it carries the same `dedup_key`, so reminders re-trigger the open
 * alert instead of opening another, and the resolution closes it.
 */
export class PagerDutyChannel implements Channel<'pagerduty'> {
  readonly type = 'pagerduty';

  constructor(
    private readonly options: ChannelOptions & {
      /** `notifications.pagerduty.events_url`. */
      eventsUrl: string;
      /** `notifications.ui_url`: PagerDuty shows it as the event's client link. */
      uiUrl?: string;
    },
  ) {}

  async send(
    message: NotificationMessage,
    definition: Extract<ChannelDef, { type: 'pagerduty' }>,
  ): Promise<void> {
    const url = this.options.eventsUrl;
    const answer = await postJson({
      channel: 'pagerduty',
      url,
      body: JSON.stringify(pagerDutyEvent(message, definition.routingKey, this.options.uiUrl)),
      timeoutMs: this.options.timeoutMs,
      secrets: [definition.routingKey],
    });
    if (answer.status < 200 || answer.status > 299) {
      throw new DeliveryError(
        `PagerDuty at ${hostOf(url)} answered ${answer.status}: ${describeAnswer(answer.body, definition.routingKey)}`,
        { channel: 'pagerduty', host: hostOf(url) },
      );
    }
  }
}

/** `tessera/<project>/<incident id>`: the same for every message about one incident. */
export function pagerDutyDedupKey(message: Pick<NotificationMessage, 'project' | 'incidentId'>): string {
  return `tessera/${message.project}/${message.incidentId}`;
}

/** The Events API v2 body: a trigger (opened, reminder) or a resolve (resolved). */
export function pagerDutyEvent(message: NotificationMessage, routingKey: string, uiUrl?: string): object {
  const dedupKey = pagerDutyDedupKey(message);
  // A resolve carries only what PagerDuty reads from it: the key of the alert to close.
  if (message.phase === 'resolved')
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const title = messageTitle(message);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: title.length > SUMMARY_LENGTH ? `${title.slice(0, SUMMARY_LENGTH - 1)}…` : title,
      source: `tessera/${message.project}`,
      severity: message.severity,
      timestamp: message.at,
      ...(message.table ? { component: message.table } : {}),
      group: message.project,
      class: message.kind,
      custom_details: {
        cause: message.cause,
        ...(message.table ? { table: message.table } : {}),
        ...(message.task ? { task: message.task } : {}),
        ...(message.runId ? { run_id: message.runId } : {}),
        ...(message.attempt !== undefined ? { attempt: message.attempt } : {}),
        incident_id: message.incidentId,
        phase: message.phase,
        recipient: message.recipient,
      },
    },
    ...(message.link
      ? { links: [{ href: message.link, text: `${message.table ?? 'Table'} in Tessera` }] }
      : {}),
    client: 'Tessera',
    ...(uiUrl ? { client_url: uiUrl } : {}),
  };
}

/** PagerDuty's error body is `{status, message, errors: [...]}`: "Event object is invalid: …". */
function describeAnswer(body: string, routingKey: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.map(String) : [];
    if (typeof parsed.message === 'string') {
      return quoteAnswer([parsed.message, ...errors].join(': '), [routingKey]);
    }
  } catch {
    // Not JSON (a proxy's page): quote it as it is.
  }
  return quoteAnswer(body, [routingKey]) || '(no body)';
}
