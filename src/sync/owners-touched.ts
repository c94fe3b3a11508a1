import type { Definitions } from '../model/index.ts';

/**
 * The owners a change to `changedFiles` concerns: owners of tables declared in those files or whose
 * schema file changed, owners of the targets of tasks declared there or whose SQL file changed, and
 * owners declared there. Sorted, each once.
 */
export function ownersTouched(definitions: Definitions, changedFiles: readonly string[]): string[] {
  const changed = new Set(changedFiles);
  const owners = new Set<string>();
  const tableOwner = new Map(definitions.tables.map((table) => [table.name, table.owner]));
  for (const table of definitions.tables) {
    const schemaFile = table.schemaRef?.split('#')[0];
    if (changed.has(table.at.file) || (schemaFile !== undefined && changed.has(schemaFile))) {
      owners.add(table.owner);
    }
  }
  for (const task of definitions.tasks) {
    if (!changed.has(task.at.file) && !(task.sqlFile !== undefined && changed.has(task.sqlFile))) continue;
    const owner = tableOwner.get(task.target);
    if (owner !== undefined) owners.add(owner);
  }
  for (const owner of definitions.owners) if (changed.has(owner.at.file)) owners.add(owner.name);
  return [...owners].sort();
}
