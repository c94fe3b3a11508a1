/**
 * A table's lineage, table- or column-level, upstream and/or downstream, to a depth. Edges touching
 * a table the caller may not read, or a column it may not see, are left out.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LineageEdge } from '../../../model/index.ts';
import { requireCaller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity, tableNameParams, lineageEdgeSchema } from '../schemas.ts';

const lineageQuery = z.object({
  direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
  depth: z.coerce.number().int().min(1).max(100).optional().describe('hops from the table; default: all'),
  columns: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe('column-level edges instead of table-level ones'),
});

export const lineageRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/tables/:name/lineage',
    {
      schema: {
        summary: "A table's lineage as the caller may see it",
        tags: ['lineage'],
        security: bearerSecurity,
        params: tableNameParams,
        querystring: lineageQuery,
        response: {
          200: z.object({
            table: z.string(),
            upstream: z.array(lineageEdgeSchema),
            downstream: z.array(lineageEdgeSchema),
          }),
          ...authenticatedErrors,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const table = await caller.table(request.params.name);
      const { direction, depth, columns } = request.query;
      const lineage = await caller.platform.catalog.lineage(table.name, {
        upstream: direction !== 'downstream',
        downstream: direction !== 'upstream',
        columns,
      });
      const view = new Map((await caller.view()).map((visible) => [visible.name.toLowerCase(), visible]));
      const visibleColumn = (tableName: string, column: string | undefined) => {
        const visible = view.get(tableName.toLowerCase());
        if (!visible) return false;
        return (
          column === undefined ||
          visible.columns.some((entry) => entry.name.toLowerCase() === column.toLowerCase())
        );
      };
      const keep = (edge: LineageEdge) =>
        visibleColumn(edge.fromTable, edge.fromColumn) && visibleColumn(edge.toTable, edge.toColumn);
      return {
        table: table.name,
        upstream: withinDepth(lineage.upstream, table.name, 'up', depth).filter(keep),
        downstream: withinDepth(lineage.downstream, table.name, 'down', depth).filter(keep),
      };
    },
  );
};

/** The edges reachable within `depth` hops of `table` (the walk is counted on every edge, seen or not). */
function withinDepth(
  edges: LineageEdge[],
  table: string,
  direction: 'up' | 'down',
  depth: number | undefined,
): LineageEdge[] {
  if (depth === undefined) return edges;
  const distance = new Map<string, number>([[table, 0]]);
  const kept: LineageEdge[] = [];
  let frontier = [table];
  for (let hop = 1; hop <= depth && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const edge of edges) {
      const [near, far] =
        direction === 'up' ? [edge.toTable, edge.fromTable] : [edge.fromTable, edge.toTable];
      if (!frontier.includes(near)) continue;
      kept.push(edge);
      if (!distance.has(far)) {
        distance.set(far, hop);
        next.push(far);
      }
    }
    frontier = next;
  }
  return kept;
}
