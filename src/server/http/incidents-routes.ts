/**
 * Open incidents on the tables the caller may read (the health overview's list). Events and
 * deliveries are left out (they name recipients); a cause naming a table the caller may not read
 * says "an upstream table", as health reasons do.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireCaller } from './caller.ts';
import { redactHealthReason } from './routes/health-routes.ts';
import { authenticatedErrors, bearerSecurity } from './schemas.ts';

const incidentSchema = z.object({
  id: z.string(),
  kind: z.string().describe('the kind of the event that opened it: task_failed, sla_missed, …'),
  severity: z.string(),
  table: z.string().optional(),
  task: z.string().optional(),
  cause: z.string().describe('a table the caller may not read is named "an upstream table"'),
  status: z.enum(['open', 'resolved']),
  openedAt: z.string(),
  notifiedAt: z.string(),
  resolvedAt: z.string().optional(),
  eventCount: z.number().int(),
});

export const incidentsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/incidents',
    {
      schema: {
        summary: 'Incidents on the tables the caller may read, newest first (default: open ones)',
        tags: ['health'],
        security: bearerSecurity,
        querystring: z.object({
          status: z.enum(['open', 'resolved']).default('open'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ incidents: z.array(incidentSchema) }), 401: authenticatedErrors[401] },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const reports = await caller.platform.catalog.incidents({
        status: request.query.status,
        limit: request.query.limit,
      });
      const incidents = [];
      for (const { events: _events, deliveries: _deliveries, ...incident } of reports) {
        // An incident without a table (a task's) shows when the caller reads the task's output.
        const target =
          incident.table ??
          caller.platform.definitions.tasks.find((task) => task.name === incident.task)?.target;
        if (target && (await caller.sees(target)))
          incidents.push({ ...incident, cause: await redactHealthReason(caller, incident.cause) });
      }
      return { incidents };
    },
  );
};
