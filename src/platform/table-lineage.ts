import type { LineageEdge } from '../model/index.ts';

/** Which side of a table's lineage to walk, and at which grain. */
export interface LineageQuestion {
  /** Walk upstream (default: both directions when neither is set). */
  upstream?: boolean;
  /** Walk downstream (default: both directions when neither is set). */
  downstream?: boolean;
  /** Column-level edges instead of table-level ones. Default: false. */
  columns?: boolean;
}

/** A table's transitive lineage; a direction not asked for is empty. */
export interface TableLineage {
  table: string;
  upstream: LineageEdge[];
  downstream: LineageEdge[];
}

/** The edges reachable from `table`, upstream and/or downstream, from the catalog's lineage edges. */
export function tableLineage(edges: LineageEdge[], table: string, question: LineageQuestion): TableLineage {
  const both = !question.upstream && !question.downstream;
  const columns = question.columns ?? false;
  return {
    table,
    upstream: question.upstream || both ? walk(edges, table, 'up', columns) : [],
    downstream: question.downstream || both ? walk(edges, table, 'down', columns) : [],
  };
}

/** Transitive edges from a table, upstream or downstream; table-level unless columns are asked for. */
function walk(
  edges: LineageEdge[],
  table: string,
  direction: 'up' | 'down',
  columns: boolean,
): LineageEdge[] {
  const relevant = edges.filter((edge) =>
    columns ? edge.fromColumn !== undefined : edge.fromColumn === undefined,
  );
  const result: LineageEdge[] = [];
  const seen = new Set<string>([table]);
  const queue = [table];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const edge of relevant) {
      const [near, far] =
        direction === 'up' ? [edge.toTable, edge.fromTable] : [edge.fromTable, edge.toTable];
      if (near !== current) continue;
      result.push(edge);
      if (!seen.has(far)) {
        seen.add(far);
        queue.push(far);
      }
    }
  }
  return result;
}
