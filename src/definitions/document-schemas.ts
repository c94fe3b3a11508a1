import { Cron } from 'croner';
import { z } from 'zod';
import { EVENT_KINDS } from '../model/index.ts';
import type {
  BadRowsDef,
  ChannelDef,
  EventKind,
  OwnerDef,
  PrincipalDef,
  RoleDef,
  ScheduleDef,
  Sensitivity,
  SourceDef,
  SourceType,
  TableDef,
  TaskDef,
  ValidationDef,
} from '../model/index.ts';
import { DURATION_HINT, parseDuration } from './duration-parser.ts';

/**
 * Zod schemas for every YAML document kind, as users write them (snake_case keys), each
 * transforming into the Def shape minus what the loader adds afterwards (`at`, resolved schema).
 * Unknown keys are errors everywhere: a typo must never be silently ignored.
 */

export const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
export const SIMPLE_NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;
export const SOURCE_TYPES: readonly SourceType[] = [
  'csv',
  'json',
  'ndjson',
  'parquet',
  'postgres',
  'mysql',
  'nats',
  'kafka',
  'salesforce',
];
export const FILE_SOURCE_TYPES: readonly SourceType[] = ['csv', 'json', 'ndjson', 'parquet'];
export const EVENT_NAMES = EVENT_KINDS as readonly [EventKind, ...EventKind[]];
export const SENSITIVITIES: readonly Sensitivity[] = ['PII', 'PHI', 'CONFIDENTIAL'];
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
};

/** A strict object whose unknown-key issues list the keys it allows. */
function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `allowed keys: ${allowed}` : undefined),
  });
}

/** Re-raise a nested parse's issues inside a transform, so their paths extend the current one. */
function forward(ctx: z.core.$RefinementCtx, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) ctx.addIssue({ ...issue } as z.core.$ZodRawIssue);
}

function invalid(ctx: z.core.$RefinementCtx, message: string, code = 'invalid-value'): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, params: { code } });
  return z.NEVER;
}

const tableName = z.string().refine((name) => TABLE_NAME_PATTERN.test(name), {
  message:
    'table names are `namespace.name`, each part lowercase letters, digits and `_`, starting with a letter (e.g. `clinical.patients`)',
  params: { code: 'invalid-name' },
});

const simpleName = z.string().refine((name) => SIMPLE_NAME_PATTERN.test(name), {
  message: 'names are lowercase letters, digits, `_` and `-`, starting with a letter (e.g. `clinical-data`)',
  params: { code: 'invalid-name' },
});

/** A duration string (`30s`, `15m`, `26h`) → milliseconds. */
const duration = z.unknown().transform((value, ctx) => {
  if (value === undefined) return invalid(ctx, 'is required', 'missing-key');
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  return ms ?? invalid(ctx, `must be ${DURATION_HINT}`);
});

const positiveDuration = duration.refine((ms) => ms > 0, {
  message: 'must be longer than zero',
  params: { code: 'invalid-value' },
});

const stringList = z.array(z.string());
const stringMap = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------
// table

const validation = z.unknown().transform((entry, ctx): Omit<ValidationDef, 'at'> => {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return invalid(
      ctx,
      'each validation is a one-key map `{expectation_name: {arguments}}` (with an optional `severity`), or `{sql: "...", severity: warn}`',
      'invalid-validation',
    );
  }
  const record = entry as Record<string, unknown>;
  const severity = record.severity ?? 'error';
  if (severity !== 'error' && severity !== 'warn') {
    ctx.addIssue({
      code: 'custom',
      message: 'must be `error` or `warn`',
      path: ['severity'],
      params: { code: 'invalid-value' },
    });
  }
  const expectationKeys = Object.keys(record).filter((key) => key !== 'severity');
  if (expectationKeys.length !== 1) {
    return invalid(
      ctx,
      expectationKeys.length === 0
        ? 'a validation names one expectation, e.g. `- expect_column_values_to_be_unique: { column: id }`'
        : `a validation names exactly one expectation, found ${expectationKeys.map((key) => `\`${key}\``).join(', ')}; put each in its own list entry`,
      'invalid-validation',
    );
  }
  const expectation = expectationKeys[0]!;
  const args = record[expectation];
  if (expectation === 'sql') {
    if (typeof args !== 'string' || args.trim() === '') {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a SELECT returning the offending rows, e.g. `select * from {{ this }} where x < 0`',
        path: ['sql'],
        params: { code: 'invalid-validation' },
      });
      return z.NEVER;
    }
    return { expectation, args: { sql: args }, severity: severity as 'error' | 'warn' };
  }
  if (args !== null && (typeof args !== 'object' || Array.isArray(args))) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a map of the expectation's arguments, e.g. \`{ column: patient_id }\``,
      path: [expectation],
      params: { code: 'invalid-validation' },
    });
    return z.NEVER;
  }
  return {
    expectation,
    args: { ...((args ?? {}) as Record<string, unknown>) },
    severity: severity as 'error' | 'warn',
  };
});

const freshness = strict({
  warn_after: positiveDuration.optional(),
  error_after: positiveDuration.optional(),
})
  .superRefine((value, ctx) => {
    if (value.warn_after === undefined && value.error_after === undefined) {
      invalid(ctx, 'give `warn_after`, `error_after` or both, e.g. `{ warn_after: 26h, error_after: 48h }`');
    } else if (
      value.warn_after !== undefined &&
      value.error_after !== undefined &&
      value.warn_after > value.error_after
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'must not be longer than `error_after`',
        path: ['warn_after'],
        params: { code: 'invalid-value' },
      });
    }
  })
  .transform((value) => ({
    ...(value.warn_after !== undefined ? { warnAfterMs: value.warn_after } : {}),
    ...(value.error_after !== undefined ? { errorAfterMs: value.error_after } : {}),
  }));

/** `kind: table`, without `at` and the resolved `schema`. */
export const tableDocumentSchema = strict({
  kind: z.literal('table'),
  name: tableName,
  owner: z.string(),
  description: z.string().optional(),
  schema: z.string().optional(),
  schema_version: z.int().min(1).default(1),
  freshness: freshness.optional(),
  validations: z.array(validation).default([]),
  subscribers: stringList.default([]),
  retention: strict({ keep_versions: z.int().min(1).default(30) }).default({ keep_versions: 30 }),
  store: z.enum(['raw', 'deidentified']).default('raw'),
}).transform((raw): Omit<TableDef, 'at' | 'schema'> => ({
  name: raw.name,
  owner: raw.owner,
  ...(raw.description !== undefined ? { description: raw.description } : {}),
  ...(raw.schema !== undefined ? { schemaRef: raw.schema } : {}),
  schemaVersion: raw.schema_version,
  ...(raw.freshness !== undefined ? { freshness: raw.freshness } : {}),
  validations: raw.validations as ValidationDef[],
  subscribers: raw.subscribers,
  retention: { keepVersions: raw.retention.keep_versions },
  store: raw.store,
}));

// ---------------------------------------------------------------------------------------------
// task

const SCHEDULE_HINT =
  'a cron expression ("0 * * * *"), @hourly, @daily, @weekly, @monthly, `{ every: 15m }` or `{ on: source_change, poll: 1m }`';

const everySchedule = strict({ every: positiveDuration });
const sourceChangeSchedule = strict({
  on: z.literal('source_change'),
  poll: positiveDuration.optional(),
});

const schedule = z.unknown().transform((value, ctx): ScheduleDef => {
  if (typeof value === 'string') {
    const expression = CRON_MACROS[value.trim()] ?? value.trim();
    if (expression.startsWith('@')) {
      return invalid(ctx, `unknown schedule macro \`${value}\`; use ${SCHEDULE_HINT}`, 'invalid-schedule');
    }
    try {
      new Cron(expression, { paused: true });
    } catch (error) {
      return invalid(
        ctx,
        `\`${value}\` is not a valid cron expression (${(error as Error).message}); use ${SCHEDULE_HINT}`,
        'invalid-schedule',
      );
    }
    return { kind: 'cron', expression };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if ('every' in value) {
      const parsed = everySchedule.safeParse(value);
      if (!parsed.success) return (forward(ctx, parsed.error.issues), z.NEVER);
      return { kind: 'every', intervalMs: parsed.data.every };
    }
    if ('on' in value) {
      const parsed = sourceChangeSchedule.safeParse(value);
      if (!parsed.success) return (forward(ctx, parsed.error.issues), z.NEVER);
      return { kind: 'source_change', pollMs: parsed.data.poll ?? 60_000 };
    }
  }
  return invalid(ctx, `a schedule is ${SCHEDULE_HINT}`, 'invalid-schedule');
});

const source = strict({
  type: z.enum(SOURCE_TYPES as [SourceType, ...SourceType[]]),
  uri: z.string().min(1).optional(),
  options: stringMap.default({}),
  columns: z.record(z.string(), z.string()).default({}),
}).transform((raw): SourceDef => ({
  type: raw.type,
  ...(raw.uri !== undefined ? { uri: raw.uri } : {}),
  options: raw.options,
  columns: raw.columns,
}));

const badRows = strict({
  action: z.enum(['quarantine', 'fail']),
  max_fraction: z.number().min(0).max(1).optional(),
}).transform((raw): BadRowsDef => ({
  action: raw.action,
  // Quarantining exists to set bad rows aside and carry on, so without a threshold nothing fails;
  // `fail` fails on the first bad row.
  maxFraction: raw.max_fraction ?? (raw.action === 'quarantine' ? 1 : 0),
}));

/** `kind: task`, without `at`; a projection's `sql` is still as written (inline text or a `.sql` path). */
export const taskDocumentSchema = strict({
  kind: z.literal('task'),
  name: simpleName,
  type: z.enum(['ingestion', 'projection']),
  target: z.string(),
  source: source.optional(),
  sql: z.string().min(1).optional(),
  mode: z.enum(['replace', 'append', 'merge']).default('replace'),
  allow_empty: z.boolean().optional(),
  bad_rows: badRows.optional(),
  schedule: schedule.optional(),
  retries: strict({ attempts: z.int().min(1), backoff: duration.optional() }).optional(),
  timeout: positiveDuration.optional(),
  depends_on: stringList.default([]),
}).transform((raw): Omit<TaskDef, 'at'> => ({
  name: raw.name,
  type: raw.type,
  target: raw.target,
  ...(raw.source !== undefined ? { source: raw.source } : {}),
  ...(raw.sql !== undefined ? { sql: raw.sql } : {}),
  mode: raw.mode,
  // Only when set, so catalogs applied before the field existed plan no change.
  ...(raw.allow_empty ? { allowEmpty: true } : {}),
  badRows: raw.bad_rows ?? { action: 'fail', maxFraction: 0 },
  ...(raw.schedule !== undefined ? { schedule: raw.schedule } : {}),
  retries: { attempts: raw.retries?.attempts ?? 1, backoffMs: raw.retries?.backoff ?? 30_000 },
  ...(raw.timeout !== undefined ? { timeoutMs: raw.timeout } : {}),
  dependsOn: raw.depends_on,
}));

// ---------------------------------------------------------------------------------------------
// owner

const events = z.array(z.enum(EVENT_NAMES)).optional();
const httpUrl = z.string().refine((url) => /^https?:\/\/\S+$/.test(url), {
  message: 'must be an http:// or https:// URL',
  params: { code: 'invalid-value' },
});

const channelSchemas = {
  slack: strict({ webhook: httpUrl, on: events }).transform((raw): ChannelDef => ({
    type: 'slack',
    webhook: raw.webhook,
    ...(raw.on ? { on: raw.on } : {}),
  })),
  email: strict({ to: z.union([z.string(), stringList.min(1)]), on: events }).transform(
    (raw): ChannelDef => ({
      type: 'email',
      to: typeof raw.to === 'string' ? [raw.to] : raw.to,
      ...(raw.on ? { on: raw.on } : {}),
    }),
  ),
  pagerduty: strict({ routing_key: z.string().min(1), on: events }).transform((raw): ChannelDef => ({
    type: 'pagerduty',
    routingKey: raw.routing_key,
    ...(raw.on ? { on: raw.on } : {}),
  })),
  webhook: strict({ url: httpUrl, secret: z.string().min(1).optional(), on: events }).transform(
    (raw): ChannelDef => ({
      type: 'webhook',
      url: raw.url,
      ...(raw.secret !== undefined ? { secret: raw.secret } : {}),
      ...(raw.on ? { on: raw.on } : {}),
    }),
  ),
  console: strict({ on: events }).transform((raw): ChannelDef => ({
    type: 'console',
    ...(raw.on ? { on: raw.on } : {}),
  })),
} as const;
const CHANNEL_TYPES = Object.keys(channelSchemas) as (keyof typeof channelSchemas)[];

const channel = z.unknown().transform((entry, ctx): ChannelDef => {
  const keys = entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? Object.keys(entry) : [];
  const type = keys[0] as keyof typeof channelSchemas | undefined;
  if (keys.length !== 1 || !type || !CHANNEL_TYPES.includes(type)) {
    return invalid(
      ctx,
      `each channel is a one-key map naming its type: ${CHANNEL_TYPES.join(', ')} (e.g. \`- email: { to: [team@example.org] }\`)`,
    );
  }
  const parsed = channelSchemas[type].safeParse((entry as Record<string, unknown>)[type] ?? {});
  if (!parsed.success) {
    forward(
      ctx,
      parsed.error.issues.map((issue) => ({ ...issue, path: [type, ...issue.path] })),
    );
    return z.NEVER;
  }
  return parsed.data;
});

/** `kind: owner`, without `at`. */
export const ownerDocumentSchema = strict({
  kind: z.literal('owner'),
  name: simpleName,
  description: z.string().optional(),
  members: stringList.default([]),
  channels: z.array(channel).default([]),
}).transform((raw): Omit<OwnerDef, 'at'> => ({
  name: raw.name,
  ...(raw.description !== undefined ? { description: raw.description } : {}),
  members: raw.members,
  channels: raw.channels,
}));

// ---------------------------------------------------------------------------------------------
// access

/** `kind: role`, without `at`; grants are flattened to table names and globs. */
export const roleDocumentSchema = strict({
  kind: z.literal('role'),
  name: simpleName,
  members: stringList.default([]),
  grants: z.array(strict({ tables: stringList.min(1) })).default([]),
  deny_columns: z.record(z.string(), stringList).default({}),
  row_filters: z.record(z.string(), z.string().min(1)).default({}),
  unmask: z.array(z.enum(SENSITIVITIES as [Sensitivity, ...Sensitivity[]])).default([]),
}).transform((raw): Omit<RoleDef, 'at'> => ({
  name: raw.name,
  members: raw.members,
  grants: raw.grants.flatMap((grant) => grant.tables),
  denyColumns: raw.deny_columns,
  rowFilters: raw.row_filters,
  unmask: raw.unmask,
}));

/** `kind: principal`, without `at`; attribute values are kept as strings. */
export const principalDocumentSchema = strict({
  kind: z.literal('principal'),
  name: z.string().min(1),
  groups: stringList.default([]),
  attributes: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({}),
}).transform((raw): Omit<PrincipalDef, 'at'> => ({
  name: raw.name,
  groups: raw.groups,
  attributes: raw.attributes,
}));

// ---------------------------------------------------------------------------------------------
// tessera.yaml

// Messages never echo the URL: it holds the SMTP password.
const smtpUrl = z.string().refine(
  (url) => {
    try {
      const parsed = new URL(url);
      return (parsed.protocol === 'smtp:' || parsed.protocol === 'smtps:') && parsed.hostname !== '';
    } catch {
      return false;
    }
  },
  {
    message:
      'must be `smtp://user:password@host:port` or `smtps://user:password@host:465`; keep the password in an environment variable, e.g. `url: "${SMTP_URL}"`',
    params: { code: 'invalid-value' },
  },
);

const emailAddress = z
  .string()
  .refine((address) => /^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/.test(address.trim()), {
    message: 'must be an email address, e.g. `tessera@example.org` or `Tessera <tessera@example.org>`',
    params: { code: 'invalid-value' },
  });

/** `tessera.yaml` as written; defaults and env overrides are applied by the project settings loader. */
export const projectDocumentSchema = strict({
  name: z.string().min(1).optional(),
  catalog: z.string().min(1).optional(),
  storage: z.string().min(1).optional(),
  engine: z.string().min(1).optional(),
  orchestrator: z.enum(['local', 'workers']).optional(),
  governance: strict({
    profile: z.string().min(1).optional(),
    hash_key: z.string().optional(),
    query_timeout: positiveDuration.optional(),
  }).optional(),
  notifications: strict({
    smtp: strict({ url: smtpUrl, from: emailAddress }).optional(),
    pagerduty: strict({ events_url: httpUrl }).optional(),
    ui_url: httpUrl.optional(),
    reminders: strict({ every: positiveDuration }).optional(),
  }).optional(),
  git: strict({
    /** `X-Hub-Signature-256` of push webhooks is checked against it; given as `${VAR}`. */
    webhook_secret: z.string().min(1).optional(),
  }).optional(),
});

/** The kinds of catalog documents and the schema of each. */
export const documentSchemas = {
  table: tableDocumentSchema,
  task: taskDocumentSchema,
  owner: ownerDocumentSchema,
  role: roleDocumentSchema,
  principal: principalDocumentSchema,
} as const;

export type DocumentKind = keyof typeof documentSchemas;
export const DOCUMENT_KINDS = Object.keys(documentSchemas) as DocumentKind[];
