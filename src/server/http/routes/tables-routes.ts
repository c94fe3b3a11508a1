/**
 * Tables as the caller sees them: search, detail (schema with sensitivity and the mask applied to
 * this principal, current version, health), versions and their validation results. A table the
 * caller may not read answers 404 exactly like an unknown one.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CheckResult, Version } from '../../../model/index.ts';
import type { VisibleTable } from '../../../read-path/visible-catalog.ts';
import { requireCaller, tableNotFound, type Caller } from '../caller.ts';
import {
  authenticatedErrors,
  bearerSecurity,
  tableNameParams,
  checkResultSchema,
  tableDetailSchema,
  tableSummarySchema,
  versionSummarySchema,
} from '../schemas.ts';
import { redactHealthReason } from './health-routes.ts';

const searchQuery = z.object({
  search: z
    .string()
    .max(200)
    .optional()
    .describe('only tables whose name, owner, description or visible columns contain this text'),
});

export const tablesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/tables',
    {
      schema: {
        summary: 'Tables the caller may read',
        tags: ['tables'],
        security: bearerSecurity,
        querystring: searchQuery,
        response: { 200: z.object({ tables: z.array(tableSummarySchema) }), 401: authenticatedErrors[401] },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const needle = request.query.search?.toLowerCase();
      const tables = (await caller.view()).filter((table) => !needle || searchText(table).includes(needle));
      return {
        tables: tables.map((table) => ({
          name: table.name,
          owner: table.owner,
          ...(table.description ? { description: table.description } : {}),
          ...(table.currentVersion !== undefined ? { currentVersion: table.currentVersion } : {}),
        })),
      };
    },
  );

  app.get(
    '/tables/:name',
    {
      schema: {
        summary: 'A table: description, owner, schema as the caller reads it, current version, health',
        tags: ['tables'],
        security: bearerSecurity,
        params: tableNameParams,
        response: { 200: tableDetailSchema, ...authenticatedErrors },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const table = await caller.table(request.params.name);
      const { current } = await caller.platform.catalog.table(table.name);
      const health = await caller.platform.catalog.tableHealth(table.name);
      return {
        name: table.name,
        owner: table.owner,
        ...(table.description ? { description: table.description } : {}),
        rowFiltered: table.rowFiltered,
        columns: table.columns,
        ...(current ? { currentVersion: await versionSummary(caller, current) } : {}),
        health: {
          state: health.health,
          reason: await redactHealthReason(caller, health.reason),
        },
      };
    },
  );

  app.get(
    '/tables/:name/versions',
    {
      schema: {
        summary: "A table's published versions, newest first",
        tags: ['tables'],
        security: bearerSecurity,
        params: tableNameParams,
        response: {
          200: z.object({ table: z.string(), versions: z.array(versionSummarySchema) }),
          ...authenticatedErrors,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const table = await caller.table(request.params.name);
      const versions = await caller.platform.catalog.versions(table.name);
      return {
        table: table.name,
        versions: await Promise.all(versions.map((version) => versionSummary(caller, version))),
      };
    },
  );

  app.get(
    '/tables/:name/validations',
    {
      schema: {
        summary: "Validation results of a table's versions, newest first",
        tags: ['tables'],
        security: bearerSecurity,
        params: tableNameParams,
        response: {
          200: z.object({
            table: z.string(),
            versions: z.array(
              z.object({
                version: z.number().int(),
                publishedAt: z.string(),
                checks: z.array(checkResultSchema),
              }),
            ),
          }),
          ...authenticatedErrors,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const table = await caller.table(request.params.name);
      const versions = await caller.platform.catalog.versions(table.name);
      const whole = await readsWhole(caller, table);
      return {
        table: table.name,
        versions: versions.map((version) => ({
          version: version.version,
          publishedAt: version.publishedAt,
          checks: version.checks.flatMap((check) => visibleCheck(check, table, whole)),
        })),
      };
    },
  );
};

/** A version without its storage keys; upstream versions only of tables the caller may read. */
async function versionSummary(caller: Caller, version: Version) {
  const upstream = [];
  for (const ref of version.upstream) if (await caller.sees(ref.table)) upstream.push(ref);
  return {
    version: version.version,
    schemaVersion: version.schemaVersion,
    rowCount: version.rowCount,
    bytes: version.bytes,
    publishedAt: version.publishedAt,
    runId: version.runId,
    task: version.task,
    ...(version.gitCommit ? { gitCommit: version.gitCommit } : {}),
    upstream,
    checks: { total: version.checks.length, failed: version.checks.filter((check) => !check.success).length },
  };
}

/**
 * Whether the caller reads the table as its checks saw it: no row filter, no denied column, no
 * mask. Otherwise check samples and observed values are withheld (they may show rows outside its
 * filter, or values it reads masked) and checks naming a column it may not see are left out.
 */
async function readsWhole(caller: Caller, table: VisibleTable): Promise<boolean> {
  const { table: record } = await caller.platform.catalog.table(table.name);
  return (
    !table.rowFiltered &&
    table.columns.length === record.fields.length &&
    table.columns.every((column) => column.mask === undefined)
  );
}

function visibleCheck(check: CheckResult, table: VisibleTable, whole: boolean): CheckResult[] {
  if (whole) return [check];
  const visible = new Set(table.columns.map((column) => column.name.toLowerCase()));
  const named = columnsNamed(check.args);
  if (named.some((column) => !visible.has(column.toLowerCase()))) return [];
  const { sample: _sample, observedValue: _observed, ...rest } = check;
  return [rest];
}

/** Column names a check's arguments name (`column`, `columns`, `column_list`, …). */
function columnsNamed(args: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('column')) continue;
    if (typeof value === 'string') names.push(value);
    if (Array.isArray(value)) names.push(...value.filter((item): item is string => typeof item === 'string'));
  }
  return names;
}

function searchText(table: VisibleTable): string {
  return [table.name, table.owner, table.description ?? '', ...table.columns.map((column) => column.name)]
    .join(' ')
    .toLowerCase();
}

export { tableNotFound };
