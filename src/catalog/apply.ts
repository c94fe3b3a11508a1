import { ApplyRefusedError } from '../diagnostics/index.ts';
import type { Definitions, LineageEdge } from '../model/index.ts';
import type { CatalogStore, DefinitionChanges } from './catalog-store.ts';
import type { Plan } from './plan.ts';

export interface ApplyOptions {
  /** Lineage derived from the definitions; the edges of added and changed tasks are written. */
  lineage: LineageEdge[];
  /** The Git commit of the definitions, recorded on new schema versions. */
  gitCommit?: string;
}

/**
 * Write a plan to the catalog in one transaction. Throws `ApplyRefusedError` (writing nothing) when the
 * plan has refusals; does nothing when it is empty. `plan` must come from `planChanges(definitions, …)`.
 */
export async function applyDefinitions(
  store: CatalogStore,
  definitions: Definitions,
  plan: Plan,
  options: ApplyOptions,
): Promise<void> {
  if (plan.refusals.length > 0) throw new ApplyRefusedError(plan.refusals);
  if (plan.isEmpty) return;
  await store.applyDefinitions(definitionChanges(definitions, plan, options));
}

function definitionChanges(definitions: Definitions, plan: Plan, options: ApplyOptions): DefinitionChanges {
  const tables = new Map(definitions.tables.map((def) => [def.name, def]));
  const tasks = new Map(definitions.tasks.map((def) => [def.name, def]));
  const schemaChanges = new Map(plan.schemaChanges.map((change) => [change.table, change]));
  const declared = <T>(definitionsByName: Map<string, T>, name: string): T => {
    const def = definitionsByName.get(name);
    if (!def) throw new Error(`the plan names ${name}, which the definitions do not declare: plan again`);
    return def;
  };

  const upsertTables = [...plan.tables.added, ...plan.tables.changed.map((change) => change.name)].map(
    (name) => {
      const def = declared(tables, name);
      const schemaChange = def.schema ? schemaChanges.get(name) : undefined;
      return { def, fields: def.schema?.fields ?? [], newSchemaVersion: schemaChange?.toVersion };
    },
  );
  const taskNames = new Set([...plan.tasks.added, ...plan.tasks.changed.map((change) => change.name)]);
  return {
    upsertTables,
    removeTables: plan.tables.removed,
    upsertTasks: [...taskNames].map((name) => declared(tasks, name)),
    removeTasks: plan.tasks.removed,
    owners: definitions.owners,
    roles: definitions.roles,
    principals: definitions.principals,
    // Unchanged tasks keep their stored edges, which a run may have refined to column level.
    lineage: options.lineage.filter((edge) => taskNames.has(edge.task)),
    gitCommit: options.gitCommit,
  };
}
