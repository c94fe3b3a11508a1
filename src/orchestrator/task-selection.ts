import { NotFoundError } from '../diagnostics/errors.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Definitions } from '../model/index.ts';

/** Which tasks a `run` or `backfill` names. */
export interface RunSelection {
  /** Task names to run; ignored when `all` is set. */
  tasks: string[];
  all?: boolean;
  /** Also run everything downstream of the selected tasks (default true). */
  downstream?: boolean;
  trigger?: string;
}

/**
 * The selected tasks plus, unless `downstream` is false, everything downstream of them, in
 * dependency order. Throws `NotFoundError` naming unknown tasks.
 */
export function selectTasks(definitions: Definitions, graph: TaskGraph, selection: RunSelection): string[] {
  const known = new Set(definitions.tasks.map((task) => task.name));
  const unknown = selection.tasks.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new NotFoundError(
      `unknown task(s): ${unknown.join(', ')} (defined: ${[...known].sort().join(', ')})`,
    );
  }
  const selected = new Set(selection.all ? known : selection.tasks);
  if (selection.downstream !== false) {
    for (const name of [...selected])
      for (const downstream of graph.downstreamTasks(name)) selected.add(downstream);
  }
  return graph.topologicalOrder(selected);
}
