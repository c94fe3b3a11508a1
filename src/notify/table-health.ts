import type { FreshnessDef, HealthState, Incident, TableHealth, Version } from '../model/index.ts';
import { formatAge } from './age-text.ts';

/**
 * What a table's health is judged from: the tables as applied, the task graph's shape, the open
 * incidents and each table's current version. Plain data, so the catalog alone can answer (as
 * `tessera show` does) as well as a loaded repo.
 */
export interface HealthInputs {
  tables: readonly { name: string; owner: string; freshness?: FreshnessDef }[];
  /** The table each task produces. */
  targetOf: (task: string) => string | undefined;
  /** The tables `table` is derived from, directly or not. */
  upstreamOf: (table: string) => Iterable<string>;
  openIncidents: readonly Incident[];
  currentVersion: (table: string) => Version | undefined;
  now: number;
}

const RANK: Record<HealthState, number> = {
  failing: 0,
  upstream_failing: 1,
  stale: 2,
  warning: 3,
  healthy: 4,
};

/**
 * Every table's health, worst first then by name: `failing` (an open failure of the task that
 * produces it), `upstream_failing` (a table it is derived from is failing), `stale` (its current
 * version is older than `freshness.error_after`), `warning` (older than `warn_after`, or its last
 * publication carried failed warn-level checks), else `healthy`. Judged from the catalog and the
 * clock, so a table is `stale` the moment its limit passes, before the monitor has told anyone.
 */
export function tableHealth(inputs: HealthInputs): TableHealth[] {
  const { now } = inputs;
  const failures = new Map<string, Incident>();
  for (const incident of inputs.openIncidents) {
    if (incident.severity !== 'error' || incident.kind === 'sla_missed') continue;
    const table =
      incident.table ?? (incident.task !== undefined ? inputs.targetOf(incident.task) : undefined);
    if (table !== undefined && !failures.has(table)) failures.set(table, incident);
  }

  const health = inputs.tables.map((table): TableHealth => {
    const owner = table.owner;
    const failure = failures.get(table.name);
    if (failure) {
      return { table: table.name, health: 'failing', reason: failure.cause, owner, incidentId: failure.id };
    }
    const failingUpstream = [...inputs.upstreamOf(table.name)]
      .sort()
      .find((upstream) => failures.has(upstream));
    if (failingUpstream !== undefined) {
      const upstreamFailure = failures.get(failingUpstream)!;
      return {
        table: table.name,
        health: 'upstream_failing',
        reason: `upstream ${upstreamFailure.cause}`,
        owner,
        incidentId: upstreamFailure.id,
      };
    }
    const current = inputs.currentVersion(table.name);
    if (current && table.freshness) {
      const ageMs = now - Date.parse(current.publishedAt);
      const { errorAfterMs, warnAfterMs } = table.freshness;
      const age = `version ${current.version} was published ${formatAge(ageMs)} ago`;
      if (errorAfterMs !== undefined && ageMs > errorAfterMs) {
        return {
          table: table.name,
          health: 'stale',
          reason: `${age}; freshness.error_after is ${formatAge(errorAfterMs)}`,
          owner,
        };
      }
      if (warnAfterMs !== undefined && ageMs > warnAfterMs) {
        return {
          table: table.name,
          health: 'warning',
          reason: `${age}; freshness.warn_after is ${formatAge(warnAfterMs)}`,
          owner,
        };
      }
    }
    const warned = current?.checks.filter((check) => !check.success && check.severity === 'warn') ?? [];
    if (warned.length > 0) {
      return {
        table: table.name,
        health: 'warning',
        reason: `version ${current!.version} passed with ${warned.length} failed warn-level check${warned.length === 1 ? '' : 's'}: ${warned.map((check) => check.expectation).join(', ')}`,
        owner,
      };
    }
    if (!current) return { table: table.name, health: 'healthy', reason: 'no version published yet', owner };
    return { table: table.name, health: 'healthy', reason: `version ${current.version} is current`, owner };
  });
  return health.sort((a, b) => RANK[a.health] - RANK[b.health] || a.table.localeCompare(b.table));
}
