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

// Answers: the same shapes as the model's records, without storage keys.

const sensitivity = z.enum(['PII', 'PHI', 'CONFIDENTIAL']);

export const tableSummarySchema = z.object({
  name: z.string(),
  owner: z.string(),
  description: z.string().optional(),
  currentVersion: z.number().int().optional(),
});

export const visibleColumnSchema = z.object({
  name: z.string(),
  type: z.string().describe('the engine type this principal reads (a masked column: its mask type)'),
  description: z.string().optional(),
  sensitivity: sensitivity.optional(),
  mask: z.string().optional().describe('the mask applied to this principal; absent when in clear'),
});

export const versionSummarySchema = z.object({
  version: z.number().int(),
  schemaVersion: z.number().int(),
  rowCount: z.number(),
  bytes: z.number(),
  publishedAt: z.string(),
  runId: z.string(),
  task: z.string(),
  gitCommit: z.string().optional(),
  upstream: z.array(z.object({ table: z.string(), version: z.number().int() })),
  checks: z.object({ total: z.number().int(), failed: z.number().int() }),
});

export const tableDetailSchema = z.object({
  name: z.string(),
  owner: z.string(),
  description: z.string().optional(),
  rowFiltered: z.boolean().describe('this principal reads only some rows'),
  columns: z.array(visibleColumnSchema),
  currentVersion: versionSummarySchema.optional(),
  health: z.object({ state: z.string(), reason: z.string() }),
});

export const checkResultSchema = z.object({
  expectation: z.string(),
  args: z.record(z.string(), z.unknown()),
  severity: z.string(),
  success: z.boolean(),
  observedValue: z.unknown().optional(),
  elementCount: z.number().optional(),
  missingCount: z.number().optional(),
  missingPercent: z.number().optional(),
  unexpectedCount: z.number().optional(),
  unexpectedPercent: z.number().optional(),
  sample: z.array(z.unknown()).optional().describe('only for principals that read the table whole'),
  error: z.string().optional(),
});

export const lineageEdgeSchema = z.object({
  fromTable: z.string(),
  fromColumn: z.string().optional(),
  toTable: z.string(),
  toColumn: z.string().optional(),
  task: z.string(),
});

export const taskSchema = z.object({
  name: z.string(),
  type: z.enum(['ingestion', 'projection']),
  target: z.string(),
  mode: z.string(),
  schedule: z.unknown().optional(),
});

export const runSchema = z.object({
  id: z.string(),
  task: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled']),
  attempt: z.number().int(),
  trigger: z.string().describe('manual, schedule, upstream:<table>@<version>, backfill'),
  queuedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  published: z.object({ table: z.string(), version: z.number().int() }).optional(),
  rowsWritten: z.number().optional(),
  badRows: z.number().optional(),
});

export const runLogLineSchema = z.object({
  runId: z.string(),
  at: z.string(),
  level: z.string(),
  message: z.string(),
});

export const subscriptionSchema = z.object({
  table: z.string(),
  owner: z.string(),
  events: z.array(z.string()).optional(),
  createdAt: z.string(),
});

const tableColumn = z.object({ table: z.string(), column: z.string() });

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  principal: z.string(),
  tokenId: z.string().optional(),
  sql: z.string().describe('as the principal wrote it'),
  outcome: z.enum(['allowed', 'refused', 'failed']),
  reason: z.string().optional(),
  tables: z.array(z.string()),
  columns: z.array(tableColumn),
  masks: z.array(tableColumn.extend({ mask: z.string() })),
  rowFilters: z.array(z.object({ table: z.string(), filter: z.string() })),
  rowsReturned: z.number().optional(),
  durationMs: z.number(),
});
