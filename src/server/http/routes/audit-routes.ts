/**
 * The query audit log, for the principals `governance.auditors` in tessera.yaml names. Entries hold
 * other principals' SQL (which may quote values they looked up), so no one else reads them here:
 * the operator reads them with `tessera audit` on the machine.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TesseraError } from '../../../diagnostics/errors.ts';
import { requireCaller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity, errorBodySchema, auditEntrySchema } from '../schemas.ts';

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/audit',
    {
      schema: {
        summary: 'The query audit log, newest first (auditors only)',
        tags: ['audit'],
        security: bearerSecurity,
        querystring: z.object({
          principal: z.string().max(256).optional().describe("only this principal's entries"),
          limit: z.coerce.number().int().min(1).max(10_000).default(100),
        }),
        response: {
          200: z.object({ entries: z.array(auditEntrySchema) }),
          401: authenticatedErrors[401],
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const auditors = caller.platform.definitions.project.governance.auditors ?? [];
      if (!auditors.some((name) => name.toLowerCase() === caller.principal.toLowerCase())) {
        throw new TesseraError(
          `${caller.principal} may not read the audit log; list it under \`governance.auditors\` in tessera.yaml to allow it`,
          { code: 'forbidden' },
        );
      }
      const { principal, limit } = request.query;
      return { entries: await caller.platform.auditLog({ ...(principal ? { principal } : {}), limit }) };
    },
  );
};
