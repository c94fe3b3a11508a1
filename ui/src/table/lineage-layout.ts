/** Lay the lineage graph out left to right (upstream → downstream) with dagre. */
import { Graph, layout } from '@dagrejs/dagre';
import type { LineageEdge } from '../api/types.ts';
import { tableEdges } from './lineage-edges.ts';

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 44;

export interface PlacedGraph {
  nodes: { name: string; x: number; y: number }[];
  edges: { from: string; to: string; task?: string }[];
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
