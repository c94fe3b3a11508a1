import type { Insertable, Kysely, Selectable } from 'kysely';
import type {
  Delivery,
  DeliveryStatus,
  EventKind,
  EventSeverity,
  Incident,
  IncidentStatus,
  MonitoringEvent,
  Subscription,
} from '../../model/index.ts';
import type {
  CatalogDatabase,
  DeliveriesRow,
  EventsRow,
  IncidentsRow,
  SubscriptionsRow,
} from '../catalog-database.ts';
import type {
  CatalogMonitoring,
  DeliveryAttempt,
  DeliveryFilter,
  EventSettlement,
  IncidentFilter,
  SettlementOutcome,
} from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection, CatalogTransaction } from './catalog-connection.ts';
import { optionalTimestamp, withoutUndefined } from './catalog-rows.ts';
import { batches } from './statement-batches.ts';

/** Events, incidents, deliveries and subscriptions: what monitoring remembers between processes. */
export class KyselyMonitoringStore implements CatalogMonitoring {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async recordEvents(events: MonitoringEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute((trx) => insertEvents(trx, events));
  }

  async listPendingEvents(limit = 500): Promise<MonitoringEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('processed_at', 'is', null)
      .orderBy('at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async getEvent(id: string): Promise<MonitoringEvent | undefined> {
    const row = await this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  async listEvents(filter: { incidentId?: string; limit?: number } = {}): Promise<MonitoringEvent[]> {
    let query = this.db.selectFrom('events').selectAll();
    if (filter.incidentId !== undefined) query = query.where('incident_id', '=', filter.incidentId);
    query = query.orderBy('at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toEvent);
  }

  async settleEvent(settlement: EventSettlement): Promise<SettlementOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const event = await trx
        .selectFrom('events')
        .select(['processed_at'])
        .where('id', '=', settlement.eventId)
        .executeTakeFirst();
      if (!event || event.processed_at !== null) return 'already-settled';
      const processedAt = toIsoTimestamp(settlement.processedAt);
      const change = settlement.change;
      let incidentId: string | null = null;
      let outcome: SettlementOutcome = 'settled';
      let deliveries = settlement.deliveries;

      if (change.action === 'open') {
        const open = await openIncidentRow(trx, change.incident.key);
        if (open) {
          // Another event with this cause opened it meanwhile: join it, its recipients are told already.
          await joinIncident(trx, open.id);
          incidentId = open.id;
          deliveries = [];
          outcome = 'joined-open-incident';
        } else {
          await trx.insertInto('incidents').values(incidentValues(change.incident)).execute();
          incidentId = change.incident.id;
        }
      } else if (change.action === 'join') {
        await joinIncident(trx, change.incidentId);
        incidentId = change.incidentId;
      } else if (change.action === 'resolve') {
        const resolvedAt = toIsoTimestamp(change.resolvedAt);
        for (const ids of batches(change.incidentIds, 1)) {
          await trx
            .updateTable('incidents')
            .set({ status: 'resolved', resolved_at: resolvedAt })
            .where('id', 'in', ids)
            .where('status', '=', 'open')
            .execute();
        }
        incidentId = change.incidentIds[0] ?? null;
      }

      await trx
        .updateTable('events')
        .set({ processed_at: processedAt, incident_id: incidentId })
        .where('id', '=', settlement.eventId)
        .execute();
      await insertDeliveries(trx, deliveries);
      return outcome;
    });
  }

  async findOpenIncident(key: string): Promise<Incident | undefined> {
    const row = await openIncidentRow(this.db, key);
    return row && toIncident(row);
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toIncident(row);
  }

  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    let query = this.db.selectFrom('incidents').selectAll();
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.task !== undefined) query = query.where('task', '=', filter.task);
    if (filter.table !== undefined) query = query.where('table_name', '=', filter.table);
    query = query.orderBy('opened_at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toIncident);
  }

  async remindIncident(
    id: string,
    previousNotifiedAt: string,
    at: string,
    deliveries: Delivery[],
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('incidents')
        .set({ notified_at: toIsoTimestamp(at) })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .where('notified_at', '=', toIsoTimestamp(previousNotifiedAt))
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await insertDeliveries(trx, deliveries);
      return true;
    });
  }

  async listDeliveries(filter: DeliveryFilter = {}): Promise<Delivery[]> {
    let query = this.db.selectFrom('deliveries').selectAll();
    if (filter.incidentId !== undefined) query = query.where('incident_id', '=', filter.incidentId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    query = query.orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toDelivery);
  }

  async claimDueDeliveries(
    now: string,
    claimant: string,
    claimUntil: string,
    limit: number,
  ): Promise<Delivery[]> {
    const at = toIsoTimestamp(now);
    return this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', at)]))
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      if (due.length === 0) return [];
      const ids = due.map((row) => row.id);
      // The same conditions again in the update: on PostgreSQL another claimant may have taken some
      // between the select and here; only rows this update changed are ours.
      await trx
        .updateTable('deliveries')
        .set({ claimed_by: claimant, claimed_until: toIsoTimestamp(claimUntil) })
        .where('id', 'in', ids)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
        .execute();
      const claimed = await trx
        .selectFrom('deliveries')
        .selectAll()
        .where('id', 'in', ids)
        .where('claimed_by', '=', claimant)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return claimed.map(toDelivery);
    });
  }

  async recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<void> {
    const at = toIsoTimestamp(attempt.at);
    const current = await this.db
      .selectFrom('deliveries')
      .select('attempts')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!current) return;
    const attempts = Number(current.attempts) + 1;
    await this.db
      .updateTable('deliveries')
      .set(
        attempt.ok
          ? {
              status: 'delivered',
              attempts,
              delivered_at: at,
              last_error: null,
              claimed_by: null,
              claimed_until: null,
            }
          : {
              status: attempt.retryAt === undefined ? 'failed' : 'pending',
              attempts,
              last_error: attempt.error,
              next_attempt_at: optionalTimestamp(attempt.retryAt),
              claimed_by: null,
              claimed_until: null,
            },
      )
      .where('id', '=', id)
      .execute();
  }

  async subscribe(subscription: Subscription): Promise<void> {
    const values: Insertable<SubscriptionsRow> = {
      table_name: subscription.table,
      owner: subscription.owner,
      events_json: subscription.events ? JSON.stringify(subscription.events) : null,
      created_at: toIsoTimestamp(subscription.createdAt),
    };
    await this.db
      .insertInto('subscriptions')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['table_name', 'owner']).doUpdateSet({ events_json: values.events_json ?? null }),
      )
      .execute();
  }

  async unsubscribe(table: string, owner: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('subscriptions')
      .where('table_name', '=', table)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listSubscriptions(table?: string): Promise<Subscription[]> {
    let query = this.db.selectFrom('subscriptions').selectAll();
    if (table !== undefined) query = query.where('table_name', '=', table);
    const rows = await query.orderBy('table_name').orderBy('owner').execute();
    return rows.map(toSubscription);
  }
}

/** Insert events inside a transaction another store holds (the run outcome's, in `updateRun`). */
export async function insertEvents(trx: CatalogTransaction, events: MonitoringEvent[]): Promise<void> {
  for (const slice of batches(events, 13)) {
    await trx.insertInto('events').values(slice.map(eventValues)).execute();
  }
}

async function insertDeliveries(trx: CatalogTransaction, deliveries: Delivery[]): Promise<void> {
  for (const slice of batches(deliveries, 18)) {
    await trx.insertInto('deliveries').values(slice.map(deliveryValues)).execute();
  }
}

function openIncidentRow(
  db: Kysely<CatalogDatabase>,
  key: string,
): Promise<Selectable<IncidentsRow> | undefined> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('key', '=', key)
    .where('status', '=', 'open')
    .orderBy('opened_at', 'desc')
    .executeTakeFirst();
}

async function joinIncident(trx: CatalogTransaction, id: string): Promise<void> {
  await trx
    .updateTable('incidents')
    .set((eb) => ({ event_count: eb('event_count', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

function eventValues(event: MonitoringEvent): Insertable<EventsRow> {
  return {
    id: event.id,
    kind: event.kind,
    severity: event.severity,
    table_name: event.table ?? null,
    task: event.task ?? null,
    run_id: event.runId ?? null,
    attempt: event.attempt ?? null,
    cause: event.cause,
    incident_key: event.incidentKey,
    at: toIsoTimestamp(event.at),
    processed_at: optionalTimestamp(event.processedAt),
    incident_id: event.incidentId ?? null,
    recipients_json: event.recipients ? JSON.stringify(event.recipients) : null,
  };
}

function incidentValues(incident: Incident): Insertable<IncidentsRow> {
  return {
    id: incident.id,
    key: incident.key,
    kind: incident.kind,
    severity: incident.severity,
    table_name: incident.table ?? null,
    task: incident.task ?? null,
    cause: incident.cause,
    status: incident.status,
    opened_at: toIsoTimestamp(incident.openedAt),
    notified_at: toIsoTimestamp(incident.notifiedAt),
    resolved_at: optionalTimestamp(incident.resolvedAt),
    event_count: incident.eventCount,
  };
}

function deliveryValues(delivery: Delivery): Insertable<DeliveriesRow> {
  return {
    id: delivery.id,
    incident_id: delivery.incidentId,
    event_id: delivery.eventId,
    phase: delivery.phase,
    kind: delivery.kind,
    owner: delivery.owner,
    table_name: delivery.table ?? null,
    cause: delivery.cause,
    channel_index: delivery.channelIndex,
    channel_type: delivery.channelType,
    status: delivery.status,
    attempts: delivery.attempts,
    created_at: toIsoTimestamp(delivery.createdAt),
    next_attempt_at: optionalTimestamp(delivery.nextAttemptAt),
    delivered_at: optionalTimestamp(delivery.deliveredAt),
    last_error: delivery.lastError ?? null,
    claimed_by: null,
    claimed_until: null,
  };
}

function toEvent(row: Selectable<EventsRow>): MonitoringEvent {
  return withoutUndefined({
    id: row.id,
    kind: row.kind as EventKind,
    severity: row.severity as EventSeverity,
    table: row.table_name ?? undefined,
    task: row.task ?? undefined,
    runId: row.run_id ?? undefined,
    attempt: row.attempt === null ? undefined : Number(row.attempt),
    cause: row.cause,
    incidentKey: row.incident_key,
    at: row.at,
    processedAt: row.processed_at ?? undefined,
    incidentId: row.incident_id ?? undefined,
    recipients:
      row.recipients_json === null
        ? undefined
        : (JSON.parse(row.recipients_json) as MonitoringEvent['recipients']),
  });
}

function toIncident(row: Selectable<IncidentsRow>): Incident {
  return withoutUndefined({
    id: row.id,
    key: row.key,
    kind: row.kind as EventKind,
    severity: row.severity as EventSeverity,
    table: row.table_name ?? undefined,
    task: row.task ?? undefined,
    cause: row.cause,
    status: row.status as IncidentStatus,
    openedAt: row.opened_at,
    notifiedAt: row.notified_at,
    resolvedAt: row.resolved_at ?? undefined,
    eventCount: Number(row.event_count),
  });
}

function toDelivery(row: Selectable<DeliveriesRow>): Delivery {
  return withoutUndefined({
    id: row.id,
    incidentId: row.incident_id,
    eventId: row.event_id,
    phase: row.phase as Delivery['phase'],
    kind: row.kind as EventKind,
    owner: row.owner,
    table: row.table_name ?? undefined,
    cause: row.cause,
    channelIndex: Number(row.channel_index),
    channelType: row.channel_type,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at ?? undefined,
    deliveredAt: row.delivered_at ?? undefined,
    lastError: row.last_error ?? undefined,
  });
}

function toSubscription(row: Selectable<SubscriptionsRow>): Subscription {
  return withoutUndefined({
    table: row.table_name,
    owner: row.owner,
    events: row.events_json === null ? undefined : (JSON.parse(row.events_json) as EventKind[]),
    createdAt: row.created_at,
  });
}
