/**
 * The HTTP API (SPEC §6): fastify 5, one small plugin per resource, request schemas in zod that
 * also generate the OpenAPI document. Every `/api/v1` route needs a bearer token except the Git
 * push webhook (signed by GitHub) and signed file downloads (the URL is the credential).
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type FastifyPluginAsyncZod,
} from 'fastify-type-provider-zod';
import { NotFoundError } from '../../diagnostics/errors.ts';
import type { ServerHandle } from '../../platform.ts';
import { authenticate } from './caller.ts';
import { sendError } from './errors.ts';
import { HttpMetrics } from './http-metrics.ts';
import { auditRoutes } from './routes/audit-routes.ts';
import { fileDownloadRoutes, signedFilesRoutes } from './routes/files-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { hooksRoutes } from './routes/hooks-routes.ts';
import { lineageRoutes } from './routes/lineage-routes.ts';
import { queryRoutes } from './routes/query-routes.ts';
import { runsRoutes } from './routes/runs-routes.ts';
import { subscriptionsRoutes } from './routes/subscriptions-routes.ts';
import { tablesRoutes } from './routes/tables-routes.ts';
import { incidentsRoutes } from './incidents-routes.ts';
import { runActionsRoutes } from './run-actions.ts';
import { uiStatic } from './ui-static.ts';

export interface HttpApiOptions {
  /** Server log lines (unexpected errors with their stacks). Default: none. */
  log?: (message: string) => void;
}

/** The API as a fastify instance, not listening (tests call `inject()`; `startHttpApi` listens). */
export async function buildHttpApi(
  handle: ServerHandle,
  options: HttpApiOptions = {},
): Promise<FastifyInstance> {
  const log = options.log ?? (() => {});
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, return503OnClosing: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(sendError(log));
  app.setNotFoundHandler((request) => {
    throw new NotFoundError(
      `no route ${request.method} ${request.url.split('?')[0]}; GET /api/openapi.json lists them`,
    );
  });
  const metrics = new HttpMetrics(handle);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Tessera HTTP API',
        description: 'The governed catalog and SQL surface of `tessera serve` (docs/http-api.md)',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearerToken: { type: 'http', scheme: 'bearer', description: 'tessera token create' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  const authenticated: FastifyPluginAsyncZod = async (api) => {
    api.addHook('onRequest', authenticate(handle));
    await api.register(tablesRoutes);
    await api.register(signedFilesRoutes);
    await api.register(lineageRoutes);
    await api.register(runsRoutes);
    await api.register(subscriptionsRoutes);
    await api.register(healthRoutes);
    await api.register(auditRoutes);
    await api.register(queryRoutes(metrics));
    await api.register(runActionsRoutes);
    await api.register(incidentsRoutes);
  };
  await app.register(authenticated, { prefix: '/api/v1' });
  await app.register(hooksRoutes(handle), { prefix: '/api/v1' });
  await app.register(fileDownloadRoutes(handle), { prefix: '/api/v1' });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  await app.register(uiStatic);
  await app.ready();
  return app;
}
