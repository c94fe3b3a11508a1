/**
 * Tasks, their runs and run logs. A task is visible when the caller may read its output table (a
 * task has one); its runs and their logs follow it. There is no network administrator: a principal
 * granted every table sees every task because it reads every output, not because of a role name.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../../diagnostics/errors.ts';
import type { Run, TaskDef } from '../../../model/index.ts';
import { requireCaller, type Caller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity, runLogLineSchema, runSchema, taskSchema } from '../schemas.ts';

const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
const taskParams = z.object({ name: z.string().min(1).max(256) });
const runParams = z.object({ id: z.string().min(1).max(256) });
const runsQuery = z.object({
  task: z.string().max(256).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe('at most this many, newest first'),
});

export const runsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/tasks',
    {
      schema: {
        summary: 'Tasks whose output table the caller may read',
        tags: ['tasks'],
        security: bearerSecurity,
        response: { 200: z.object({ tasks: z.array(taskSchema) }), 401: authenticatedErrors[401] },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const tasks = await visibleTasks(caller);
      return {
        tasks: tasks.map((task) => ({
          name: task.name,
          type: task.type,
          target: task.target,
          mode: task.mode,
          ...(task.schedule ? { schedule: task.schedule } : {}),
        })),
      };
    },
  );

  app.get(
    '/tasks/:name/runs',
    {
      schema: {
        summary: "A task's runs, newest first",
        tags: ['tasks'],
        security: bearerSecurity,
        params: taskParams,
        querystring: runsQuery.omit({ task: true }),
        response: { 200: z.object({ runs: z.array(runSchema) }), ...authenticatedErrors },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const task = await visibleTask(caller, request.params.name);
      const { status, limit } = request.query;
      return {
        runs: await caller.platform.catalog.runs({ task: task.name, ...(status ? { status } : {}), limit }),
      };
    },
  );

  app.get(
    '/runs',
    {
      schema: {
        summary: 'Runs of the tasks the caller may see, newest first',
        tags: ['runs'],
        security: bearerSecurity,
        querystring: runsQuery,
        response: { 200: z.object({ runs: z.array(runSchema) }), 401: authenticatedErrors[401] },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const { task, status, limit } = request.query;
      const visible = new Set((await visibleTasks(caller)).map((entry) => entry.name));
      // An invisible task answers an empty list, as an unknown one does.
      if (task !== undefined && !visible.has(task)) return { runs: [] };
      const runs = await caller.platform.catalog.runs({
        ...(task ? { task } : {}),
        ...(status ? { status } : {}),
      });
      return { runs: runs.filter((run) => visible.has(run.task)).slice(0, limit) };
    },
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        summary: 'One run',
        tags: ['runs'],
        security: bearerSecurity,
        params: runParams,
        response: { 200: runSchema, ...authenticatedErrors },
      },
    },
    async (request) => visibleRun(requireCaller(request), request.params.id),
  );

  app.get(
    '/runs/:id/logs',
    {
      schema: {
        summary: "A run's log lines",
        tags: ['runs'],
        security: bearerSecurity,
        params: runParams,
        response: {
          200: z.object({ run: z.string(), lines: z.array(runLogLineSchema) }),
          ...authenticatedErrors,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const run = await visibleRun(caller, request.params.id);
      return { run: run.id, lines: await caller.platform.catalog.runLog(run.id) };
    },
  );
};

async function visibleTasks(caller: Caller): Promise<TaskDef[]> {
  const readable = new Set((await caller.view()).map((table) => table.name.toLowerCase()));
  return caller.platform.definitions.tasks.filter((task) => readable.has(task.target.toLowerCase()));
}

async function visibleTask(caller: Caller, name: string): Promise<TaskDef> {
  const task = (await visibleTasks(caller)).find((entry) => entry.name === name);
  if (!task) throw new NotFoundError(`task ${name} not found; GET /api/v1/tasks lists the tasks you may see`);
  return task;
}

async function visibleRun(caller: Caller, id: string): Promise<Run> {
  const visible = new Set((await visibleTasks(caller)).map((task) => task.name));
  const run = (await caller.platform.catalog.runs()).find((entry) => entry.id === id);
  if (!run || !visible.has(run.task)) {
    throw new NotFoundError(`run ${id} not found; GET /api/v1/runs lists the runs you may see`);
  }
  return run;
}
