/**
 * Operating a task over HTTP: rerun it, backfill it, cancel one of its runs. Only its owners may:
 * a principal listed in `members` of the owner (`kind: owner`) of the task's output table, and who
 * may read that table. A read grant is not an operating right — the analyst reads
 * clinical.patients but must not re-ingest it — and owners are who the platform already asks
 * about a task (they are told when it fails; they may subscribe their team). Runs are queued on
 * the serve that answers (`Platform.runOrQueue`), which runs them as the scheduler would.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, TesseraError } from '../../diagnostics/errors.ts';
import type { Run, TaskDef } from '../../model/index.ts';
import { requireCaller, type Caller } from './caller.ts';
import { authenticatedErrors, bearerSecurity, errorBodySchema, runSchema } from './schemas.ts';

const taskParams = z.object({ name: z.string().min(1).max(256).describe('a task name') });
const runParams = z.object({ id: z.string().min(1).max(256).describe('a run id') });
const runBody = z
  .object({
    downstream: z.boolean().default(true).describe('also run every task downstream (default true)'),
  })
  .default({ downstream: true });

const actionsSchema = z.object({
  allowed: z.boolean().describe('whether the caller may rerun, backfill and cancel'),
  reason: z.string().describe('why, naming the owner whose members may'),
});
const queuedSchema = z.object({
  queued: z.boolean().describe('false when no serve took the runs and they ran in this request'),
  runs: z.array(runSchema),
});
const cancelSchema = z.object({
  outcome: z
    .string()
    .describe('what became of the run: cancelled while queued, asked to stop, already ended'),
  run: runSchema,
});

const actionErrors = {
  ...authenticatedErrors,
  403: errorBodySchema.describe('the caller is not a member of the task’s owner'),
} as const;

/** Whether the caller may operate `task`, and why not when it may not. */
export function mayOperate(caller: Caller, task: TaskDef): { allowed: boolean; reason: string } {
  const definitions = caller.platform.definitions;
  const owner = definitions.tables.find((table) => table.name === task.target)?.owner;
  const team = definitions.owners.find((entry) => entry.name === owner);
  const principal = caller.principal.toLowerCase();
  if (team?.members.some((member) => member.toLowerCase() === principal)) {
    return { allowed: true, reason: `you are a member of ${team.name}, which owns ${task.target}` };
  }
  return {
    allowed: false,
    reason: `only members of ${owner ?? 'the owner'} (the owner of ${task.target}) may rerun, backfill or cancel ${task.name}`,
  };
}

/** A task whose output table the caller may read; 404 like an unknown task otherwise. */
async function visibleTask(caller: Caller, name: string): Promise<TaskDef> {
  const task = caller.platform.definitions.tasks.find((entry) => entry.name === name);
  if (!task || !(await caller.sees(task.target))) {
    throw new NotFoundError(`task ${name} not found; GET /api/v1/tasks lists the tasks you may see`);
  }
  return task;
}

function requireOperator(caller: Caller, task: TaskDef): void {
  const { allowed, reason } = mayOperate(caller, task);
  if (!allowed) throw new TesseraError(reason, { code: 'forbidden' });
}

export const runActionsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/tasks/:name/actions',
    {
      schema: {
        summary: 'Whether the caller may rerun, backfill and cancel the runs of this task, and why',
        tags: ['tasks'],
        security: bearerSecurity,
        params: taskParams,
        response: { 200: actionsSchema, ...authenticatedErrors },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      return mayOperate(caller, await visibleTask(caller, request.params.name));
    },
  );

  const queue =
    (trigger: 'manual' | 'backfill') =>
    async (request: { params: { name: string }; body: { downstream: boolean } }, caller: Caller) => {
      const task = await visibleTask(caller, request.params.name);
      requireOperator(caller, task);
      const outcome = await caller.platform.runOrQueue({
        tasks: [task.name],
        downstream: request.body.downstream,
        trigger,
      });
      return { queued: !outcome.ended, runs: outcome.runs };
    };

  app.post(
    '/tasks/:name/runs',
    {
      schema: {
        summary: 'Rerun a task now (queued on this server), and what is downstream of it',
        tags: ['tasks'],
        security: bearerSecurity,
        params: taskParams,
        body: runBody,
        response: { 202: queuedSchema, ...actionErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await queue('manual')(request, requireCaller(request))),
  );

  app.post(
    '/tasks/:name/backfill',
    {
      schema: {
        summary: 'Backfill a task (a run with trigger `backfill`), and what is downstream of it',
        tags: ['tasks'],
        security: bearerSecurity,
        params: taskParams,
        body: runBody,
        response: { 202: queuedSchema, ...actionErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await queue('backfill')(request, requireCaller(request))),
  );

  app.post(
    '/runs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued run, or ask the server running it to stop',
        tags: ['runs'],
        security: bearerSecurity,
        params: runParams,
        response: { 200: cancelSchema, ...actionErrors },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const run: Run | undefined = (await caller.platform.catalog.runs()).find(
        (entry) => entry.id === request.params.id,
      );
      const task = run && caller.platform.definitions.tasks.find((entry) => entry.name === run.task);
      if (!run || !task || !(await caller.sees(task.target))) {
        throw new NotFoundError(
          `run ${request.params.id} not found; GET /api/v1/runs lists the runs you may see`,
        );
      }
      requireOperator(caller, task);
      return caller.platform.cancelRun(run.id, `cancelled over HTTP by ${caller.principal}`);
    },
  );
};
