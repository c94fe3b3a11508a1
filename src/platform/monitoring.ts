/**
 * Monitoring as the platform offers it: a notifier over the repo's owners and channels (created
 * on first use, so commands that never notify never load the channels), delivery after a run,
 * and subscriptions.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { CatalogStore } from '../catalog/catalog-store.ts';
import { didYouMean } from '../definitions/name-suggester.ts';
import { NotFoundError, UsageError } from '../diagnostics/errors.ts';
import type { TaskGraph } from '../graph/index.ts';
import { EVENT_KINDS, type Definitions, type EventKind, type Subscription } from '../model/index.ts';
import type { DeliveryReport, Notifier } from '../notify/notifier.ts';

export interface NotifierSettings {
  /** Milliseconds since the epoch (a server's clock). Default: `Date.now`. */
  now?: () => number;
  /** Where the `console` channel writes. Default: standard error (standard output carries results). */
  writeConsole?: (text: string) => void;
  /** Where a failed delivery is reported. Default: standard error. */
  warn?: (message: string) => void;
}

/** A notifier and what closes it (the SMTP connections its channels hold). */
export interface OpenNotifier {
  notifier: Notifier;
  close(): Promise<void>;
}

/** Open a notifier on the platform's definitions and catalog. */
export async function openNotifier(
  parts: { definitions: Definitions; graph: TaskGraph; store: CatalogStore },
  settings: NotifierSettings = {},
): Promise<OpenNotifier> {
  const [{ Notifier }, { createChannelSender }] = await Promise.all([
    import('../notify/notifier.ts'),
    import('../notify/channels/channel-sender.ts'),
  ]);
  const sender = createChannelSender(parts.definitions.project.notifications, {
    writeConsole:
      settings.writeConsole ?? ((text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`)),
  });
  const notifier = new Notifier({
    ...parts,
    sender,
    claimant: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    ...(settings.now ? { now: settings.now } : {}),
    warn: settings.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`)),
  });
  return { notifier, close: () => sender.close() };
}

/**
 * Tell what the runs just recorded: settle their events and send what is due. A failure here never
 * fails the runs (they are recorded); what could not be sent stays queued for `serve` to retry.
 */
export async function deliverAfterRuns(
  parts: { definitions: Definitions; graph: TaskGraph; store: CatalogStore },
  settings: NotifierSettings = {},
): Promise<DeliveryReport | undefined> {
  const warn = settings.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  if ((await parts.store.listPendingEvents(1)).length === 0) return undefined;
  let open: OpenNotifier | undefined;
  try {
    open = await openNotifier(parts, { ...settings, warn });
    await open.notifier.settlePending();
    return await open.notifier.deliverDue();
  } catch (error) {
    warn(
      `notifications: ${error instanceof Error ? error.message : String(error)}; \`tessera serve\` delivers them later`,
    );
    return undefined;
  } finally {
    await open?.close().catch(() => {});
  }
}

/** Validate and record a subscription made on the command line. */
export async function subscribe(
  parts: { definitions: Definitions; store: CatalogStore },
  request: { table: string; owner: string; events?: string[] },
): Promise<Subscription> {
  const { definitions, store } = parts;
  if (!(await store.getTable(request.table))) {
    throw new NotFoundError(
      `table ${request.table} not found in the catalog${didYouMean(
        request.table,
        definitions.tables.map((table) => table.name),
      )}; \`tessera tables\` lists them`,
    );
  }
  if (!definitions.owners.some((owner) => owner.name === request.owner)) {
    throw new UsageError(
      `--owner ${request.owner} is not an owner in the repo${didYouMean(
        request.owner,
        definitions.owners.map((owner) => owner.name),
      )}; owners are declared with \`kind: owner\``,
    );
  }
  const events = request.events?.map((event): EventKind => {
    if ((EVENT_KINDS as readonly string[]).includes(event)) return event as EventKind;
    throw new UsageError(
      `--events: unknown event \`${event}\`${didYouMean(event, EVENT_KINDS)}; events: ${EVENT_KINDS.join(', ')}`,
    );
  });
  const subscription: Subscription = {
    table: request.table,
    owner: request.owner,
    ...(events && events.length > 0 ? { events: [...new Set(events)] } : {}),
    createdAt: new Date().toISOString(),
  };
  await store.subscribe(subscription);
  return subscription;
}
