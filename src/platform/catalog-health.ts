/**
 * Health, incidents and deliveries as the catalog records them: what `tessera health`, `show`,
 * `incidents` and `notifications` print. Answered from the catalog alone (the definitions as
 * applied, lineage, incidents, current versions), like every read-only command.
 */
import type { CatalogStore, DeliveryFilter, IncidentFilter } from '../catalog/catalog-store.ts';
import type {
  Delivery,
  FreshnessDef,
  Incident,
  MonitoringEvent,
  TableDef,
  TableHealth,
  Version,
} from '../model/index.ts';
import { tableHealth } from '../notify/table-health.ts';

/** An incident with what joined it and what was sent about it. */
export interface IncidentReport extends Incident {
  events: MonitoringEvent[];
  deliveries: Delivery[];
}

/** Every table's health, worst first (see `tableHealth`). */
export async function catalogHealth(store: CatalogStore, now: number): Promise<TableHealth[]> {
  const [records, applied, lineage, openIncidents] = await Promise.all([
    store.listTables(),
    store.readDefinitions(),
    store.listLineage(),
    store.listIncidents({ status: 'open' }),
  ]);
  const current = new Map<string, Version>();
  await Promise.all(
    records
      .filter((record) => record.currentVersion !== undefined)
      .map(async (record) => {
        const version = await store.getCurrentVersion(record.name);
        if (version) current.set(record.name, version);
      }),
  );
  const targets = new Map(applied.tasks.map((task) => [task.name, task.target]));
  const readsFrom = new Map<string, Set<string>>();
  // Every edge says its target reads its source, column-level ones too (a run may replace a task's
  // table-level edges with the column-level ones it learned).
  for (const edge of lineage) {
    let sources = readsFrom.get(edge.toTable);
    if (!sources) readsFrom.set(edge.toTable, (sources = new Set()));
    sources.add(edge.fromTable);
  }
  return tableHealth({
    tables: records.map((record) => ({
      name: record.name,
      owner: record.owner,
      ...freshnessOf(record.definition),
    })),
    targetOf: (task) => targets.get(task),
    upstreamOf: (table) => transitive(table, readsFrom),
    openIncidents,
    currentVersion: (table) => current.get(table),
    now,
  });
}

/** Open and recent incidents, newest first, each with its events and deliveries. */
export async function incidentReports(
  store: CatalogStore,
  filter: IncidentFilter = {},
): Promise<IncidentReport[]> {
  const incidents = await store.listIncidents({ limit: 50, ...filter });
  return Promise.all(
    incidents.map(async (incident) => ({
      ...incident,
      events: await store.listEvents({ incidentId: incident.id }),
      deliveries: await store.listDeliveries({ incidentId: incident.id }),
    })),
  );
}

/** Deliveries, newest first (100 unless a limit is given). */
export function deliveryHistory(store: CatalogStore, filter: DeliveryFilter = {}): Promise<Delivery[]> {
  return store.listDeliveries({ limit: 100, ...filter });
}

function freshnessOf(definition: unknown): { freshness?: FreshnessDef } {
  const freshness = (definition as Partial<TableDef> | undefined)?.freshness;
  return freshness ? { freshness } : {};
}

function transitive(table: string, readsFrom: Map<string, Set<string>>): Set<string> {
  const reached = new Set<string>();
  const pending = [...(readsFrom.get(table) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (reached.has(next) || next === table) continue;
    reached.add(next);
    pending.push(...(readsFrom.get(next) ?? []));
  }
  return reached;
}
