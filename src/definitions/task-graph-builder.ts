import { TaskGraph } from '../graph/index.ts';
import type { Definitions, TaskDef } from '../model/index.ts';
import { analyzeSelect } from './sql-reference-analyzer.ts';

/**
 * The task graph of loaded definitions: a projection reads the tables of its SQL; `depends_on`
 * adds tables (names with a dot) or tasks (their targets). SQL that does not parse adds nothing.
 */
export async function buildTaskGraph(definitions: Definitions): Promise<TaskGraph> {
  const sqlTables = new Map<string, readonly string[]>();
  for (const task of definitions.tasks) {
    if (task.type === 'projection' && task.sql !== undefined) {
      sqlTables.set(task.name, (await analyzeSelect(task.sql)).tables);
    }
  }
  return taskGraphFromSqlTables(definitions.tasks, sqlTables);
}

/** The graph from tables already extracted from each projection's SQL (by task name). */
export function taskGraphFromSqlTables(
  tasks: readonly TaskDef[],
  sqlTables: ReadonlyMap<string, readonly string[]>,
): TaskGraph {
  const targets = new Map(tasks.map((task) => [task.name, task.target]));
  return TaskGraph.fromDefinitions(tasks, (task) => [
    ...(sqlTables.get(task.name) ?? []),
    ...task.dependsOn.flatMap((name) =>
      name.includes('.') ? [name] : targets.has(name) ? [targets.get(name)!] : [],
    ),
  ]);
}
