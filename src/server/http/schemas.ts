/**
 * The zod schemas shared by the routes: they validate requests and, through @fastify/swagger and
 * fastify-type-provider-zod, are the OpenAPI document (`GET /api/openapi.json`).
 */
import { z } from 'zod';

export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .describe('Every error: a stable code and a message saying what to do');

/** Errors an authenticated route may answer. */
export const authenticatedErrors = {
  401: errorBodySchema.describe('no token, or an unknown, expired or revoked one'),
  404: errorBodySchema.describe('not found, or not visible to this principal (the same answer)'),
} as const;

export const tableNameParams = z.object({
  name: z.string().min(1).max(256).describe('a catalog table, `namespace.table`'),
});

export const bearerSecurity = [{ bearerToken: [] }];

/** A 200 answer, documented by its description (its fields are in docs/http-api.md). */
export const answer = (description: string) => z.unknown().describe(description);
