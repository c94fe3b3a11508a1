/**
 * A Salesforce org on loopback, answering in Salesforce's documented wire formats: the OAuth 2.0
 * token endpoint (username-password flow) and the SOAP `login`, `sobjects` and `describe`, REST
 * `query` with `nextRecordsUrl` paging, Bulk API 2.0 query jobs (create, state, CSV results paged
 * by `Sforce-Locator`), and error bodies `[{ "message", "errorCode" }]`. Its records are a table
 * the test changes between runs; it understands the SOQL Tessera writes (a field list, `COUNT()`,
 * `MAX(field) alias`, `WHERE` with comparisons, `IN`/`NOT IN`, `AND`/`OR`, parentheses, `LIMIT`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SalesforceField {
  name: string;
  /** Salesforce's field type: id, string, date, datetime, double, boolean, location, … */
  type: string;
}

export type SalesforceRecord = Record<string, string | number | boolean | null>;

export interface SalesforceApiServer {
  url: string;
  /** Object name → its fields and records (changed freely by the test). */
  objects: Map<string, { fields: SalesforceField[]; records: SalesforceRecord[] }>;
  /** Every request, as `METHOD /path`. */
  requests: string[];
  /** The SOQL of each Bulk API 2.0 query job created. */
  bulkJobs: string[];
  /** The next Bulk job fails with this `errorMessage`. */
  failNextBulkJob?: string;
  /** Records per REST query page and per Bulk result page. */
  pageSize: number;
  close(): Promise<void>;
}

const API = /^\/services\/data\/v(\d+\.0)(\/.*)$/;
const TOKEN = '00Dxx0000001gPL!AQ4AQFakeAccessTokenForTessera';

export async function startSalesforceApiServer(login: {
  username: string;
  password: string;
  clientId?: string;
  clientSecret?: string;
}): Promise<SalesforceApiServer> {
  const cursors = new Map<string, { records: SalesforceRecord[]; fields: string[]; offset: number }>();
  const jobs = new Map<string, { soql: string; polls: number; failure?: string }>();
  let sequence = 0;
  const state: SalesforceApiServer = {
    url: '',
    objects: new Map(),
    requests: [],
    bulkJobs: [],
    pageSize: 2000,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  function json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8' });
    response.end(JSON.stringify(body));
  }
  function error(response: ServerResponse, status: number, errorCode: string, message: string): void {
    json(response, status, [{ message, errorCode }]);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', state.url);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    state.requests.push(`${request.method} ${url.pathname}`);

    if (request.method === 'POST' && url.pathname === '/services/oauth2/token') {
      const form = new URLSearchParams(body);
      if (
        form.get('grant_type') !== 'password' ||
        form.get('client_id') !== login.clientId ||
        form.get('client_secret') !== login.clientSecret
      ) {
        return json(response, 400, {
          error: 'invalid_client_id',
          error_description: 'client identifier invalid',
        });
      }
      if (form.get('username') !== login.username || form.get('password') !== login.password) {
        return json(response, 400, { error: 'invalid_grant', error_description: 'authentication failure' });
      }
      return json(response, 200, {
        access_token: TOKEN,
        instance_url: state.url,
        id: `${state.url}/id/00Dxx0000001gPLEAY/005xx000001Sv6eAAC`,
        token_type: 'Bearer',
        issued_at: '1700000000000',
        signature: 'c2lnbmF0dXJl',
      });
    }
    const soap = /^\/services\/Soap\/u\/(\d+\.0)$/.exec(url.pathname);
    if (request.method === 'POST' && soap) {
      const username = /<username>([^<]*)<\/username>/.exec(body)?.[1];
      const password = /<password>([^<]*)<\/password>/.exec(body)?.[1];
      response.setHeader('Content-Type', 'text/xml;charset=UTF-8');
      if (username !== xml(login.username) || password !== xml(login.password)) {
        response.writeHead(500);
        return void response.end(
          '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>',
        );
      }
      response.writeHead(200);
      return void response.end(
        `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result><metadataServerUrl>${state.url}/services/Soap/m/${soap[1]}/00Dxx0000001gPL</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>${state.url}/services/Soap/u/${soap[1]}/00Dxx0000001gPL</serverUrl><sessionId>${TOKEN}</sessionId><userId>005xx000001Sv6eAAC</userId><userInfo><organizationId>00Dxx0000001gPLEAY</organizationId></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>`,
      );
    }
    const api = API.exec(url.pathname);
    if (!api) return error(response, 404, 'NOT_FOUND', 'The requested resource does not exist');
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return error(response, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
    const path = api[2]!;
    if (path === '/sobjects') {
      return json(response, 200, {
        encoding: 'UTF-8',
        maxBatchSize: 200,
        sobjects: [...state.objects.keys()].map((name) => ({ name, label: name, queryable: true })),
      });
    }
    const describe = /^\/sobjects\/([^/]+)\/describe$/.exec(path);
    if (describe) {
      const object = state.objects.get(describe[1]!);
      if (!object) return error(response, 404, 'NOT_FOUND', 'The requested resource does not exist');
      return json(response, 200, {
        name: describe[1],
        queryable: true,
        fields: object.fields.map((field) => ({ ...field, label: field.name })),
      });
    }
    if (path === '/query') {
      let result;
      try {
        result = runSoql(url.searchParams.get('q') ?? '');
      } catch (failure) {
        const [code, message] = (failure as Error).message.split('|');
        return error(response, 400, code!, message!);
      }
      if (result.count !== undefined)
        return json(response, 200, { totalSize: result.count, done: true, records: [] });
      const id = `01gxx0000000${String(++sequence).padStart(3, '0')}`;
      cursors.set(id, { records: result.records, fields: result.fields, offset: 0 });
      return json(response, 200, queryPage(id));
    }
    const more = /^\/query\/([^/]+)$/.exec(path);
    if (more) {
      const id = more[1]!.replace(/-\d+$/, '');
      if (!cursors.has(id)) return error(response, 400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      return json(response, 200, queryPage(id));
    }
    if (path === '/jobs/query' && request.method === 'POST') {
      const job = JSON.parse(body) as { operation: string; query: string };
      try {
        runSoql(job.query);
      } catch (failure) {
        const [code, message] = (failure as Error).message.split('|');
        return error(response, 400, code!, message!);
      }
      const id = `750xx00000${String(++sequence).padStart(5, '0')}`;
      state.bulkJobs.push(job.query);
      jobs.set(id, {
        soql: job.query,
        polls: 0,
        ...(state.failNextBulkJob ? { failure: state.failNextBulkJob } : {}),
      });
      delete state.failNextBulkJob;
      return json(response, 200, {
        id,
        operation: job.operation,
        object: '',
        state: 'UploadComplete',
        contentType: 'CSV',
        apiVersion: Number(api[1]),
        lineEnding: 'LF',
        columnDelimiter: 'COMMA',
      });
    }
    const jobPath = /^\/jobs\/query\/([^/]+)(\/results)?$/.exec(path);
    if (jobPath) {
      const job = jobs.get(jobPath[1]!);
      if (!job) return error(response, 404, 'NOT_FOUND', 'The requested resource does not exist');
      if (!jobPath[2]) {
        job.polls++;
        const done = job.polls > 1;
        return json(response, 200, {
          id: jobPath[1],
          operation: 'query',
          state: !done ? 'InProgress' : job.failure ? 'Failed' : 'JobComplete',
          ...(done && job.failure ? { errorMessage: job.failure } : {}),
        });
      }
      const { records, fields } = runSoql(job.soql);
      const offset = Number(url.searchParams.get('locator') ?? 0);
      const max = Math.min(Number(url.searchParams.get('maxRecords') ?? state.pageSize), state.pageSize);
      const page = records.slice(offset, offset + max);
      const next = offset + max < records.length ? String(offset + max) : 'null';
      response.writeHead(200, {
        'Content-Type': 'text/csv',
        'Sforce-Locator': next,
        'Sforce-NumberOfRecords': String(page.length),
      });
      const lines = [
        fields.map(csv).join(','),
        ...page.map((record) => fields.map((field) => csv(bulkValue(record[field]))).join(',')),
      ];
      return void response.end(lines.join('\n') + '\n');
    }
    return error(response, 404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  function queryPage(id: string) {
    const cursor = cursors.get(id)!;
    const page = cursor.records.slice(cursor.offset, cursor.offset + state.pageSize);
    cursor.offset += page.length;
    const done = cursor.offset >= cursor.records.length;
    return {
      totalSize: cursor.records.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v62.0/query/${id}-${cursor.offset}` }),
      records: page.map((record) => ({
        attributes: { type: 'Record', url: `/services/data/v62.0/sobjects/Record/${String(record.Id)}` },
        ...Object.fromEntries(cursor.fields.map((field) => [field, record[field] ?? null])),
      })),
    };
  }

  function runSoql(soql: string): { records: SalesforceRecord[]; fields: string[]; count?: number } {
    const match = /^SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: LIMIT (\d+))?$/s.exec(soql.trim());
    if (!match) throw new Error(`MALFORMED_QUERY|unexpected SOQL: ${soql}`);
    const [, list, name, where, limit] = match;
    const object = state.objects.get(name!);
    if (!object) throw new Error(`INVALID_TYPE|sObject type '${name}' is not supported.`);
    const known = new Set(object.fields.map((field) => field.name));
    let records = object.records.filter((record) =>
      where ? evaluate(parseCondition(where, known), record) : true,
    );
    if (limit) records = records.slice(0, Number(limit));
    if (list === 'COUNT()') return { records: [], fields: [], count: records.length };
    const aggregate = /^MAX\((\w+)\) (\w+)$/.exec(list!);
    if (aggregate) {
      const values = records
        .map((record) => record[aggregate[1]!])
        .filter((value): value is string => typeof value === 'string');
      values.sort((a, b) => Date.parse(fixOffset(a)) - Date.parse(fixOffset(b)));
      return { records: [{ [aggregate[2]!]: values.at(-1) ?? null }], fields: [aggregate[2]!] };
    }
    const fields = list!.split(',').map((field) => field.trim());
    for (const field of fields) {
      if (!known.has(field)) {
        throw new Error(
          `INVALID_FIELD|\nSELECT ${list} FROM ${name}\n^\nERROR at Row:1:Column:8\nNo such column '${field}' on entity '${name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
        );
      }
    }
    return { records, fields };
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((failure: unknown) =>
      error(response, 500, 'UNKNOWN_EXCEPTION', String(failure)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

type Condition =
  | { kind: 'and' | 'or'; parts: Condition[] }
  | { kind: 'compare'; field: string; op: string; value: string }
  | { kind: 'in'; field: string; negated: boolean; values: string[] };

/** `WHERE` of the SOQL Tessera writes, as a tree. */
function parseCondition(text: string, known: Set<string>): Condition {
  const tokens =
    text.match(/'(?:\\.|[^'\\])*'|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)|<=|>=|!=|[()=<>,]|\w+/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++]!;
  const value = (token: string) =>
    token.startsWith("'") ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token;
  function or(): Condition {
    const parts = [and()];
    while (peek()?.toUpperCase() === 'OR') {
      take();
      parts.push(and());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  }
  function and(): Condition {
    const parts = [atom()];
    while (peek()?.toUpperCase() === 'AND') {
      take();
      parts.push(atom());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  }
  function atom(): Condition {
    if (peek() === '(') {
      take();
      const inner = or();
      take();
      return inner;
    }
    const field = take();
    if (!known.has(field)) throw new Error(`INVALID_FIELD|No such column '${field}'`);
    let op = take();
    const negated = op.toUpperCase() === 'NOT';
    if (negated) op = take();
    if (op.toUpperCase() === 'IN') {
      take();
      const values: string[] = [];
      while (peek() !== ')') {
        const token = take();
        if (token !== ',') values.push(value(token));
      }
      take();
      return { kind: 'in', field, negated, values };
    }
    return { kind: 'compare', field, op, value: value(take()) };
  }
  return or();
}

function evaluate(condition: Condition, record: SalesforceRecord): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.parts.every((part) => evaluate(part, record));
    case 'or':
      return condition.parts.some((part) => evaluate(part, record));
    case 'in':
      return condition.values.includes(String(record[condition.field])) !== condition.negated;
    case 'compare': {
      const raw = record[condition.field];
      const isDate = /^\d{4}-\d\d-\d\dT/.test(condition.value);
      const left = isDate ? Date.parse(fixOffset(String(raw))) : String(raw);
      const right = isDate ? Date.parse(fixOffset(condition.value)) : condition.value;
      switch (condition.op) {
        case '=':
          return left === right;
        case '!=':
          return left !== right;
        case '>':
          return left > right;
        case '>=':
          return left >= right;
        case '<':
          return left < right;
        case '<=':
          return left <= right;
      }
      throw new Error(`MALFORMED_QUERY|unknown operator ${condition.op}`);
    }
  }
}

/** `+0000` → `+00:00`, which Date.parse reads. */
function fixOffset(value: string): string {
  return value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
}

/** How the Bulk API writes a value in CSV: datetimes in UTC with `Z`, nulls as nothing. */
function bulkValue(value: SalesforceRecord[string] | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT.*\+0000$/.test(value))
    return value.replace('+0000', 'Z');
  return String(value);
}

function csv(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function xml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
