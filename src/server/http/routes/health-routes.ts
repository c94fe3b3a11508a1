/** Table health (healthy, warning, stale, failing, upstream_failing) for the tables the caller may read. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Caller } from '../caller.ts';
import { requireCaller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity } from '../schemas.ts';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'The health of every table the caller may read, worst first, and why',
        tags: ['health'],
        security: bearerSecurity,
        response: {
          200: z.object({
            tables: z.array(
              z.object({
                table: z.string(),
                state: z.string(),
                reason: z.string(),
                owner: z.string().optional(),
              }),
            ),
          }),
          401: authenticatedErrors[401],
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const health = await caller.platform.health();
      const tables = [];
      for (const entry of health) {
        if (!(await caller.sees(entry.table))) continue;
        tables.push({
          table: entry.table,
          state: entry.health,
          reason: await redactHealthReason(caller, entry.reason),
          ...(entry.owner ? { owner: entry.owner } : {}),
        });
      }
      return { tables };
    },
  );
};

/** A health reason naming a table the caller may not read says "an upstream table" instead. */
export async function redactHealthReason(caller: Caller, reason: string): Promise<string> {
  const visible = new Set((await caller.view()).map((table) => table.name.toLowerCase()));
  let redacted = reason;
  const hidden = (await caller.platform.catalog.tables())
    .map((table) => table.name)
    .filter((name) => !visible.has(name.toLowerCase()))
    .sort((a, b) => b.length - a.length);
  for (const name of hidden) redacted = redacted.split(name).join('an upstream table');
  return redacted;
}
