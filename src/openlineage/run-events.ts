/**
 * Tessera's runs as OpenLineage `RunEvent`s (spec 2-0-2): the job is the task, the inputs the
 * upstream tables (with the versions read) or an ingestion's source, the output the target table
 * with its schema and, for projections, its column lineage.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type {
  Definitions,
  FieldDef,
  RunLifecycleEvent,
  SourceDef,
  TableDef,
  TaskDef,
  Version,
} from '../model/index.ts';
import { duckdbDialect } from '../engines/dialect.ts';
import { columnLineage } from '../sql/index.ts';

/** The OpenLineage spec version the events follow. */
export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACETS = 'https://openlineage.io/spec/facets';

/** What the events say produced them: a URL for Tessera and its version. */
export function producerOf(version: string): string {
  return `https://github.com/tessera-data/tessera/tree/v${version}`;
}

export type OpenLineageEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

export interface OpenLineageDataset {
  namespace: string;
  name: string;
  facets?: Record<string, unknown>;
  outputFacets?: Record<string, unknown>;
}

export interface OpenLineageRunEvent {
  eventType: OpenLineageEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets: Record<string, unknown> };
  job: { namespace: string; name: string; facets: Record<string, unknown> };
  inputs: OpenLineageDataset[];
  outputs: OpenLineageDataset[];
}

/**
 * A UUID for a Tessera run id (which is a timestamp and a random suffix, not a UUID): the same run
 * id gives the same UUID, as version-5 style (SHA-1, name-based) so START and COMPLETE agree.
 */
export function runUuid(runId: string): string {
  const bytes = createHash('sha1').update(`tessera-run:${runId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A URL without its password, token-like query parameters or fragment. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/([^/@\s:]+):[^/@\s]*@/, '//$1@');
  }
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|key|signature|credential|auth/i.test(key)) parsed.searchParams.delete(key);
  }
  parsed.hash = '';
  return parsed.toString();
}

export class RunEventBuilder {
  readonly #definitions: Definitions;
  readonly #namespace: string;
  readonly #producer: string;
  readonly #upstreamTables: (task: string) => string[];
  readonly #columnLineage = new Map<string, Promise<Record<string, unknown> | undefined>>();

  constructor(
    definitions: Definitions,
    options: { namespace: string; producer: string; upstreamTables: (task: string) => string[] },
  ) {
    this.#definitions = definitions;
    this.#upstreamTables = options.upstreamTables;
    this.#namespace = options.namespace;
    this.#producer = options.producer;
  }

  /** The event a run lifecycle event means; undefined for a run that never ran (skipped). */
  async build(event: RunLifecycleEvent): Promise<OpenLineageRunEvent | undefined> {
    const { run } = event;
    const task = this.#definitions.tasks.find((candidate) => candidate.name === run.task);
    if (!task) return undefined;
    const eventType = eventTypeOf(event);
    if (!eventType) return undefined;
    const table = this.#definitions.tables.find((candidate) => candidate.name === task.target);
    const version = event.type === 'finished' ? event.version : undefined;
    const runFacets: Record<string, unknown> = {
      tessera_run: this.#facet(`${this.#producer}/docs/openlineage.md#the-tessera_run-facet`, {
        runId: run.id,
        attempt: run.attempt,
        trigger: run.trigger,
        status: run.status,
        ...(run.rowsWritten !== undefined ? { rowsWritten: run.rowsWritten } : {}),
        ...(run.badRows !== undefined ? { badRows: run.badRows } : {}),
      }),
    };
    if (eventType === 'FAIL' || eventType === 'ABORT') {
      runFacets.errorMessage = this.#facet(
        `${FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet`,
        {
          message: run.error ?? `run ${run.status}`,
          programmingLanguage: 'TypeScript',
        },
      );
    }
    return {
      eventType,
      eventTime: eventTimeOf(event),
      producer: this.#producer,
      schemaURL: OPENLINEAGE_SCHEMA_URL,
      run: { runId: runUuid(run.id), facets: runFacets },
      job: {
        namespace: this.#namespace,
        name: task.name,
        facets: {
          jobType: this.#facet(`${FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet`, {
            processingType: task.source?.eventStream ? 'STREAMING' : 'BATCH',
            integration: 'TESSERA',
            jobType: task.type === 'ingestion' ? 'INGESTION' : 'PROJECTION',
          }),
          ...(task.sql
            ? {
                sql: this.#facet(`${FACETS}/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet`, {
                  query: task.sql,
                  dialect: 'duckdb',
                }),
              }
            : {}),
        },
      },
      inputs: this.#inputs(task, version),
      outputs: table
        ? [await this.#output(task, table, version, event.type === 'finished' ? event.fields : undefined)]
        : [],
    };
  }

  #inputs(task: TaskDef, version: Version | undefined): OpenLineageDataset[] {
    if (task.type === 'ingestion')
      return task.source ? [sourceDataset(task.source, this.#definitions.project.root)] : [];
    const read = new Map(version?.upstream.map((ref) => [ref.table, ref.version]));
    return this.#upstreamTables(task.name).map((name) => {
      const upstream = this.#definitions.tables.find((candidate) => candidate.name === name);
      const readVersion = read.get(name);
      return {
        namespace: this.#namespace,
        name,
        facets: {
          ...(upstream?.schema ? { schema: this.#schemaFacet(upstream.schema.fields) } : {}),
          ...(readVersion !== undefined ? { version: this.#versionFacet(readVersion) } : {}),
        },
      };
    });
  }

  async #output(
    task: TaskDef,
    table: TableDef,
    version: Version | undefined,
    written: FieldDef[] | undefined,
  ): Promise<OpenLineageDataset> {
    const fields = written ?? table.schema?.fields;
    const lineage = task.type === 'projection' ? await this.#columnLineageFacet(task) : undefined;
    return {
      namespace: this.#namespace,
      name: table.name,
      facets: {
        ...(fields ? { schema: this.#schemaFacet(fields) } : {}),
        ...(lineage ? { columnLineage: lineage } : {}),
        ...(version ? { version: this.#versionFacet(version.version) } : {}),
      },
      ...(version
        ? {
            outputFacets: {
              outputStatistics: this.#facet(
                `${FACETS}/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet`,
                { rowCount: version.rowCount, size: version.bytes, fileCount: version.files.length },
              ),
            },
          }
        : {}),
    };
  }

  #schemaFacet(fields: FieldDef[]): unknown {
    return this.#facet(`${FACETS}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`, {
      fields: fields.map((field, index) => schemaField(field, index + 1)),
    });
  }

  #versionFacet(version: number): unknown {
    return this.#facet(`${FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet`, {
      datasetVersion: String(version),
    });
  }

  /** The projection's column lineage (as `tessera lineage --columns` shows it), computed once per task. */
  #columnLineageFacet(task: TaskDef): Promise<Record<string, unknown> | undefined> {
    let known = this.#columnLineage.get(task.name);
    if (!known) {
      known = this.#computeColumnLineage(task).catch(() => undefined);
      this.#columnLineage.set(task.name, known);
    }
    return known;
  }

  async #computeColumnLineage(task: TaskDef): Promise<Record<string, unknown> | undefined> {
    if (!task.sql) return undefined;
    const columns = new Map(
      this.#definitions.tables.map((table) => [table.name, table.schema?.fields.map((field) => field.name)]),
    );
    const outputs = await columnLineage(task.sql, (table) => columns.get(table));
    const fields: Record<string, unknown> = {};
    for (const output of outputs) {
      const sources = output.sources.filter((source) => source.column !== '*');
      if (sources.length === 0) continue;
      fields[output.name] = {
        inputFields: sources.map((source) => ({
          namespace: this.#namespace,
          name: source.table,
          field: source.column,
          transformations: [
            output.direct
              ? { type: 'DIRECT', subtype: 'IDENTITY' }
              : { type: 'DIRECT', subtype: 'TRANSFORMATION' },
          ],
        })),
      };
    }
    if (Object.keys(fields).length === 0) return undefined;
    return this.#facet(`${FACETS}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet`, {
      fields,
    });
  }

  #facet(schemaURL: string, body: Record<string, unknown>): Record<string, unknown> {
    return { _producer: this.#producer, _schemaURL: schemaURL, ...body };
  }
}

function eventTypeOf(event: RunLifecycleEvent): OpenLineageEventType | undefined {
  if (event.type === 'started') return 'START';
  switch (event.run.status) {
    case 'succeeded':
      return 'COMPLETE';
    case 'failed':
      return 'FAIL';
    case 'cancelled':
      return 'ABORT';
    case 'skipped':
      // Skipped after its START (nothing new at the source): the run ended without writing.
      return 'COMPLETE';
    default:
      return undefined;
  }
}

function eventTimeOf(event: RunLifecycleEvent): string {
  const at = event.type === 'started' ? event.run.startedAt : event.run.finishedAt;
  return at ?? new Date().toISOString();
}

function schemaField(field: FieldDef, ordinal: number): Record<string, unknown> {
  return {
    name: field.name,
    type: duckdbDialect.columnType(field.type),
    ...(field.description ? { description: field.description } : {}),
    ordinal_position: ordinal,
    ...(field.type.kind === 'struct'
      ? { fields: field.type.fields.map((child, index) => schemaField(child, index + 1)) }
      : {}),
  };
}

/**
 * An ingestion's source as a dataset, named as OpenLineage's naming conventions say: the
 * authority (scheme, host, port) as the namespace, the path (and table) as the name; a local file
 * in namespace `file`. Passwords and token-like parameters are removed from every URL.
 */
export function sourceDataset(source: SourceDef, root: string): OpenLineageDataset {
  const url = source.database?.url ?? source.eventStream?.url ?? source.uri;
  if (!url) return { namespace: source.type, name: source.type };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return { namespace: 'file', name: isAbsolute(url) ? url : resolve(root, url) };
  }
  const clean = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(clean);
  } catch {
    return { namespace: source.type, name: clean };
  }
  const namespace = `${parsed.protocol}//${parsed.host}`;
  const path = decodeURIComponent(parsed.pathname.replace(/^\/+/, ''));
  const database = source.database;
  const name = database
    ? [path, database.table ?? 'query'].filter((part) => part !== '').join('.')
    : path || parsed.host;
  return { namespace, name };
}
