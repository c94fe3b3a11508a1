/**
 * Sampling a source for `tessera schema infer`: the task's reader (object store, database, stream)
 * stages what it reads into local files exactly as for a run, then DuckDB reads at most N rows of
 * them with its own type detection and computes, per column, its type, NULLs, distinct values and
 * a few values. Nothing is acknowledged or committed: a stream's messages are released (`abandon`),
 * never `afterPublish`ed, so the next real run reads them all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { FileAccessError, UsageError } from '../diagnostics/errors.ts';
import type { EngineSession } from '../engines/engine.ts';
import { quoteIdentifier, quoteLiteral } from '../engines/engine.ts';
import type { ProjectDef, TaskDef } from '../model/index.ts';
import { sourceReaderFor, type StagedSource } from './sources/index.ts';
import { STREAM_POSITION_COLUMN } from './sources/stream-staging.ts';

/** What a sample says about one column (the shape `definitions/schema-drafting.ts` drafts from). */
export interface SampledColumn {
  name: string;
  type: string;
  nullCount: number;
  distinctCount: number;
  /** Up to `MAX_SAMPLE_VALUES` distinct values, as text. */
  samples: string[];
  /** The strptime format DuckDB detected for a CSV's dates or timestamps. */
  dateFormat?: string;
}

export interface SourceSample {
  rows: number;
  columns: SampledColumn[];
}

export interface SampleSourceRequest {
  /** The ingestion task whose source is sampled (a real one, or one made up for the sample). */
  task: TaskDef;
  project: ProjectDef;
  repoRoot: string;
  session: EngineSession;
  /** Read at most this many rows. */
  rows: number;
  /**
   * The stream consumer (`source.consumer`) was made for this sample alone: delete it afterwards
   * (NATS). The task's own consumer is never used, so its position is left as it was.
   */
  temporaryConsumer?: boolean;
  log?(message: string): void;
}

/** Distinct values kept per column for the PHI value-shape checks. */
export const MAX_SAMPLE_VALUES = 50;

/** Stage the task's source as a run would (without acknowledging anything) and describe a sample of it. */
export async function sampleSource(request: SampleSourceRequest): Promise<SourceSample> {
  const stagingFolder = await mkdtemp(join(tmpdir(), 'tessera-infer-'));
  let staged: StagedSource | undefined;
  try {
    const reader = await sourceReaderFor(request.task);
    let task = request.task;
    if (reader) {
      staged = await reader({
        task,
        fields: [],
        stagingFolder,
        repoRoot: request.repoRoot,
        project: request.project,
        cursor: undefined,
        session: request.session,
        log: request.log ?? (() => undefined),
      });
      if (staged.nothingNew !== undefined)
        throw new Error(`nothing to sample: ${staged.nothingNew.replace(/^nothing new: /, '')}`);
      task = staged.task;
    }
    return await describeFiles(request.session, task, request.repoRoot, request.rows, staged !== undefined);
  } finally {
    // Never afterPublish: a sample keeps no cursor, so what it read stays for the first real run.
    await staged?.abandon?.().catch(() => undefined);
    if (request.temporaryConsumer && request.task.source?.type === 'nats') {
      const { dropNatsConsumer } = await import('./sources/nats-reader.ts');
      await dropNatsConsumer(request.task).catch(() => undefined);
    }
    await rm(stagingFolder, { recursive: true, force: true });
  }
}

/** The DuckDB table function reading a file source's uri with type detection on. */
function readerSql(task: TaskDef, repoRoot: string): { sql: string; uri: string } {
  const source = task.source!;
  const raw = source.uri ?? '';
  const uri = isAbsolute(raw) ? raw : resolve(repoRoot, raw);
  const options = source.options ?? {};
  const path = quoteLiteral(uri);
  switch (source.type) {
    case 'csv': {
      const extra: string[] = [];
      if (typeof options.delimiter === 'string') extra.push(`delim = ${quoteLiteral(options.delimiter)}`);
      if (typeof options.header === 'boolean') extra.push(`header = ${options.header}`);
      if (typeof options.quote === 'string') extra.push(`quote = ${quoteLiteral(options.quote)}`);
      if (typeof options.escape === 'string') extra.push(`escape = ${quoteLiteral(options.escape)}`);
      return { sql: `read_csv(${[path, 'auto_detect = true', ...extra].join(', ')})`, uri };
    }
    case 'json':
      return { sql: `read_json_auto(${path}, format = 'auto')`, uri };
    case 'ndjson':
      return { sql: `read_json_auto(${path}, format = 'newline_delimited')`, uri };
    case 'parquet':
      return { sql: `read_parquet(${path})`, uri };
    default:
      throw new Error(`cannot sample a ${source.type} source`);
  }
}

async function describeFiles(
  session: EngineSession,
  task: TaskDef,
  repoRoot: string,
  rows: number,
  staged: boolean,
): Promise<SourceSample> {
  const { sql, uri } = readerSql(task, repoRoot);
  const label = staged ? 'what was read from the source' : uri;
  const matches = await session.query(`SELECT count(*) AS n FROM glob(${quoteLiteral(uri)})`);
  if (Number(matches.rows[0]?.n ?? 0) === 0)
    throw new UsageError(
      `no file matches ${uri}; check the path or glob (a relative one is read from the current folder)`,
    );
  const sample = quoteIdentifier(`tessera_sample_${process.pid}_${Date.now()}`);
  try {
    await session.run(
      `CREATE TEMP TABLE ${sample} AS SELECT * FROM ${sql} LIMIT ${Math.max(1, Math.floor(rows))}`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.split('\n')[0]!.replace(/\s*LINE \d+:.*$/s, '');
    throw new FileAccessError(
      `cannot read ${label} as ${task.source?.type}: ${reason}; if it is another format, name it with --format csv|json|ndjson|parquet`,
      { cause: error },
    );
  }
  try {
    const described = await session.query(`DESCRIBE ${sample}`);
    const columns = described.rows
      .map((row) => ({ name: String(row.column_name), type: String(row.column_type) }))
      .filter((column) => column.name !== STREAM_POSITION_COLUMN);
    const formats = task.source?.type === 'csv' ? await csvDateFormats(session, uri, task) : {};
    const counted = await session.query(
      `SELECT count(*) AS "rows"${columns
        .map((column, index) => {
          const name = quoteIdentifier(column.name);
          return `, count(${name}) AS "n${index}", count(DISTINCT ${name}) AS "d${index}"`;
        })
        .join('')} FROM ${sample}`,
    );
    const totals = counted.rows[0] ?? {};
    const total = Number(totals.rows ?? 0);
    const result: SampledColumn[] = [];
    for (const [index, column] of columns.entries()) {
      const name = quoteIdentifier(column.name);
      const values = await session.query(
        `SELECT DISTINCT CAST(${name} AS VARCHAR) AS v FROM ${sample} WHERE ${name} IS NOT NULL LIMIT ${MAX_SAMPLE_VALUES}`,
      );
      const dateFormat =
        column.type === 'DATE'
          ? formats.date
          : column.type.startsWith('TIMESTAMP')
            ? formats.timestamp
            : undefined;
      result.push({
        name: column.name,
        type: column.type,
        nullCount: total - Number(totals[`n${index}`] ?? 0),
        distinctCount: Number(totals[`d${index}`] ?? 0),
        samples: values.rows.map((row) => String(row.v)),
        ...(dateFormat ? { dateFormat } : {}),
      });
    }
    return { rows: total, columns: result };
  } finally {
    await session.run(`DROP TABLE IF EXISTS ${sample}`);
  }
}

/** The date and timestamp formats DuckDB's CSV sniffer detected in the first file of the uri. */
async function csvDateFormats(
  session: EngineSession,
  uri: string,
  task: TaskDef,
): Promise<{ date?: string; timestamp?: string }> {
  try {
    const first = await session.query(`SELECT file FROM glob(${quoteLiteral(uri)}) ORDER BY file LIMIT 1`);
    const file = first.rows[0]?.file;
    if (typeof file !== 'string') return {};
    const delimiter = task.source?.options?.delimiter;
    const sniffed = await session.query(
      `SELECT DateFormat AS d, TimestampFormat AS t FROM sniff_csv(${quoteLiteral(file)}${
        typeof delimiter === 'string' ? `, delim = ${quoteLiteral(delimiter)}` : ''
      })`,
    );
    const row = sniffed.rows[0] ?? {};
    const date = typeof row.d === 'string' && row.d !== '' ? row.d : undefined;
    const timestamp = typeof row.t === 'string' && row.t !== '' ? row.t : undefined;
    return { ...(date ? { date } : {}), ...(timestamp ? { timestamp } : {}) };
  } catch {
    return {};
  }
}
