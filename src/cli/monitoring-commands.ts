import type { Command } from 'commander';
import { UsageError } from '../diagnostics/errors.ts';
import type { Delivery, TableHealth } from '../model/index.ts';
import type { IncidentReport } from '../platform/catalog-health.ts';
import { globalOptions, positiveIntegerFlag, print, withCatalog, withPlatform } from './cli-context.ts';
import { textTable } from './output-format.ts';

/** Monitoring: `health`, `incidents`, `notifications`, `subscribe`, `unsubscribe`. */
export function registerMonitoringCommands(program: Command): void {
  program
    .command('health')
    .description("every table's health (healthy, warning, stale, failing, upstream_failing) with the reason")
    .action(async (_flags, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const health = await catalog.health();
        print(options, health, () => formatHealth(health));
        if (health.some((entry) => entry.health === 'failing' || entry.health === 'stale'))
          process.exitCode = 1;
      });
    });

  program
    .command('incidents')
    .description('open and recent incidents, with their events and deliveries')
    .option('--open', 'only open incidents')
    .option('--limit <n>', 'at most this many (default 50)')
    .action(async (flags: { open?: boolean; limit?: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = flags.limit === undefined ? undefined : positiveIntegerFlag('--limit', flags.limit);
      await withCatalog(options, async (catalog) => {
        const incidents = await catalog.incidents({
          ...(flags.open ? { status: 'open' as const } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        print(options, incidents, () => formatIncidents(incidents));
      });
    });

  program
    .command('notifications')
    .description('notification deliveries and their attempts, newest first')
    .option('--status <status>', 'only pending, delivered or failed deliveries')
    .option('--limit <n>', 'at most this many (default 100)')
    .action(async (flags: { status?: string; limit?: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = flags.limit === undefined ? undefined : positiveIntegerFlag('--limit', flags.limit);
      const status = deliveryStatus(flags.status);
      await withCatalog(options, async (catalog) => {
        const deliveries = await catalog.deliveries({
          ...(status ? { status } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        print(options, deliveries, () => formatDeliveries(deliveries));
      });
    });

  program
    .command('subscribe')
    .description("tell an owner of a table's events (kept in the catalog; the repo's `subscribers` too)")
    .argument('<table>')
    .requiredOption('--owner <owner>', 'the owner to tell, through its channels')
    .option('--events <kinds>', 'only these events, comma-separated (default: all)')
    .action(async (table: string, flags: { owner: string; events?: string }, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const events = flags.events
          ?.split(',')
          .map((event) => event.trim())
          .filter((event) => event !== '');
        const subscription = await platform.subscribe({
          table,
          owner: flags.owner,
          ...(events ? { events } : {}),
        });
        print(
          options,
          subscription,
          () =>
            `${subscription.owner} is subscribed to ${subscription.table} (${subscription.events?.join(', ') ?? 'every event'})`,
        );
      });
    });

  program
    .command('unsubscribe')
    .description("stop telling an owner of a table's events (a subscription made with `tessera subscribe`)")
    .argument('<table>')
    .requiredOption('--owner <owner>', 'the owner')
    .action(async (table: string, flags: { owner: string }, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const removed = await platform.unsubscribe(table, flags.owner);
        print(options, { table, owner: flags.owner, removed }, () =>
          removed
            ? `${flags.owner} is no longer subscribed to ${table}`
            : `${flags.owner} had no subscription to ${table} made with \`tessera subscribe\` (subscribers in the repo are changed in the repo)`,
        );
      });
    });
}

function deliveryStatus(text: string | undefined): Delivery['status'] | undefined {
  if (text === undefined) return undefined;
  if (text === 'pending' || text === 'delivered' || text === 'failed') return text;
  throw new UsageError(`--status must be pending, delivered or failed, not ${text}`);
}

function formatHealth(health: TableHealth[]): string {
  if (health.length === 0) return 'no tables in the catalog';
  return textTable(
    ['table', 'health', 'reason'],
    health.map((entry) => [entry.table, entry.health, entry.reason]),
  );
}

function formatIncidents(incidents: IncidentReport[]): string {
  if (incidents.length === 0) return 'no incidents';
  return incidents
    .map((incident) => {
      const delivered = incident.deliveries.filter((delivery) => delivery.status === 'delivered').length;
      return [
        `${incident.status === 'open' ? 'OPEN' : 'resolved'}  ${incident.kind}  ${incident.table ?? incident.task ?? ''}  (${incident.severity})`,
        `  ${incident.cause}`,
        `  opened ${incident.openedAt}${incident.resolvedAt ? `, resolved ${incident.resolvedAt}` : ''}; ${incident.eventCount} event(s); ${delivered}/${incident.deliveries.length} deliveries sent`,
        `  id ${incident.id}`,
      ].join('\n');
    })
    .join('\n\n');
}

function formatDeliveries(deliveries: Delivery[]): string {
  if (deliveries.length === 0) return 'no notifications';
  return textTable(
    ['created', 'owner', 'channel', 'phase', 'event', 'status', 'attempts', 'last error'],
    deliveries.map((delivery) => [
      delivery.createdAt,
      delivery.owner,
      delivery.channelType,
      delivery.phase,
      delivery.kind,
      delivery.status,
      String(delivery.attempts),
      delivery.lastError ?? '',
    ]),
  );
}
