/** Lay the lineage graph out left to right (upstream → downstream) with dagre. */
import { Graph, layout } from '@dagrejs/dagre';
import type { LineageEdge } from '../api/types.ts';

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 44;

export interface PlacedGraph {
  nodes: { name: string; x: number; y: number }[];
  edges: { from: string; to: string; task?: string }[];
}

/** Table-level edges only (column edges are listed separately), one per pair of tables. */
export function tableEdges(edges: LineageEdge[]): { from: string; to: string; task?: string }[] {
  const seen = new Map<string, { from: string; to: string; task?: string }>();
  for (const edge of edges) {
    const key = `${edge.fromTable}\u0000${edge.toTable}`;
    if (!seen.has(key)) seen.set(key, { from: edge.fromTable, to: edge.toTable, task: edge.task });
  }
  return [...seen.values()];
}

export function placeGraph(table: string, edges: LineageEdge[], extraNodes: string[] = []): PlacedGraph {
  const pairs = tableEdges(edges);
  const names = new Set([table, ...extraNodes, ...pairs.flatMap((edge) => [edge.from, edge.to])]);
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 150 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const name of names) graph.setNode(name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of pairs) graph.setEdge(edge.from, edge.to);
  layout(graph);
  return {
    nodes: [...names].map((name) => {
      const node = graph.node(name);
      // dagre places centres; React Flow places top-left corners.
      return { name, x: (node?.x ?? 0) - NODE_WIDTH / 2, y: (node?.y ?? 0) - NODE_HEIGHT / 2 };
    }),
    edges: pairs,
  };
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
