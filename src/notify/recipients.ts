import type { ChannelDef, Definitions, EventKind, MonitoringEvent, Subscription } from '../model/index.ts';
import type { TaskGraph } from '../graph/index.ts';

/** Who is told of an event, as what, about which table, in which words. */
export interface Recipient {
  owner: string;
  kind: EventKind;
  table?: string;
  cause: string;
}

/** Event kinds that are failures: the owners and subscribers of every table downstream are told too. */
const FAILURES: ReadonlySet<EventKind> = new Set(['task_failed', 'validation_failed']);

/**
 * Whom an event that opens an incident concerns, and why, most direct first: the owners the event
 * names itself (`recipients.owners`, e.g. those a refused commit touches), the owner and
 * subscribers (from the repo and from `tessera subscribe`) of its table, then, for a failure that
 * stopped a publication, those of every table downstream of it, transitively, as `upstream_failed`.
 * An owner may appear for several reasons; the notifier sends each of its channels the first reason
 * that channel carries (`on:`), so a channel that only takes `upstream_failed` still hears of a
 * failure upstream of a table its owner also subscribes to directly. A subscription's `events`
 * filter applies to what it would be told.
 */
export function eventRecipients(
  event: MonitoringEvent,
  definitions: Definitions,
  graph: TaskGraph,
  subscriptions: readonly Subscription[],
): Recipient[] {
  const recipients = new Map<string, Recipient>();
  const tell = (table: string, kind: EventKind, cause: string): void => {
    for (const owner of interestedOwners(table, kind, definitions, subscriptions)) {
      const key = `${owner}\u0000${kind}`;
      if (!recipients.has(key)) recipients.set(key, { owner, kind, table, cause });
    }
  };
  // Owners the event names itself (those a refused commit touches) are the most direct.
  for (const owner of event.recipients?.owners ?? []) {
    const key = `${owner}\u0000${event.kind}`;
    if (!recipients.has(key)) recipients.set(key, { owner, kind: event.kind, cause: event.cause });
  }
  const table = event.table ?? definitions.tasks.find((task) => task.name === event.task)?.target;
  if (table === undefined) return [...recipients.values()];
  tell(table, event.kind, event.cause);
  if (FAILURES.has(event.kind) && event.severity === 'error') {
    for (const downstream of graph.downstreamTables(table)) {
      tell(downstream, 'upstream_failed', `${downstream} is out of date because upstream ${event.cause}`);
    }
  }
  return [...recipients.values()];
}

/** The owner of `table` and its subscribers who want `kind`. */
function interestedOwners(
  table: string,
  kind: EventKind,
  definitions: Definitions,
  subscriptions: readonly Subscription[],
): string[] {
  const def = definitions.tables.find((candidate) => candidate.name === table);
  const fromRepo = def ? [def.owner, ...def.subscribers] : [];
  const fromCatalog = subscriptions
    .filter((subscription) => subscription.table === table)
    .filter((subscription) => subscription.events === undefined || subscription.events.includes(kind))
    .map((subscription) => subscription.owner);
  return [...new Set([...fromRepo, ...fromCatalog])];
}

/** Whether a channel carries `kind` (`on:` absent = every kind). */
export function channelCarries(channel: ChannelDef, kind: EventKind): boolean {
  return channel.on === undefined || channel.on.includes(kind);
}
