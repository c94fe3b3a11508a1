import type { Diagnostic } from '../diagnostics/index.ts';
import type { ParsedCatalog } from './catalog-document-parser.ts';
import { taskGraphFromSqlTables } from './task-graph-builder.ts';

/**
 * A `cycle` diagnostic per cycle in the task graph, at its alphabetically first task, spelling
 * out which table carries each step: projections run when their upstream publishes, so a cycle
 * would never settle.
 */
export function lintTaskCycles(
  catalog: ParsedCatalog,
  sqlTables: ReadonlyMap<string, readonly string[]>,
): Diagnostic[] {
  const tasks = new Map(catalog.tasks.map((task) => [task.def.name, task]));
  const graph = taskGraphFromSqlTables(
    catalog.tasks.map((task) => task.def),
    sqlTables,
  );
  return graph.findCycles().map((cycle): Diagnostic => {
    const first = tasks.get(cycle[0]!)!;
    const steps = cycle.map((task, index) => {
      const next = cycle[(index + 1) % cycle.length]!;
      return next === task
        ? `${task} reads its own target ${graph.targetOf(task)}`
        : `${task} publishes ${graph.targetOf(task)}, read by ${next}`;
    });
    return {
      code: 'cycle',
      severity: 'error',
      message: `tasks form a cycle: ${steps.join('; ')}. A projection runs when its upstream publishes, so a cycle never settles; remove one of these reads`,
      at: first.def.at,
    };
  });
}
