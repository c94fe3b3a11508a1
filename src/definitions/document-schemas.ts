import { Cron } from 'croner';
import { z } from 'zod';
import { EVENT_KINDS, SOURCE_ENCODINGS } from '../model/index.ts';
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
  DatabaseSourceDef,
  EventStreamSourceDef,
  SalesforceSourceDef,
  SourceType,
  TableDef,
  TaskDef,
  ValidationDef,
} from '../model/index.ts';
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from './duration-parser.ts';

/**
 * Zod schemas for every YAML document kind, as users write them (snake_case keys), each
 * transforming into the Def shape minus what the loader adds afterwards (`at`, resolved schema).
 * Unknown keys are errors everywhere: a typo must never be silently ignored.
 *
 * The same schemas become the JSON Schemas editors check YAML with (`json-schemas.ts`). Where a
 * value is checked inside a transform, which JSON Schema cannot see, `asWritten` gives the JSON
 * Schema of what users write, or `writtenAs` the zod schema of it; `.describe()` explains a key
 * whose meaning its name does not tell.
 */

export const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
export const SIMPLE_NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;
const HTTP_URL_PATTERN = /^https?:\/\/\S+$/;
const EMAIL_ADDRESS_PATTERN = /^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/;
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

/**
 * For the JSON Schemas: the zod schema of what users write where the loader's schema takes
 * `z.unknown()` and checks it in a transform (schedules, channels).
 */
export const writtenAs = new WeakMap<z.core.$ZodType, z.core.$ZodType>();

/**
 * For the JSON Schemas: what a value checked in a transform or a refinement looks like as written,
 * as JSON Schema (zod's metadata, which `z.toJSONSchema` merges in; schemas derived from it keep it).
 */
function asWritten(schema: z.core.$ZodType, jsonSchema: z.core.JSONSchemaMeta): void {
  z.globalRegistry.add(schema, jsonSchema);
}

/**
 * The JSON Schema of a string matching `pattern`, or holding a `${VARIABLE}` the loader substitutes
 * before checking it (URLs, secrets and durations often differ per environment).
 */
function patternOrVariable(pattern: RegExp, description: string): z.core.JSONSchemaMeta {
  return {
    type: 'string',
    description,
    anyOf: [
      { pattern: pattern.source },
      { pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}', description: 'a `${VARIABLE}` from the environment' },
    ],
  };
}

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
asWritten(tableName, {
  pattern: TABLE_NAME_PATTERN.source,
  description: '`namespace.name`, e.g. `clinical.patients`',
});

const simpleName = z.string().refine((name) => SIMPLE_NAME_PATTERN.test(name), {
  message: 'names are lowercase letters, digits, `_` and `-`, starting with a letter (e.g. `clinical-data`)',
  params: { code: 'invalid-name' },
});
asWritten(simpleName, { pattern: SIMPLE_NAME_PATTERN.source });

/** A duration string (`30s`, `15m`, `26h`) → milliseconds. */
const duration = z.unknown().transform((value, ctx) => {
  if (value === undefined) return invalid(ctx, 'is required', 'missing-key');
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  return ms ?? invalid(ctx, `must be ${DURATION_HINT}`);
});
asWritten(duration, patternOrVariable(DURATION_PATTERN, DURATION_HINT));

const positiveDuration = duration.refine((ms) => ms > 0, {
  message: 'must be longer than zero',
  params: { code: 'invalid-value' },
});

const stringList = z.array(z.string());

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
asWritten(validation, {
  type: 'object',
  description:
    'one expectation and its arguments, e.g. `expect_column_values_to_be_unique: { column: id }`, or `sql:` returning the offending rows; `severity: warn` publishes and alerts instead of blocking',
  properties: {
    sql: {
      type: 'string',
      minLength: 1,
      description: 'a SELECT returning the offending rows, e.g. `select * from {{ this }} where x < 0`',
    },
    severity: { enum: ['error', 'warn'], default: 'error' },
  },
  // Any other key is the expectation's name; its value, the arguments.
  additionalProperties: { type: ['object', 'null'] },
  if: { properties: { severity: true }, required: ['severity'] },
  then: { minProperties: 2, maxProperties: 2 },
  else: { minProperties: 1, maxProperties: 1 },
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
  owner: z.string().describe('the owner (`kind: owner`) answerable for this table'),
  description: z.string().optional().describe("defaults to the schema message's comment"),
  schema: z
    .string()
    .optional()
    .describe(
      '`path.proto#package.Message`, the path relative to the repo; a projection may omit it to infer the schema from its SQL',
    ),
  schema_version: z.int().min(1).default(1).describe('raise to accept a breaking schema change'),
  freshness: freshness
    .optional()
    .describe(
      'how old the current version may grow before owners are warned, e.g. `{ warn_after: 26h, error_after: 48h }`',
    ),
  validations: z
    .array(validation)
    .default([])
    .describe('checks each new version must pass before it is published'),
  subscribers: stringList
    .default([])
    .describe('owners told when this table or anything upstream of it fails'),
  retention: strict({
    keep_versions: z.int().min(1).default(30).describe('older versions are deleted'),
  }).default({ keep_versions: 30 }),
  store: z
    .enum(['raw', 'deidentified'])
    .default('raw')
    .describe('`deidentified`: masked values are what is written, and raw values never land'),
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
asWritten(tableDocumentSchema, {
  title: 'Tessera table',
  description: 'A table: its owner, its schema (a `.proto` message), freshness, validations and retention.',
});

// ---------------------------------------------------------------------------------------------
// task

const SCHEDULE_HINT =
  'a cron expression ("0 * * * *"), @hourly, @daily, @weekly, @monthly, `{ every: 15m }`, `{ on: source_change, poll: 1m }` or `{ on: stream }` (nats, kafka)';

const everySchedule = strict({ every: positiveDuration });
const CRON_TEXT_PATTERN = new RegExp(`^(?:(?:${Object.keys(CRON_MACROS).join('|')})$|[^@])`);
const sourceChangeSchedule = strict({
  on: z.literal('source_change'),
  poll: positiveDuration.optional(),
});
const streamSchedule = strict({
  on: z.literal('stream').describe('event streams: one run after another under `serve`, a version per batch'),
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
    if ('on' in value && value.on === 'stream') {
      const parsed = streamSchedule.safeParse(value);
      if (!parsed.success) return (forward(ctx, parsed.error.issues), z.NEVER);
      return { kind: 'stream' };
    }
    if ('on' in value) {
      const parsed = sourceChangeSchedule.safeParse(value);
      if (!parsed.success) return (forward(ctx, parsed.error.issues), z.NEVER);
      return { kind: 'source_change', pollMs: parsed.data.poll ?? 60_000 };
    }
  }
  return invalid(ctx, `a schedule is ${SCHEDULE_HINT}`, 'invalid-schedule');
});
writtenAs.set(
  schedule,
  z
    .union([
      z.string().meta({ pattern: CRON_TEXT_PATTERN.source, description: 'a cron expression or a macro' }),
      everySchedule,
      sourceChangeSchedule,
      streamSchedule,
    ])
    .describe(`only ingestion tasks take one: ${SCHEDULE_HINT}`),
);

// Event streams (nats, kafka); which keys a stream type needs is checked by `checkStreamSource`.
const streamBatch = strict({
  max_rows: z.int().min(1).optional().describe('the most messages one run reads (default 10000)'),
  max_wait: positiveDuration
    .optional()
    .describe('how long one run waits for messages before publishing what it has (default 5s)'),
});
const streamSourceKeys = {
  stream: z.string().min(1).optional().describe('nats: the JetStream stream read'),
  subject: z
    .string()
    .min(1)
    .optional()
    .describe('nats: the subject read from the stream (wildcards allowed)'),
  topic: z.string().min(1).optional().describe('kafka: the topic read'),
  consumer: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'letters, digits, `_` and `-` only' })
    .optional()
    .describe('nats: the durable consumer; kafka: the consumer group (default `tessera-<task name>`)'),
  batch: streamBatch.optional().describe('event streams: the micro-batch one run reads'),
  format: z
    .enum(['json', 'protobuf'])
    .optional()
    .describe("event streams: messages are JSON objects (default) or the table's protobuf message"),
};
function eventStreamSource(
  raw: { [key in keyof typeof streamSourceKeys]?: z.output<(typeof streamSourceKeys)[key]> },
  url: string,
): EventStreamSourceDef {
  return {
    url,
    ...(raw.stream !== undefined ? { stream: raw.stream } : {}),
    ...(raw.subject !== undefined ? { subject: raw.subject } : {}),
    ...(raw.topic !== undefined ? { topic: raw.topic } : {}),
    ...(raw.consumer !== undefined ? { consumer: raw.consumer } : {}),
    ...(raw.batch !== undefined
      ? { batch: { maxRows: raw.batch.max_rows ?? 10_000, maxWaitMs: raw.batch.max_wait ?? 5_000 } }
      : {}),
    ...(raw.format !== undefined ? { format: raw.format } : {}),
  };
}

// Salesforce; which keys it needs, and that secrets come from `${VAR}`, is checked by `checkSalesforceSource`.
const SALESFORCE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const salesforceName = z
  .string()
  .regex(SALESFORCE_NAME, { message: 'an API name: letters, digits and `_`, starting with a letter' });
const salesforceSourceKeys = {
  object: salesforceName.optional().describe('salesforce: the object read, e.g. `Account` or `Patient__c`'),
  fields: z
    .array(salesforceName)
    .min(1)
    .optional()
    .describe("salesforce: the fields read (default: every field the object's describe lists)"),
  login_url: z
    .string()
    .regex(HTTP_URL_PATTERN, { message: 'an https:// URL, e.g. `https://login.salesforce.com`' })
    .optional()
    .describe('salesforce: where to log in (default `https://login.salesforce.com`)'),
  username: z.string().min(1).optional().describe('salesforce: the user that reads'),
  password: z
    .string()
    .min(1)
    .optional()
    .describe("salesforce: the user's password followed by its security token, as `${VAR}`"),
  client_id: z
    .string()
    .min(1)
    .optional()
    .describe("salesforce: a connected app's consumer key (OAuth 2.0 username-password flow)"),
  client_secret: z
    .string()
    .min(1)
    .optional()
    .describe("salesforce: the connected app's consumer secret, as `${VAR}`"),
  api_version: z
    .string()
    .regex(/^\d+\.0$/, { message: 'a Salesforce API version, e.g. `62.0`' })
    .optional()
    .describe('salesforce: the API version (default 62.0)'),
  bulk: z
    .enum(['auto', 'always', 'never'])
    .optional()
    .describe(
      'salesforce: read with a Bulk API 2.0 query job: above `bulk_threshold` records (auto), always, never',
    ),
  bulk_threshold: z
    .int()
    .min(0)
    .optional()
    .describe('salesforce: with `bulk: auto`, more records than this use the Bulk API (default 10000)'),
};
function salesforceSource(raw: {
  [key in keyof typeof salesforceSourceKeys]?: z.output<(typeof salesforceSourceKeys)[key]>;
}): SalesforceSourceDef {
  return {
    object: raw.object!,
    ...(raw.fields !== undefined ? { fields: raw.fields } : {}),
    loginUrl: (raw.login_url ?? 'https://login.salesforce.com').replace(/\/+$/, ''),
    username: raw.username ?? '',
    password: raw.password ?? '',
    ...(raw.client_id !== undefined ? { clientId: raw.client_id } : {}),
    ...(raw.client_secret !== undefined ? { clientSecret: raw.client_secret } : {}),
    apiVersion: raw.api_version ?? '62.0',
    bulk: raw.bulk ?? 'auto',
    bulkThreshold: raw.bulk_threshold ?? 10_000,
  };
}

const source = strict({
  type: z.enum(SOURCE_TYPES as [SourceType, ...SourceType[]]),
  uri: z.string().min(1).optional().describe('a path or glob relative to the repo, or the URL of the source'),
  options: z
    .object({
      encoding: z
        .enum(SOURCE_ENCODINGS)
        .optional()
        .describe(
          'the text encoding of csv, json and ndjson files (default `utf-8`); `utf-16` follows the byte-order mark',
        ),
    })
    .catchall(z.unknown())
    .default({})
    .describe('the reader\'s options, e.g. `{ delimiter: ",", header: true, encoding: latin-1 }`'),
  columns: z
    .record(z.string(), z.string())
    .default({})
    .describe('source column name → field name, where they differ beyond case'),
  // Database sources (postgres, mysql); checked further in database-source-linter.ts.
  url: z
    .string()
    .min(1)
    .optional()
    .describe('the server: postgres://…, mysql://…, nats://… or kafka://…; a password only as `${VAR}`'),
  table: z.string().min(1).optional().describe('the database table (`name` or `schema.name`) to read'),
  query: z.string().min(1).optional().describe('a SELECT to read instead of a `table`'),
  cursor: z.string().min(1).optional().describe('a column that grows with every change: read only past it'),
  ...streamSourceKeys,
  ...salesforceSourceKeys,
}).transform((raw): SourceDef => ({
  type: raw.type,
  ...(raw.uri !== undefined ? { uri: raw.uri } : {}),
  options: raw.options,
  columns: raw.columns,
  ...((raw.type === 'postgres' || raw.type === 'mysql') && raw.url !== undefined
    ? { database: databaseSource(raw) }
    : {}),
  ...((raw.type === 'nats' || raw.type === 'kafka') && raw.url !== undefined
    ? { eventStream: eventStreamSource(raw, raw.url) }
    : {}),
  ...(raw.type === 'salesforce' && raw.object !== undefined ? { salesforce: salesforceSource(raw) } : {}),
}));

function databaseSource(raw: {
  url?: string;
  table?: string;
  query?: string;
  cursor?: string;
}): DatabaseSourceDef {
  return {
    url: raw.url!,
    ...(raw.table !== undefined ? { table: raw.table } : {}),
    ...(raw.query !== undefined ? { query: raw.query } : {}),
    ...(raw.cursor !== undefined ? { cursor: raw.cursor } : {}),
  };
}

const badRows = strict({
  action: z
    .enum(['quarantine', 'fail'])
    .describe('`quarantine` sets bad rows aside with their reason; `fail` fails the run'),
  max_fraction: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('the share of bad rows above which the run fails (default: 1 to quarantine, 0 to fail)'),
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
  type: z
    .enum(['ingestion', 'projection'])
    .describe('`ingestion` reads a `source`; `projection` runs `sql` over other tables'),
  target: z.string().describe('the table (`namespace.name`) this task publishes'),
  source: source.optional().describe('where an ingestion reads from'),
  sql: z
    .string()
    .min(1)
    .optional()
    .describe("a projection's SELECT, inline or a `.sql` file relative to the repo"),
  mode: z
    .enum(['replace', 'append', 'merge'])
    .default('replace')
    .describe('`merge` upserts on the primary key of the target schema'),
  allow_empty: z
    .boolean()
    .optional()
    .describe('with `mode: replace`, publish an empty version when the source has no rows'),
  bad_rows: badRows.optional(),
  schedule: schedule.optional(),
  retries: strict({
    attempts: z.int().min(1).describe('all attempts, the first included'),
    backoff: duration.optional().describe('the wait between attempts (default 30s)'),
  }).optional(),
  timeout: positiveDuration.optional(),
  depends_on: stringList
    .default([])
    .describe('tables (`namespace.name`) or tasks to run after, besides those the SQL reads'),
  tags: z.array(simpleName).optional().describe('labels to select tasks by: `tessera run --select tag:NAME`'),
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
  // Only when set, so catalogs applied before the field existed plan no change.
  ...(raw.tags !== undefined && raw.tags.length > 0 ? { tags: [...new Set(raw.tags)] } : {}),
}));
asWritten(taskDocumentSchema, {
  title: 'Tessera task',
  description: 'A task that produces a table: an ingestion from a source, or a projection in SQL.',
});

// ---------------------------------------------------------------------------------------------
// owner

const events = z.array(z.enum(EVENT_NAMES)).optional();
const httpUrl = z.string().refine((url) => HTTP_URL_PATTERN.test(url), {
  message: 'must be an http:// or https:// URL',
  params: { code: 'invalid-value' },
});
asWritten(httpUrl, patternOrVariable(HTTP_URL_PATTERN, 'an http:// or https:// URL'));

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
writtenAs.set(
  channel,
  z
    .union(
      CHANNEL_TYPES.map((type) =>
        // `- console:` (no settings) is written with a null value.
        z.strictObject({
          [type]: type === 'console' ? channelSchemas[type].nullable() : channelSchemas[type],
        }),
      ),
    )
    .describe(
      'a one-key map naming the channel type, e.g. `email: { to: [team@example.org] }`; `on:` limits it to some event kinds',
    ),
);

/** `kind: owner`, without `at`. */
export const ownerDocumentSchema = strict({
  kind: z.literal('owner'),
  name: simpleName,
  description: z.string().optional(),
  members: stringList.default([]),
  channels: z.array(channel).default([]).describe('where notifications for this owner go'),
}).transform((raw): Omit<OwnerDef, 'at'> => ({
  name: raw.name,
  ...(raw.description !== undefined ? { description: raw.description } : {}),
  members: raw.members,
  channels: raw.channels,
}));
asWritten(ownerDocumentSchema, {
  title: 'Tessera owner',
  description: 'A team answerable for tables, and the channels its notifications go to.',
});

// ---------------------------------------------------------------------------------------------
// access

/** `kind: role`, without `at`; grants are flattened to table names and globs. */
export const roleDocumentSchema = strict({
  kind: z.literal('role'),
  name: simpleName,
  members: stringList.default([]).describe('`user:NAME`, `group:NAME` or a principal name'),
  grants: z
    .array(
      strict({
        tables: stringList.min(1).describe('table names or globs, e.g. `analytics.*`'),
      }),
    )
    .default([]),
  deny_columns: z
    .record(z.string(), stringList)
    .default({})
    .describe('table → columns hidden from this role'),
  row_filters: z
    .record(z.string(), z.string().min(1))
    .default({})
    .describe("table → a SQL predicate rows must pass, e.g. `state = principal_attr('state')`"),
  unmask: z
    .array(z.enum(SENSITIVITIES as [Sensitivity, ...Sensitivity[]]))
    .default([])
    .describe('sensitivities this role sees in clear'),
}).transform((raw): Omit<RoleDef, 'at'> => ({
  name: raw.name,
  members: raw.members,
  grants: raw.grants.flatMap((grant) => grant.tables),
  denyColumns: raw.deny_columns,
  rowFilters: raw.row_filters,
  unmask: raw.unmask,
}));
asWritten(roleDocumentSchema, {
  title: 'Tessera role',
  description:
    "Access: the tables a role's members may read, and which columns, rows and sensitivities they see.",
});

/** `kind: principal`, without `at`; attribute values are kept as strings. */
export const principalDocumentSchema = strict({
  kind: z.literal('principal'),
  name: z.string().min(1),
  groups: stringList.default([]),
  attributes: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({})
    .describe("read by row filters through `principal_attr('name')`"),
}).transform((raw): Omit<PrincipalDef, 'at'> => ({
  name: raw.name,
  groups: raw.groups,
  attributes: raw.attributes,
}));
asWritten(principalDocumentSchema, {
  title: 'Tessera principal',
  description: 'A person or a service, its groups and the attributes row filters read.',
});

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
asWritten(
  smtpUrl,
  patternOrVariable(/^smtps?:\/\/[^\s/]+/, '`smtp://user:password@host:port` or `smtps://…`'),
);

const emailAddress = z.string().refine((address) => EMAIL_ADDRESS_PATTERN.test(address.trim()), {
  message: 'must be an email address, e.g. `tessera@example.org` or `Tessera <tessera@example.org>`',
  params: { code: 'invalid-value' },
});
asWritten(
  emailAddress,
  patternOrVariable(EMAIL_ADDRESS_PATTERN, '`tessera@example.org` or `Tessera <tessera@example.org>`'),
);

/** `tessera.yaml` as written; defaults and env overrides are applied by the project settings loader. */
export const projectDocumentSchema = strict({
  name: z.string().min(1).optional().describe("the project's name (default: the folder's name)"),
  catalog: z
    .string()
    .min(1)
    .optional()
    .describe('`sqlite:PATH` (default `sqlite:.tessera/catalog.db`) or `postgres://…`'),
  storage: z.string().min(1).optional().describe('`file:PATH` (default `file:.tessera/warehouse`)'),
  engine: z.string().min(1).optional().describe('`duckdb` (the default)'),
  orchestrator: z.enum(['local', 'workers']).optional().describe('`local` (the default)'),
  governance: strict({
    profile: z.string().min(1).optional().describe('a lint profile: `hipaa-safe-harbor`'),
    hash_key: z
      .string()
      .optional()
      .describe('the key of `HASH` masks; keep it in an environment variable, e.g. `${TESSERA_HASH_KEY}`'),
    query_timeout: positiveDuration.optional().describe('the longest a query may run (default 5m)'),
    auditors: z
      .array(z.string().min(1))
      .optional()
      .describe('principals who may read the query audit log over the HTTP API (`GET /api/v1/audit`)'),
  }).optional(),
  notifications: strict({
    smtp: strict({ url: smtpUrl, from: emailAddress })
      .optional()
      .describe('the mail server email channels send through'),
    pagerduty: strict({ events_url: httpUrl }).optional(),
    ui_url: httpUrl.optional().describe("the web UI's address, for links in notifications"),
    reminders: strict({ every: positiveDuration })
      .optional()
      .describe('how often an open incident is sent again'),
  }).optional(),
  git: strict({
    webhook_secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'the secret push webhooks are signed with (`X-Hub-Signature-256`); only from the environment, e.g. `${TESSERA_WEBHOOK_SECRET}`',
      ),
  })
    .optional()
    .describe('Git sync: `tessera serve --watch-git`'),
  s3: strict({
    endpoint: httpUrl
      .optional()
      .describe('an S3-compatible server, e.g. `http://127.0.0.1:9000` (default: AWS S3)'),
    region: z.string().min(1).optional().describe('the region (default: `AWS_REGION` or `~/.aws/config`)'),
    path_style: z
      .boolean()
      .optional()
      .describe(
        'address buckets as `endpoint/bucket` rather than `bucket.endpoint` (most S3-compatible servers)',
      ),
  })
    .optional()
    .describe(
      'where `s3://` source uris are read; credentials come from the AWS environment variables and files',
    ),
  lineage: strict({
    openlineage: strict({
      url: httpUrl.describe(
        'where OpenLineage run events are POSTed, e.g. `http://marquez:5000/api/v1/lineage`',
      ),
      namespace: z.string().min(1).describe("the namespace of the runs' jobs and datasets, e.g. `tessera`"),
      api_key: z
        .string()
        .min(1)
        .optional()
        .describe(
          'sent as `Authorization: Bearer …`; only from the environment, e.g. `${OPENLINEAGE_API_KEY}`',
        ),
      timeout: positiveDuration.optional().describe('how long one delivery may take (default 5s)'),
    }).optional(),
  })
    .optional()
    .describe('where run lineage is sent: OpenLineage (Marquez, DataHub, OpenMetadata)'),
});
asWritten(projectDocumentSchema, {
  title: 'tessera.yaml',
  description: 'The settings of a Tessera catalog repo.',
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
