/**
 * `POST /api/v1/query`: governed SQL through `Platform.query` / `Platform.exportParquet` only,
 * answered as JSON, CSV, NDJSON or Parquet, streamed. The client closing its connection before
 * the answer is sent aborts the query (the engine statement is interrupted and the audit entry
 * says it was cancelled).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TesseraError } from '../../../diagnostics/errors.ts';
import { requireCaller } from '../caller.ts';
import type { HttpMetrics, QueryOutcomeLabel } from '../http-metrics.ts';
import { CONTENT_TYPES, encodeResult } from '../result-encoders.ts';
import { authenticatedErrors, bearerSecurity, errorBodySchema } from '../schemas.ts';

/** Rows returned when the request does not say. */
export const DEFAULT_QUERY_LIMIT = 10_000;
/** The most rows one request may ask for; more is a 400 (page with SQL, or export files). */
export const MAX_QUERY_LIMIT = 1_000_000;

export const queryBody = z.object({
  sql: z.string().min(1).max(1_000_000).describe('one SELECT over catalog tables'),
  format: z.enum(['json', 'csv', 'ndjson', 'parquet']).default('json'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_QUERY_LIMIT)
    .default(DEFAULT_QUERY_LIMIT)
    .describe(
      `at most this many rows (default ${DEFAULT_QUERY_LIMIT}); the answer says whether more existed`,
    ),
  parameters: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .max(10_000)
    .optional()
    .describe('values for $1…$n'),
});

export function queryRoutes(metrics: HttpMetrics): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/query',
      {
        schema: {
          summary: 'Run governed SQL; JSON {columns, rows, truncated}, CSV, NDJSON or Parquet',
          tags: ['query'],
          security: bearerSecurity,
          body: queryBody,
          response: {
            200: z
              .object({
                columns: z.array(z.object({ name: z.string(), type: z.string() })),
                rows: z.array(z.record(z.string(), z.unknown())),
                truncated: z.boolean(),
              })
              .describe('format json; csv, ndjson and parquet answer the same rows in their own media type'),
            400: errorBodySchema.describe(
              'invalid request, refused SQL (an unknown or ungranted table alike), or a failing query',
            ),
            401: authenticatedErrors[401],
            504: errorBodySchema.describe('the query ran longer than governance.query_timeout'),
          },
        },
      },
      async (request, reply) => {
        const caller = requireCaller(request);
        const { sql, format, limit, parameters } = request.body;
        const controller = new AbortController();
        // 'close' on the response before it ended: the client went away while the query ran.
        const abandoned = () => {
          if (!reply.raw.writableEnded) controller.abort(new Error('the client closed the connection'));
        };
        reply.raw.once('close', abandoned);
        // Gone before this handler ran (while the token was checked): 'close' has already fired.
        if (request.raw.socket?.destroyed) abandoned();
        const started = performance.now();
        const options = {
          token: caller.token,
          limit,
          signal: controller.signal,
          ...(parameters ? { parameters } : {}),
        };
        try {
          if (format === 'parquet') {
            const exported = await caller.platform.exportParquet(sql, options);
            metrics.query('allowed', (performance.now() - started) / 1000);
            const file = createReadStream(exported.path);
            // Disposed once streamed, or once the client is gone mid-file.
            file.once('close', () => void exported.dispose().catch(() => {}));
            return (
              reply
                .type(CONTENT_TYPES.parquet)
                .header('x-tessera-row-count', String(exported.rowCount))
                // Streamed bytes: the 200 schema documents the JSON form, which fastify does not serialize here.
                .send(file as never)
            );
          }
          const result = await caller.platform.query(sql, options);
          metrics.query('allowed', (performance.now() - started) / 1000);
          return reply
            .type(CONTENT_TYPES[format])
            .header('x-tessera-row-count', String(result.rows.length))
            .header('x-tessera-truncated', String(result.truncated === true))
            .send(Readable.from(encodeResult(result, format)) as never);
        } catch (error) {
          metrics.query(outcomeOf(error), (performance.now() - started) / 1000);
          throw error;
        }
      },
    );
  };
}

function outcomeOf(error: unknown): QueryOutcomeLabel {
  if (!(error instanceof TesseraError)) return 'failed';
  if (error.code === 'query_cancelled') return 'cancelled';
  if (error.code === 'query_timeout') return 'timeout';
  if (error.code === 'query_refused' || error.code === 'unauthorized') return 'refused';
  return 'failed';
}
