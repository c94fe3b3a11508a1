/**
 * `tessera schema infer SOURCE`: sample a source through the ingestion readers (ingest/'s
 * `sampleSource`) and draft its `.proto`, table and task YAML (definitions/'s `draftSchemaFiles`),
 * printed or written into a catalog repo.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../diagnostics/errors.ts';
import { draftSchemaFiles, loadDefinitions, type SchemaDraft } from '../definitions/index.ts';
import { loadProjectSettings } from '../definitions/project-settings-loader.ts';
import { DuckdbEngine } from '../engines/duckdb/duckdb-engine.ts';
import { sampleSource } from '../ingest/index.ts';
import type { ProjectDef, SourceDef, SourceType, TaskDef } from '../model/index.ts';

export interface InferSchemaRequest {
  /** The catalog repo whose settings (S3 endpoint) and tasks (`task`) apply. */
  repo: string;
  /** A path or glob, `s3://bucket/prefix/*.csv`, `postgres://…`, `mysql://…` or `nats://…`. */
  source?: string;
  /** Database sources: the table read. */
  dbTable?: string;
  /** Database sources: the query read. */
  query?: string;
  /** NATS: stream and subject. */
  stream?: string;
  subject?: string;
  /** Sample an existing ingestion task's source instead. */
  task?: string;
  /** The file format when the path's extension does not say it. */
  format?: string;
  /** Rows to sample. */
  sample: number;
  /** `namespace.name` of the drafted table. */
  name?: string;
  owner?: string;
  /** A catalog repo to write the files into; printed otherwise. */
  out?: string;
  force?: boolean;
}

export interface InferSchemaResult extends SchemaDraft {
  rowsSampled: number;
  /** Things the user must do or know (a password to set, a name that was guessed). */
  notes: string[];
  /** Files written under `out` (relative), when `out` was given. */
  written?: string[];
}

const DEFAULT_NAMESPACE = 'raw';
const FILE_FORMATS: readonly SourceType[] = ['csv', 'json', 'ndjson', 'parquet'];
const AT = { file: 'the schema infer flags', line: 1, column: 1 };

/** Sample the source, draft the files, and write them when `out` is given. */
export async function inferSchema(request: InferSchemaRequest): Promise<InferSchemaResult> {
  if (!Number.isInteger(request.sample) || request.sample < 1)
    throw new UsageError(`--sample must be a positive whole number of rows, not ${request.sample}`);
  const repo = resolve(request.repo);
  const plan = request.task !== undefined ? await planFromTask(request, repo) : planFromSource(request, repo);
  const project = plan.project ?? loadProjectSettings(repo, process.env, true).project;
  const engine = await DuckdbEngine.create({ threads: 1 });
  let rows: number;
  let columns;
  try {
    const session = await engine.openSession();
    try {
      const sample = await sampleSource({
        task: plan.sampleTask,
        project,
        repoRoot: repo,
        session,
        rows: request.sample,
        temporaryConsumer: plan.temporaryConsumer,
      });
      rows = sample.rows;
      columns = sample.columns;
    } finally {
      session.close();
    }
  } finally {
    await engine.close();
  }
  if (columns.length === 0) throw new UsageError(`${plan.label} has no columns to draft a schema from`);
  const owner = request.owner ?? (await ownerOf(request.out ? resolve(request.out) : repo)) ?? 'data-team';
  const draft = draftSchemaFiles({
    table: plan.table,
    owner,
    columns,
    rowsSampled: rows,
    source: plan.draftSource(request.out ? resolve(request.out) : undefined),
    sourceLabel: plan.label,
    ...(plan.mode ? { mode: plan.mode } : {}),
    ...(plan.withoutTask ? { withoutTask: true } : {}),
  });
  const result: InferSchemaResult = { ...draft, rowsSampled: rows, notes: plan.notes };
  if (request.out !== undefined)
    result.written = await writeDraft(resolve(request.out), draft, request.force);
  return result;
}

interface SamplingPlan {
  label: string;
  table: string;
  sampleTask: TaskDef;
  project?: ProjectDef;
  temporaryConsumer: boolean;
  mode?: 'append';
  withoutTask?: boolean;
  notes: string[];
  /** The task's `source` block as written in YAML, given the repo it goes into. */
  draftSource(out: string | undefined): Record<string, unknown>;
}

function task(source: SourceDef, target = 'raw.sample'): TaskDef {
  return {
    name: 'schema_infer',
    type: 'ingestion',
    target,
    source,
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: AT,
  };
}

function planFromSource(request: InferSchemaRequest, repo: string): SamplingPlan {
  const source = request.source;
  if (source === undefined || source === '')
    throw new UsageError(
      'name a SOURCE (a path, glob, s3://, postgres://, mysql:// or nats:// URL) or --task NAME',
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql' || scheme === 'mysql')
    return databasePlan(request, source);
  if (scheme === 'nats') return natsPlan(request, source);
  if (scheme !== undefined && scheme !== 's3' && scheme !== 'file')
    throw new UsageError(
      `cannot sample ${scheme}:// sources directly; use a path, s3://, postgres://, mysql:// or nats:// URL, or --task NAME for a task's source (kafka, salesforce…)`,
    );
  const type = fileFormatOf(source, request.format);
  const options: Record<string, unknown> = source.toLowerCase().endsWith('.tsv') ? { delimiter: '\t' } : {};
  const label = scheme === 's3' ? source : source.replace(/^file:\/\//, '');
  const absolute = scheme === 's3' ? source : resolve(label);
  const stem = basename(source)
    .replace(/\*.*$/, '')
    .replace(/\.[^.]*$/, '')
    .replace(/\.[^.]*$/, '');
  const table = request.name ?? `${DEFAULT_NAMESPACE}.${identifier(stem || 'sample')}`;
  return {
    label,
    table: checkedTableName(table),
    sampleTask: task({ type, uri: absolute, options, columns: {} }),
    temporaryConsumer: false,
    notes: request.name ? [] : [`table named ${table} after the file; --name ns.name names it`],
    draftSource: (out) => {
      let uri = absolute;
      if (scheme !== 's3') {
        const base = out ?? repo;
        const inside = relative(base, absolute);
        if (!inside.startsWith('..') && !isAbsolute(inside)) uri = inside;
      }
      return { type, uri, ...(type === 'csv' ? { options: { header: true, ...options } } : {}) };
    },
  };
}

function databasePlan(request: InferSchemaRequest, url: string): SamplingPlan {
  const type: SourceType = url.toLowerCase().startsWith('mysql') ? 'mysql' : 'postgres';
  if ((request.dbTable === undefined) === (request.query === undefined))
    throw new UsageError(`a ${type} source needs exactly one of --table TABLE and --query SQL`);
  const quote =
    type === 'mysql'
      ? (part: string) => `\`${part.replaceAll('`', '``')}\``
      : (part: string) => `"${part.replaceAll('"', '""')}"`;
  const relation =
    request.dbTable !== undefined
      ? request.dbTable.split('.').map(quote).join('.')
      : `(${request.query!.trim().replace(/;+\s*$/, '')}) AS tessera_sample`;
  const sampleQuery = `SELECT * FROM ${relation} LIMIT ${request.sample}`;
  const parts = request.dbTable?.split('.') ?? [];
  const defaultName =
    parts.length === 2
      ? `${identifier(parts[0]!)}.${identifier(parts[1]!)}`
      : `${DEFAULT_NAMESPACE}.${identifier(parts.at(-1) ?? 'query_rows')}`;
  const table = checkedTableName(request.name ?? defaultName);
  const notes: string[] = [];
  const draftUrl = withPasswordVariable(url, 'SOURCE_DB_PASSWORD', notes);
  if (draftUrl === undefined)
    throw new UsageError(`the ${type} source is not a URL; write it as ${type}://user@host:port/database`);
  if (!request.name) notes.push(`table named ${table} after the source; --name ns.name names it`);
  return {
    label: `${type} ${request.dbTable !== undefined ? `table ${request.dbTable}` : 'query'} at ${withoutPassword(url)}`,
    table,
    sampleTask: task({ type, options: {}, columns: {}, database: { url, query: sampleQuery } }),
    temporaryConsumer: false,
    notes,
    draftSource: () => ({
      type,
      url: draftUrl,
      ...(request.dbTable !== undefined ? { table: request.dbTable } : { query: request.query }),
    }),
  };
}

function natsPlan(request: InferSchemaRequest, url: string): SamplingPlan {
  if (!request.stream || !request.subject)
    throw new UsageError('a nats:// source needs --stream STREAM and --subject SUBJECT');
  const table = checkedTableName(
    request.name ?? `${DEFAULT_NAMESPACE}.${identifier(request.stream.toLowerCase())}`,
  );
  const notes: string[] = request.name
    ? []
    : [`table named ${table} after the stream; --name ns.name names it`];
  const draftUrl = withPasswordVariable(url, 'NATS_PASSWORD', notes);
  if (draftUrl === undefined)
    throw new UsageError('the nats source is not a URL; write it as nats://host:4222');
  return {
    label: `stream ${request.stream} (${request.subject}) at ${withoutPassword(url)}`,
    table,
    sampleTask: task({
      type: 'nats',
      options: {},
      columns: {},
      eventStream: {
        url,
        stream: request.stream,
        subject: request.subject,
        consumer: temporaryConsumerName(),
        batch: { maxRows: request.sample, maxWaitMs: 2000 },
      },
    }),
    temporaryConsumer: true,
    mode: 'append',
    notes,
    draftSource: () => ({
      type: 'nats',
      url: draftUrl,
      stream: request.stream,
      subject: request.subject,
    }),
  };
}

async function planFromTask(request: InferSchemaRequest, repo: string): Promise<SamplingPlan> {
  const { definitions } = await loadDefinitions(repo, { devMode: true, cache: false });
  const found = definitions.tasks.find((candidate) => candidate.name === request.task);
  if (!found)
    throw new UsageError(
      `no task ${request.task} in ${repo} (or it has errors: run tessera validate); tasks: ${
        definitions.tasks
          .filter((candidate) => candidate.type === 'ingestion')
          .map((candidate) => candidate.name)
          .join(', ') || 'none'
      }`,
    );
  if (found.type !== 'ingestion' || !found.source)
    throw new UsageError(
      `task ${found.name} is a ${found.type}; schema infer samples an ingestion task's source`,
    );
  const source: SourceDef = { ...found.source };
  let temporaryConsumer = false;
  if (source.eventStream) {
    // Its own consumer, so the task's consumer position and pending messages are untouched.
    source.eventStream = {
      ...source.eventStream,
      consumer: temporaryConsumerName(),
      batch: { maxRows: request.sample, maxWaitMs: 2000 },
    };
    temporaryConsumer = true;
  }
  if (source.database) {
    source.database = { url: source.database.url, query: databaseSampleQuery(found, request.sample) };
  }
  const table = checkedTableName(request.name ?? found.target);
  return {
    label: `the source of task ${found.name}`,
    table,
    sampleTask: { ...found, source },
    project: definitions.project,
    temporaryConsumer,
    withoutTask: true,
    notes: [`task ${found.name} is kept as it is: no task file is drafted`],
    draftSource: () => ({}),
  };
}

function databaseSampleQuery(found: TaskDef, rows: number): string {
  const database = found.source!.database!;
  const mysql = found.source!.type === 'mysql';
  const quote = (part: string) =>
    mysql ? `\`${part.replaceAll('`', '``')}\`` : `"${part.replaceAll('"', '""')}"`;
  const relation =
    database.table !== undefined
      ? database.table.split('.').map(quote).join('.')
      : `(${(database.query ?? '').trim().replace(/;+\s*$/, '')}) AS tessera_sample`;
  return `SELECT * FROM ${relation} LIMIT ${rows}`;
}

function temporaryConsumerName(): string {
  return `tessera-schema-infer-${process.pid}-${Date.now().toString(36)}`;
}

function fileFormatOf(source: string, format: string | undefined): SourceType {
  if (format !== undefined) {
    if (!FILE_FORMATS.includes(format as SourceType))
      throw new UsageError(`--format must be one of ${FILE_FORMATS.join(', ')}, not ${format}`);
    return format as SourceType;
  }
  const name = source.toLowerCase().replace(/\.(gz|zst)$/, '');
  if (name.endsWith('.csv') || name.endsWith('.tsv')) return 'csv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.parquet')) return 'parquet';
  throw new UsageError(
    `cannot tell the format of ${source} from its extension; add --format csv|json|ndjson|parquet`,
  );
}

function identifier(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(name) ? name : `t_${name || 'sample'}`;
}

function checkedTableName(name: string): string {
  if (!/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(name))
    throw new UsageError(
      `--name ${name} is not a table name; write namespace.name in lowercase letters, digits and _ (e.g. clinical.patients)`,
    );
  return name;
}

/**
 * The URL as a task may hold it: a password becomes `${variable}` (a repo may hold none,
 * `plain-secret`) and a note says to set it. `undefined` when it is not a URL.
 */
function withPasswordVariable(url: string, variable: string, notes: string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!parsed.password) return url;
  parsed.password = 'TESSERA_PASSWORD_PLACEHOLDER';
  notes.push(`the source password is written as \${${variable}}: set that variable where tasks run`);
  return parsed.toString().replace('TESSERA_PASSWORD_PLACEHOLDER', `\${${variable}}`);
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The repo's only owner, when it declares exactly one. */
async function ownerOf(repo: string): Promise<string | undefined> {
  if (!existsSync(repo)) return undefined;
  try {
    const { definitions } = await loadDefinitions(repo, { devMode: true, cache: false });
    return definitions.owners.length === 1 ? definitions.owners[0]!.name : undefined;
  } catch {
    return undefined;
  }
}

async function writeDraft(out: string, draft: SchemaDraft, force: boolean | undefined): Promise<string[]> {
  const clashes = draft.files.filter((file) => existsSync(join(out, file.path))).map((file) => file.path);
  if (clashes.length > 0 && !force)
    throw new UsageError(`${out} already holds ${clashes.join(', ')}; add --force to replace them`);
  for (const file of draft.files) {
    await mkdir(dirname(join(out, file.path)), { recursive: true });
    await writeFile(join(out, file.path), file.text);
  }
  return draft.files.map((file) => file.path);
}
