/**
 * `plan --base REV`: the plan of a pull request. The base revision's definitions stand in for the
 * catalog (as if REV had been applied), so the plan shows exactly what merging would change and
 * whether `apply` would refuse it. Pure once both sides are loaded: no catalog, storage or engine.
 */
import type { AppliedDefinitions } from '../catalog/catalog-store.ts';
import { planChanges, type Plan } from '../catalog/plan.ts';
import { buildTaskGraph, redactSecrets, type LoadedDefinitions } from '../definitions/index.ts';
import { formatDiagnostic } from '../diagnostics/diagnostic.ts';
import { findDeclassifications, inheritRowFilters, ProjectionLineage } from '../governance/index.ts';
import type { Definitions, TableRecord } from '../model/index.ts';
import {
  findAccessChanges,
  findMembershipChanges,
  findReviewers,
  findSensitivityChanges,
} from './plan-review.ts';

export interface RevisionPlanInput {
  /** The working tree's definitions, free of errors. */
  head: LoadedDefinitions;
  /** The base revision's definitions; its errors are reported, and what loaded is compared. */
  base: LoadedDefinitions;
  revision: string;
  commit: string;
}

/** The plan from `base` to `head`, with the access, sensitivity and review sections of a PR check. */
export async function planRevisionChange(input: RevisionPlanInput): Promise<Plan> {
  const head = storable(input.head);
  const base = storable(input.base);
  const [headGraph, baseGraph] = await Promise.all([buildTaskGraph(head), buildTaskGraph(base)]);
  const headLineage = await ProjectionLineage.of(input.head.definitions);
  const [declassifications, baseDeclassifications, rowFilters] = await Promise.all([
    findDeclassifications(input.head.definitions, headLineage),
    findDeclassifications(input.base.definitions),
    inheritRowFilters(input.head.definitions, headLineage),
  ]);
  const plan = planChanges(head, asApplied(base), {
    // A removed table is only in the base's graph, a new consumer only in the head's: ask both.
    downstreamTables: (table) => [...headGraph.derivedTables(table), ...baseGraph.derivedTables(table)],
    declassifications,
    rowFiltersToReview: rowFilters.findings.map(({ table, upstream, filter, columns }) => ({
      table,
      upstream,
      filter,
      columns,
    })),
  });
  const before = new Set(baseDeclassifications.map((entry) => `${entry.table}.${entry.column}`));
  const accessChanges = findAccessChanges(base, head);
  plan.comparison = {
    revision: input.revision,
    commit: input.commit,
    baseProblems: input.base.diagnostics
      .filter((diagnostic) => diagnostic.severity === 'error')
      .map(formatDiagnostic),
    accessChanges,
    membershipChanges: findMembershipChanges(base, head),
    sensitivityChanges: findSensitivityChanges(base, head),
    newDeclassifications: declassifications
      .map((entry) => `${entry.table}.${entry.column}`)
      .filter((key) => !before.has(key)),
    reviewers: findReviewers(plan, accessChanges, base, head),
  };
  return plan;
}

/** Secrets put back as `${VAR}` on both sides, as the catalog stores them: a plan never prints one. */
function storable(loaded: LoadedDefinitions): Definitions {
  return redactSecrets(loaded.definitions, loaded.secrets);
}

/** The base's definitions as if applied: each table at its declared schema version and fields. */
function asApplied(definitions: Definitions): AppliedDefinitions {
  const tables: TableRecord[] = definitions.tables.map((def) => ({
    name: def.name,
    owner: def.owner,
    ...(def.description !== undefined ? { description: def.description } : {}),
    schemaVersion: def.schemaVersion,
    fields: def.schema?.fields ?? [],
    definition: def,
    updatedAt: '',
  }));
  return {
    tables,
    tasks: definitions.tasks,
    owners: definitions.owners,
    roles: definitions.roles,
    principals: definitions.principals,
  };
}
