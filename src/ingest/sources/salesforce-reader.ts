/**
 * `source: { type: salesforce, object, fields, login_url, username, password, … }`: logs in with
 * jsforce (the OAuth 2.0 username-password flow with `client_id`/`client_secret`, else the SOAP
 * login), reads the object's describe for its fields, and stages the records past the stored
 * `SystemModstamp` mark: through REST `query`/`queryMore` as NDJSON (without `attributes`), or, for
 * many records, through a Bulk API 2.0 query job whose CSV result pages (`Sforce-Locator`) are
 * streamed to files. Nothing is held in memory beyond one page.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as wait } from 'node:timers/promises';
import { Connection } from 'jsforce';
import { editDistance, RunFailedError } from '../../diagnostics/index.ts';
import type { SalesforceSourceDef, TaskDef } from '../../model/index.ts';
import { makeFilePrivate, makePrivateDirectory } from '../../storage/index.ts';
import { rowsText, stagedCsvTask } from './database-source.ts';
import type { SourceReader, StagedSource } from './source-reader.ts';

/** The field every incremental read is ordered on. */
const CURSOR_FIELD = 'SystemModstamp';
/** More records than this share the mark: their ids are not kept, the next run reads strictly past it. */
const MAX_IDS_AT_MARK = 200;
/** Compound fields the Bulk API cannot return (their parts are fields of their own). */
const COMPOUND_TYPES = new Set(['address', 'location']);
/** Records per Bulk API 2.0 result page. */
const BULK_PAGE_RECORDS = 50_000;

/** Where a salesforce source read up to, stored with the version it was published in. */
export interface SalesforceCursor {
  field: typeof CURSOR_FIELD;
  /** The greatest `SystemModstamp` read, as a SOQL dateTime literal (`2024-05-01T10:00:00Z`). */
  mark: string;
  /** The ids of the records read at the mark; absent: read strictly past it. */
  idsAtMark?: string[];
}

interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

interface DescribedField {
  name: string;
  type: string;
}

export const readSalesforceSource: SourceReader = async (request) => {
  const { task, stagingFolder, cursor, log, signal } = request;
  const sf = task.source?.salesforce;
  if (!sf) {
    throw new RunFailedError(
      `task ${task.name}: a salesforce source needs \`object\`, \`username\` and \`password\`; run \`tessera validate\``,
      { task: task.name, table: task.target },
    );
  }
  const fail = failureOf(task, sf);
  const connection = new Connection({
    loginUrl: sf.loginUrl,
    version: sf.apiVersion,
    logLevel: 'FATAL',
    ...(sf.clientId !== undefined
      ? { oauth2: { clientId: sf.clientId, clientSecret: sf.clientSecret ?? '', loginUrl: sf.loginUrl } }
      : {}),
  });
  try {
    await connection.login(sf.username, sf.password);
  } catch (error) {
    throw fail('login', error);
  }
  const secrets = () => [sf.password, sf.clientSecret, connection.accessToken ?? undefined];
  const api = `/services/data/v${sf.apiVersion}`;
  const request_ = <T>(url: string): Promise<T> => connection.request<T>(url) as Promise<T>;
  const query = (soql: string) => request_<QueryPage>(`${api}/query?q=${encodeURIComponent(soql)}`);
  try {
    let described: DescribedField[];
    try {
      described = (await request_<{ fields: DescribedField[] }>(`${api}/sobjects/${sf.object}/describe`))
        .fields;
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'NOT_FOUND' && code !== 'INVALID_TYPE') throw error;
      const objects = await request_<{ sobjects: { name: string }[] }>(`${api}/sobjects`).then(
        (global) => global.sobjects.map((object) => object.name),
        () => [],
      );
      throw new RunFailedError(
        `task ${task.name}: the salesforce org has no object ${sf.object}${closeNames(sf.object, objects)}; check source.object in ${task.at.file} (API names of custom objects end in __c)`,
        { task: task.name, table: task.target },
        { cause: error },
      );
    }
    const known = new Map(described.map((field) => [field.name.toLowerCase(), field]));
    const fields =
      sf.fields ?? described.filter((field) => !COMPOUND_TYPES.has(field.type)).map((field) => field.name);
    for (const name of sf.fields ?? []) {
      const field = known.get(name.toLowerCase());
      if (!field) {
        throw new RunFailedError(
          `task ${task.name}: the salesforce object ${sf.object} has no field ${name}${closeNames(
            name,
            described.map((each) => each.name),
          )}; check source.fields in ${task.at.file}`,
          { task: task.name, table: task.target },
        );
      }
      if (COMPOUND_TYPES.has(field.type)) {
        throw new RunFailedError(
          `task ${task.name}: ${sf.object}.${name} is a compound ${field.type} field, which the Bulk API cannot read; list its parts in source.fields in ${task.at.file} instead`,
          { task: task.name, table: task.target },
        );
      }
    }
    // `replace` publishes the whole object each run; `append` and `merge` read past the last mark.
    const incremental = task.mode !== 'replace';
    if (incremental && !known.has(CURSOR_FIELD.toLowerCase())) {
      throw new RunFailedError(
        `task ${task.name}: the salesforce object ${sf.object} has no ${CURSOR_FIELD}, which a ${task.mode} reads past; set \`mode: replace\` in ${task.at.file} to read it whole every run`,
        { task: task.name, table: task.target },
      );
    }

    const previous = incremental ? asSalesforceCursor(cursor) : undefined;
    const unread = unreadCondition(previous);
    let mark: string | undefined;
    let next: SalesforceCursor | undefined;
    if (incremental) {
      const markPage = await query(
        `SELECT MAX(${CURSOR_FIELD}) mark FROM ${sf.object}${unread ? ` WHERE ${unread}` : ''}`,
      );
      const rawMark = markPage.records[0]?.mark;
      if ((rawMark === null || rawMark === undefined) && previous) {
        return {
          task,
          nothingNew: `nothing new in the salesforce object ${sf.object}: no record has ${CURSOR_FIELD} past ${previous.mark} (the mark of the last published run)`,
        };
      }
      mark = typeof rawMark === 'string' ? soqlDateTime(rawMark) : undefined;
      if (mark) {
        const atMark = await query(
          `SELECT Id FROM ${sf.object} WHERE ${CURSOR_FIELD} = ${mark} LIMIT ${MAX_IDS_AT_MARK + 1}`,
        );
        const ids = atMark.records.map((record) => String(record.Id));
        next = { field: CURSOR_FIELD, mark, ...(ids.length <= MAX_IDS_AT_MARK ? { idsAtMark: ids } : {}) };
      }
    }
    const where = [unread, mark ? `${CURSOR_FIELD} <= ${mark}` : undefined].filter(
      (condition) => condition !== undefined,
    );
    const whereText = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    let useBulk = sf.bulk === 'always';
    if (sf.bulk === 'auto') {
      const count = (await query(`SELECT COUNT() FROM ${sf.object}${whereText}`)).totalSize;
      useBulk = count > sf.bulkThreshold;
    }
    const soql = `SELECT ${fields.join(', ')} FROM ${sf.object}${whereText}`;
    const folder = join(stagingFolder, 'source');
    await makePrivateDirectory(folder);
    let staged: { task: TaskDef; records: number };
    if (useBulk) {
      staged = await stageBulk(connection, api, soql, folder, task, signal);
    } else {
      staged = await stageRest(connection, query, soql, folder, task, fields, signal);
    }
    log(
      `read ${rowsText(staged.records)} of the salesforce object ${sf.object} with ${useBulk ? 'a Bulk API 2.0 query job' : 'the REST query API'}` +
        (previous ? ` past ${CURSOR_FIELD} ${previous.mark}` : '') +
        (next ? ` up to ${next.mark}` : ''),
    );
    const result: StagedSource = {
      task: staged.task,
      ...(next ? { cursor: next } : {}),
      // The staging folder becomes the version's folder: the raw records must not stay beside it.
      afterPublish: () => rm(folder, { recursive: true, force: true }),
    };
    return result;
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof RunFailedError) throw error;
    throw fail('read', error, secrets());
  }
};

/** REST `query` then `queryMore` through `nextRecordsUrl`, each page appended to one NDJSON file. */
async function stageRest(
  connection: Connection,
  query: (soql: string) => Promise<QueryPage>,
  soql: string,
  folder: string,
  task: TaskDef,
  fields: string[],
  signal: AbortSignal | undefined,
): Promise<{ task: TaskDef; records: number }> {
  const file = join(folder, 'records.ndjson');
  const output = createWriteStream(file, { mode: 0o600 });
  let records = 0;
  try {
    let page = await query(soql);
    for (;;) {
      const lines = page.records.map((record) => {
        const row: Record<string, unknown> = {};
        // Every field on every line, in the listed order, so a field null on every record is still a column.
        for (const name of fields) row[name] = record[name] ?? null;
        return JSON.stringify(row) + '\n';
      });
      records += lines.length;
      if (!output.write(lines.join(''))) await once(output, 'drain');
      if (page.done || !page.nextRecordsUrl) break;
      signal?.throwIfAborted();
      page = await connection.request<QueryPage>(page.nextRecordsUrl);
    }
  } finally {
    await new Promise<void>((resolve, reject) =>
      output.end((error?: unknown) => (error ? reject(error as Error) : resolve())),
    );
  }
  await makeFilePrivate(file);
  const options = task.source?.options ?? {};
  return {
    records,
    task: {
      ...task,
      source: {
        type: 'ndjson',
        uri: file,
        options: Object.fromEntries(
          ['null_values', 'timestamp_formats', 'date_formats']
            .filter((name) => name in options)
            .map((name) => [name, options[name]]),
        ),
        columns: task.source?.columns ?? {},
      },
    },
  };
}

/** A Bulk API 2.0 query job: created, polled until `JobComplete`, its CSV result pages streamed to files. */
async function stageBulk(
  connection: Connection,
  api: string,
  soql: string,
  folder: string,
  task: TaskDef,
  signal: AbortSignal | undefined,
): Promise<{ task: TaskDef; records: number }> {
  const created = await connection.request<{ id: string }>({
    method: 'POST',
    url: `${api}/jobs/query`,
    body: JSON.stringify({
      operation: 'query',
      query: soql,
      contentType: 'CSV',
      columnDelimiter: 'COMMA',
      lineEnding: 'LF',
    }),
    headers: { 'Content-Type': 'application/json' },
  });
  const jobUrl = `${api}/jobs/query/${created.id}`;
  let delay = 100;
  for (;;) {
    const job = await connection.request<{ state: string; errorMessage?: string }>(jobUrl);
    if (job.state === 'JobComplete') break;
    if (job.state === 'Failed' || job.state === 'Aborted') {
      throw new RunFailedError(
        `task ${task.name}: the Bulk API 2.0 query job ${created.id} on ${task.source?.salesforce?.object} ended ${job.state}: ${job.errorMessage ?? 'no reason given'}; check source.fields in ${task.at.file}, or set \`bulk: never\``,
        { task: task.name, table: task.target },
      );
    }
    await wait(delay, undefined, signal ? { signal } : undefined);
    delay = Math.min(delay * 2, 5_000);
  }
  let records = 0;
  let locator: string | undefined;
  for (let part = 0; ; part++) {
    const params = new URLSearchParams({ maxRecords: String(BULK_PAGE_RECORDS) });
    if (locator) params.set('locator', locator);
    const response = await fetch(`${connection.instanceUrl}${jobUrl}/results?${params}`, {
      headers: { Authorization: `Bearer ${connection.accessToken}`, Accept: 'text/csv' },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok || !response.body) {
      const body = await response.text();
      throw new Error(
        `reading the Bulk API 2.0 results failed (HTTP ${response.status}): ${salesforceMessage(body)}`,
      );
    }
    const file = join(folder, `records-${String(part).padStart(5, '0')}.csv`);
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      createWriteStream(file, { mode: 0o600 }),
    );
    await makeFilePrivate(file);
    records += Number(response.headers.get('sforce-numberofrecords') ?? 0);
    locator = response.headers.get('sforce-locator') ?? undefined;
    if (!locator || locator === 'null') break;
  }
  return { records, task: stagedCsvTask(task, join(folder, '*.csv')) };
}

/** `[{ "message", "errorCode" }]` as `ERROR_CODE: message`, else the body as it is. */
function salesforceMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string; errorCode?: string }[];
    if (Array.isArray(parsed) && parsed[0]) return `${parsed[0].errorCode}: ${parsed[0].message}`;
  } catch {
    // Not JSON.
  }
  return body.slice(0, 500);
}

/** Records past the previous mark, or at it with an id not read then. */
function unreadCondition(previous: SalesforceCursor | undefined): string | undefined {
  if (!previous) return undefined;
  const ids = previous.idsAtMark;
  if (!ids) return `${CURSOR_FIELD} > ${previous.mark}`;
  if (ids.length === 0) return `${CURSOR_FIELD} >= ${previous.mark}`;
  const quoted = ids.map((id) => `'${id.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`);
  return `(${CURSOR_FIELD} > ${previous.mark} OR (${CURSOR_FIELD} = ${previous.mark} AND Id NOT IN (${quoted.join(', ')})))`;
}

/** A dateTime as Salesforce returns it (`2024-05-01T10:00:00.000+0000`) as a SOQL literal (`2024-05-01T10:00:00Z`). */
export function soqlDateTime(value: string): string {
  const date = new Date(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  if (Number.isNaN(date.getTime()))
    throw new Error(`Salesforce returned ${CURSOR_FIELD} \`${value}\`, not a dateTime`);
  return date.toISOString().replace('.000Z', 'Z');
}

function asSalesforceCursor(value: unknown): SalesforceCursor | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const cursor = value as Partial<SalesforceCursor>;
  if (cursor.field !== CURSOR_FIELD || typeof cursor.mark !== 'string') return undefined;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(cursor.mark)) return undefined;
  return cursor as SalesforceCursor;
}

function errorCode(error: unknown): string | undefined {
  const code =
    (error as { errorCode?: unknown; name?: unknown }).errorCode ?? (error as { name?: unknown }).name;
  return typeof code === 'string' ? code : undefined;
}

/** Up to three names close to `name` (same letters in another case, a prefix, or a few edits). */
function closeNames(name: string, candidates: readonly string[]): string {
  const wanted = name.toLowerCase();
  const scored = candidates
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => {
      const lower = candidate.toLowerCase();
      return (
        distance <= Math.max(2, Math.floor(wanted.length / 3)) ||
        lower.startsWith(wanted) ||
        wanted.startsWith(lower)
      );
    })
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3);
  return scored.length === 0 ? '' : ` (close names: ${scored.map(({ candidate }) => candidate).join(', ')})`;
}

/** What went wrong, in words, with what to check; secrets taken out of what Salesforce or the network said. */
function failureOf(task: TaskDef, sf: SalesforceSourceDef) {
  return (
    stage: 'login' | 'read',
    error: unknown,
    extraSecrets: (string | undefined)[] = [],
  ): RunFailedError => {
    let reason = error instanceof Error ? error.message || error.name : String(error);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code || cause?.message) reason += ` (${cause.code ?? cause.message})`;
    for (const secret of [sf.password, sf.clientSecret, ...extraSecrets]) {
      if (secret && secret.length >= 4) reason = reason.split(secret).join('***');
    }
    const code = errorCode(error);
    const context = { task: task.name, table: task.target };
    if (stage === 'login') {
      const bad =
        code === 'INVALID_LOGIN' ||
        code === 'invalid_grant' ||
        /INVALID_LOGIN|authentication failure/i.test(reason);
      return new RunFailedError(
        bad
          ? `task ${task.name}: Salesforce refused the login of ${sf.username} at ${sf.loginUrl} (INVALID_LOGIN: ${reason}); check source.username and source.password in ${task.at.file}: the password is followed by the user's security token${sf.clientId !== undefined ? ', and the connected app allows the username-password flow' : ''}`
          : `task ${task.name}: cannot log in to Salesforce at ${sf.loginUrl}: ${reason}; check source.login_url in ${task.at.file} (https://login.salesforce.com, https://test.salesforce.com or your My Domain) and the network`,
        context,
        { cause: error },
      );
    }
    if (code === 'INVALID_FIELD') {
      return new RunFailedError(
        `task ${task.name}: Salesforce rejected a field of ${sf.object} (INVALID_FIELD: ${reason}); check source.fields in ${task.at.file}`,
        context,
        { cause: error },
      );
    }
    return new RunFailedError(
      `task ${task.name}: reading the salesforce object ${sf.object} failed: ${code && !reason.startsWith(code) ? `${code}: ` : ''}${reason}`,
      context,
      { cause: error },
    );
  };
}
