/** Lineage edges as tables: one edge per pair, and the tables up- and downstream of one. */
import type { LineageEdge } from '../api/types.ts';

/** Table-level edges only (column edges are listed separately), one per pair of tables. */
export function tableEdges(edges: LineageEdge[]): { from: string; to: string; task?: string }[] {
  const seen = new Map<string, { from: string; to: string; task?: string }>();
  for (const edge of edges) {
    const key = `${edge.fromTable}\u0000${edge.toTable}`;
    if (!seen.has(key)) seen.set(key, { from: edge.fromTable, to: edge.toTable, task: edge.task });
  }
  return [...seen.values()];
}

/** Tables upstream and downstream of `table`, following the edges transitively. */
export function neighbours(
  table: string,
  edges: LineageEdge[],
): { upstream: string[]; downstream: string[] } {
  const pairs = tableEdges(edges);
  const walk = (start: string, next: (name: string) => string[]) => {
    const found = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      for (const name of next(queue.shift()!))
        if (!found.has(name) && name !== table) {
          found.add(name);
          queue.push(name);
        }
    }
    return [...found].sort();
  };
  return {
    upstream: walk(table, (name) => pairs.filter((edge) => edge.to === name).map((edge) => edge.from)),
    downstream: walk(table, (name) => pairs.filter((edge) => edge.from === name).map((edge) => edge.to)),
  };
}
