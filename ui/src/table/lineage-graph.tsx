/** The lineage graph: React Flow with pan, zoom and controls; clicking a node opens its table. */
import '@xyflow/react/dist/style.css';
import { Background, Controls, MarkerType, Position, ReactFlow, type Edge, type Node } from '@xyflow/react';
import { useMemo } from 'react';
import type { LineageEdge } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { NODE_HEIGHT, NODE_WIDTH, placeGraph } from './lineage-layout.ts';

export function LineageGraph({ table, edges }: { table: string; edges: LineageEdge[] }) {
  const { nodes, flowEdges } = useMemo(() => {
    const placed = placeGraph(table, edges);
    const nodes: Node[] = placed.nodes.map((node) => ({
      id: node.name,
      position: { x: node.x, y: node.y },
      data: { label: node.name },
      ariaLabel: `table ${node.name}`,
      className: node.name === table ? 'lineage-node lineage-node-current' : 'lineage-node',
      style: { width: NODE_WIDTH, height: NODE_HEIGHT },
      // Laid out left to right: edges leave a table on its right and enter on its left.
      sourcePosition: Position.Right,
      targetPosition: Position.Left,
      draggable: false,
      connectable: false,
    }));
    const flowEdges: Edge[] = placed.edges.map((edge) => ({
      id: `${edge.from}->${edge.to}`,
      source: edge.from,
      target: edge.to,
      label: edge.task,
      labelStyle: { fontSize: 10 },
      labelBgPadding: [4, 2] as [number, number],
      markerEnd: { type: MarkerType.ArrowClosed },
    }));
    return { nodes, flowEdges };
  }, [table, edges]);
  return (
    <figure className="lineage-graph" aria-label={`Lineage graph of ${table}`}>
      <ReactFlow
        nodes={nodes}
        edges={flowEdges}
        fitView
        fitViewOptions={{ padding: 0.2 }}
        nodesConnectable={false}
        nodesDraggable={false}
        onNodeClick={(_event, node) => {
          if (node.id !== table) window.location.hash = href.table(node.id);
        }}
        proOptions={{ hideAttribution: true }}
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
      <figcaption className="muted">
        Drag to pan, scroll to zoom; click a table to open it. Edges are named by the task that produces the
        table.
      </figcaption>
    </figure>
  );
}
