/**
 * Subscriptions (`tessera subscribe`) on the tables the caller may read. Subscribing or
 * unsubscribing an owner needs the caller to be one of that owner's `members`: a principal speaks
 * for its own teams, never signs another team up for notifications.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, TesseraError } from '../../../diagnostics/errors.ts';
import { EVENT_KINDS, type EventKind } from '../../../model/index.ts';
import { requireCaller, type Caller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity, errorBodySchema, subscriptionSchema } from '../schemas.ts';

const subscriptionBody = z.object({
  table: z.string().min(1).max(256),
  owner: z.string().min(1).max(256).describe('an owner (`kind: owner`) the caller is a member of'),
  events: z
    .array(z.enum(EVENT_KINDS as unknown as [EventKind, ...EventKind[]]))
    .min(1)
    .optional()
    .describe('default: every event kind'),
});

export const subscriptionsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/subscriptions',
    {
      schema: {
        summary: 'Subscriptions on the tables the caller may read',
        tags: ['subscriptions'],
        security: bearerSecurity,
        querystring: z.object({ table: z.string().max(256).optional() }),
        response: {
          200: z.object({ subscriptions: z.array(subscriptionSchema) }),
          401: authenticatedErrors[401],
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const all = await caller.platform.catalog.subscriptions(request.query.table);
      const subscriptions = [];
      for (const subscription of all)
        if (await caller.sees(subscription.table)) subscriptions.push(subscription);
      return { subscriptions };
    },
  );

  app.post(
    '/subscriptions',
    {
      schema: {
        summary: "Subscribe one of the caller's owners to a table's events",
        tags: ['subscriptions'],
        security: bearerSecurity,
        body: subscriptionBody,
        response: {
          201: subscriptionSchema,
          ...authenticatedErrors,
          403: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const caller = requireCaller(request);
      const { table, owner, events } = request.body;
      const visible = await caller.table(table);
      requireMember(caller, owner);
      const subscription = await caller.platform.subscribe({
        table: visible.name,
        owner,
        ...(events ? { events } : {}),
      });
      return reply.code(201).send(subscription);
    },
  );

  app.delete(
    '/subscriptions',
    {
      schema: {
        summary: "Unsubscribe one of the caller's owners from a table",
        tags: ['subscriptions'],
        security: bearerSecurity,
        querystring: z.object({ table: z.string().min(1).max(256), owner: z.string().min(1).max(256) }),
        response: {
          200: z.object({ unsubscribed: z.literal(true) }),
          ...authenticatedErrors,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const visible = await caller.table(request.query.table);
      requireMember(caller, request.query.owner);
      if (!(await caller.platform.unsubscribe(visible.name, request.query.owner))) {
        throw new NotFoundError(
          `${request.query.owner} is not subscribed to ${visible.name} (a subscription declared in the repo is changed there)`,
        );
      }
      return { unsubscribed: true as const };
    },
  );
};

function requireMember(caller: Caller, ownerName: string): void {
  const owner = caller.platform.definitions.owners.find((entry) => entry.name === ownerName);
  if (!owner)
    throw new NotFoundError(`owner ${ownerName} not found; owners are declared under owners/ in the repo`);
  const principal = caller.principal.toLowerCase();
  if (!owner.members.some((member) => member.trim().toLowerCase() === principal)) {
    throw new TesseraError(
      `${caller.principal} is not a member of owner ${ownerName}; only its members (owners/*.yaml) may change its subscriptions`,
      { code: 'forbidden' },
    );
  }
}
