import type { ColumnInfo } from '../../engines/engine.ts';
import type { ErrorCode } from '../../diagnostics/errors.ts';
import { decodeParameter, ParameterError, type BoundValue } from './parameter-decoder.ts';
import { pgTypeOf, type PgType } from './pg-types.ts';
import {
  defaultSettings,
  REPORTED_SETTINGS,
  sessionStatementOf,
  splitStatements,
  isEmptyStatement,
  WRITE_KEYWORDS,
  type SessionStatement,
} from './session-statements.ts';
import {
  ProtocolViolation,
  ReplyWriter,
  readBind,
  readExecute,
  readParse,
  readPassword,
  readQuery,
  readTarget,
  type ErrorFields,
  type FieldDescription,
} from './wire-messages.ts';

/** What a governed answer looks like to this face (`GovernedResult` without the guard's details). */
export interface PgQueryResult {
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
}

/** The platform methods the wire protocol calls; `Platform` has them all. */
export interface PgPlatform {
  verifyToken(token: string): Promise<string | undefined>;
  query(
    sql: string,
    options: { token: string; signal?: AbortSignal; parameters?: readonly BoundValue[] },
  ): Promise<PgQueryResult>;
  describeQuery(
    sql: string,
    options: { token: string; parameters?: readonly BoundValue[] },
  ): Promise<{ columns: ColumnInfo[]; parameterCount: number }>;
  /**
   * Answers a query over `pg_catalog`/`information_schema` from what the principal may see, or
   * `undefined` when the query reads anything else (it then goes to `query`).
   */
  introspect?(
    sql: string,
    options: { token: string; parameters?: readonly BoundValue[] },
  ): Promise<PgQueryResult | undefined>;
}

/** The running serve: its `platform` is read on every call, since Git sync replaces it. */
export interface PgServedHandle {
  readonly platform: PgPlatform;
}

/** A Parse message kept under its name. */
interface PreparedStatement {
  sql: string;
  parameterTypes: number[];
}

/** What running a statement produced: rows with their columns, or just a command tag. */
interface Outcome {
  tag: string;
  columns?: { name: string; type: PgType }[];
  rows?: unknown[][];
}

/** A bound statement: run once (at Describe or the first Execute), its rows handed out in chunks. */
interface Portal {
  statement: PreparedStatement;
  parameters: BoundValue[];
  resultFormats: number[];
  outcome?: Outcome;
  sent: number;
}

/** An error carrying the SQLSTATE the client sees. */
class PgError extends Error {
  constructor(readonly fields: ErrorFields) {
    super(fields.message);
  }
}

/** A server-wide registry so a CancelRequest (its own connection) finds the query it stops. */
export interface ConnectionRegistry {
  add(connection: PgConnection): void;
  remove(connection: PgConnection): void;
}

/** Queries that may be catalog introspection (decided by the platform by parsing; this only spares it the rest). */
const MAY_BE_INTROSPECTION =
  /\b(pg_catalog|information_schema|pg_[a-z_]+|current_schemas?|format_type|obj_description|col_description)\b/i;

type TransactionStatus = 'I' | 'T' | 'E';

/**
 * One client connection after the startup packet: password authentication (user = principal,
 * password = token), then the simple and extended query protocols. Every statement that reads is
 * run through the platform with the connection's token; the rest is answered here.
 */
export class PgConnection {
  readonly processId: number;
  readonly secret: number;
  private readonly startup: Record<string, string>;
  private readonly settings: Map<string, string>;
  private token: string | undefined;
  private authenticated = false;
  private status: TransactionStatus = 'I';
  private skippingUntilSync = false;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();
  private running: AbortController | undefined;
  private closed = false;

  constructor(
    private readonly handle: PgServedHandle,
    startup: Record<string, string>,
    identity: { processId: number; secret: number },
    private readonly log: (message: string) => void,
  ) {
    this.startup = startup;
    this.processId = identity.processId;
    this.secret = identity.secret;
    this.settings = defaultSettings(startup);
  }

  get user(): string {
    return this.startup.user ?? '';
  }

  /** Stop the running query, if any (CancelRequest, or the client went away). */
  cancel(): void {
    this.running?.abort(new Error('cancelled by the client'));
  }

  /** The client disconnected: stop what runs, forget the token. */
  close(): void {
    this.closed = true;
    this.cancel();
    this.token = undefined;
  }

  /**
   * The answer to one frontend message; `close` means end the connection after writing it.
   * Nothing a client sends makes this throw: errors become ErrorResponse messages.
   */
  async receive(message: Uint8Array): Promise<{ reply: Uint8Array; close?: boolean }> {
    const reply = new ReplyWriter();
    const type = String.fromCharCode(message[0]!);
    try {
      if (!this.authenticated) {
        if (type !== 'p') throw new ProtocolViolation(`expected a password message, got "${type}"`);
        const close = await this.authenticate(readPassword(message), reply);
        return { reply: reply.bytes(), close };
      }
      switch (type) {
        case 'Q':
          await this.simpleQuery(readQuery(message), reply);
          break;
        case 'P':
          this.onExtended(reply, () => this.parse(message, reply));
          break;
        case 'B':
          this.onExtended(reply, () => this.bind(message, reply));
          break;
        case 'D':
          await this.onExtendedAsync(reply, () => this.describe(message, reply));
          break;
        case 'E':
          await this.onExtendedAsync(reply, () => this.execute(message, reply));
          break;
        case 'C':
          this.onExtended(reply, () => this.closeTarget(message, reply));
          break;
        case 'S':
          this.skippingUntilSync = false;
          this.portals.delete('');
          reply.readyForQuery(this.status);
          break;
        case 'H':
          break;
        case 'X':
          return { reply: reply.bytes(), close: true };
        case 'd':
        case 'c':
        case 'f':
          // COPY data outside a COPY: PostgreSQL ignores it too.
          break;
        default:
          throw new ProtocolViolation(`unsupported message type "${type}"`);
      }
    } catch (error) {
      if (error instanceof ProtocolViolation) {
        reply.error({ severity: 'FATAL', code: '08P01', message: `protocol violation: ${error.message}` });
        return { reply: reply.bytes(), close: true };
      }
      throw error;
    }
    return { reply: reply.bytes() };
  }

  private async authenticate(password: string, reply: ReplyWriter): Promise<boolean> {
    const principal = password === '' ? undefined : await this.handle.platform.verifyToken(password);
    if (principal === undefined || principal !== this.user) {
      // Never say which part was wrong: an unknown token and another principal's token look alike.
      reply.error({
        severity: 'FATAL',
        code: '28P01',
        message: `password authentication failed for user "${this.user}"`,
      });
      this.log(`pgwire: authentication failed for user "${this.user}"`);
      return true;
    }
    this.token = password;
    this.authenticated = true;
    reply.authenticationOk();
    for (const [name, reported] of Object.entries(REPORTED_SETTINGS)) {
      reply.parameterStatus(reported, this.settings.get(name) ?? '');
    }
    reply.backendKeyData(this.processId, this.secret);
    reply.readyForQuery('I');
    return false;
  }

  // -- the simple query protocol ------------------------------------------------------------

  private async simpleQuery(sql: string, reply: ReplyWriter): Promise<void> {
    const statements = splitStatements(sql);
    if (statements.length === 0) reply.emptyQueryResponse();
    for (const statement of statements) {
      try {
        const outcome = await this.run(statement, []);
        if (outcome.columns) {
          reply.rowDescription(fieldsOf(outcome.columns, []));
          for (const row of outcome.rows ?? []) reply.dataRow(encodeRow(row, outcome.columns, []));
        }
        reply.commandComplete(outcome.tag);
      } catch (error) {
        this.fail(error, statement, reply);
        break;
      }
    }
    reply.readyForQuery(this.status);
  }

  // -- the extended query protocol ----------------------------------------------------------

  /** After an error, every extended-protocol message up to Sync is skipped. */
  private onExtended(reply: ReplyWriter, work: () => void): void {
    if (this.skippingUntilSync) return;
    try {
      work();
    } catch (error) {
      if (error instanceof ProtocolViolation) throw error;
      this.fail(error, undefined, reply);
      this.skippingUntilSync = true;
    }
  }

  private async onExtendedAsync(reply: ReplyWriter, work: () => Promise<void>): Promise<void> {
    if (this.skippingUntilSync) return;
    try {
      await work();
    } catch (error) {
      if (error instanceof ProtocolViolation) throw error;
      this.fail(error, undefined, reply);
      this.skippingUntilSync = true;
    }
  }

  private parse(message: Uint8Array, reply: ReplyWriter): void {
    const { statement, sql, parameterTypes } = readParse(message);
    if (statement !== '' && this.statements.has(statement)) {
      throw new PgError({
        severity: 'ERROR',
        code: '42P05',
        message: `prepared statement "${statement}" already exists`,
      });
    }
    if (splitStatements(sql).length > 1) {
      throw new PgError({
        severity: 'ERROR',
        code: '42601',
        message: 'cannot insert multiple commands into a prepared statement',
      });
    }
    this.statements.set(statement, { sql, parameterTypes });
    reply.parseComplete();
  }

  private bind(message: Uint8Array, reply: ReplyWriter): void {
    const bind = readBind(message);
    const statement = this.statements.get(bind.statement);
    if (!statement) {
      throw new PgError({
        severity: 'ERROR',
        code: '26000',
        message: `prepared statement "${bind.statement}" does not exist`,
      });
    }
    if (bind.portal !== '' && this.portals.has(bind.portal)) {
      throw new PgError({
        severity: 'ERROR',
        code: '42P03',
        message: `portal "${bind.portal}" already exists`,
      });
    }
    const parameters = bind.parameters.map((raw, index) =>
      decodeParameter(raw, bind.parameterFormats[index]!, statement.parameterTypes[index] ?? 0, index + 1),
    );
    this.portals.set(bind.portal, { statement, parameters, resultFormats: bind.resultFormats, sent: 0 });
    reply.bindComplete();
  }

  private async describe(message: Uint8Array, reply: ReplyWriter): Promise<void> {
    const target = readTarget(message);
    if (target.kind === 'S') {
      const statement = this.statements.get(target.name);
      if (!statement) {
        throw new PgError({
          severity: 'ERROR',
          code: '26000',
          message: `prepared statement "${target.name}" does not exist`,
        });
      }
      const { columns, parameterCount } = await this.describeStatement(statement);
      const count = Math.max(parameterCount, statement.parameterTypes.length);
      reply.parameterDescription(
        Array.from({ length: count }, (_, index) => statement.parameterTypes[index] || 25),
      );
      if (columns) reply.rowDescription(fieldsOf(columns, []));
      else reply.noData();
      return;
    }
    const portal = this.requirePortal(target.name);
    // The portal runs now, once: its rows are kept for Execute (drivers send Describe, then Execute).
    const outcome = await this.outcomeOf(portal);
    if (outcome.columns) reply.rowDescription(fieldsOf(outcome.columns, portal.resultFormats));
    else reply.noData();
  }

  private async describeStatement(
    statement: PreparedStatement,
  ): Promise<{ columns?: { name: string; type: PgType }[]; parameterCount: number }> {
    const session = sessionStatementOf(statement.sql);
    if (session || isEmptyStatement(statement.sql)) {
      const columns = session ? sessionColumns(session) : undefined;
      return { ...(columns ? { columns } : {}), parameterCount: 0 };
    }
    const token = this.requireToken();
    const platform = this.handle.platform;
    if (platform.introspect && MAY_BE_INTROSPECTION.test(statement.sql)) {
      const parameters = Array.from({ length: statement.parameterTypes.length }, () => null);
      const introspected = await this.guarded(statement.sql, () =>
        platform.introspect!(statement.sql, { token, parameters }),
      );
      if (introspected)
        return { columns: typedColumns(introspected.columns), parameterCount: parameters.length };
    }
    const described = await this.guarded(statement.sql, () =>
      platform.describeQuery(statement.sql, { token }),
    );
    return { columns: typedColumns(described.columns), parameterCount: described.parameterCount };
  }

  private async execute(message: Uint8Array, reply: ReplyWriter): Promise<void> {
    const { portal: name, maxRows } = readExecute(message);
    const portal = this.requirePortal(name);
    const outcome = await this.outcomeOf(portal);
    if (!outcome.columns) {
      reply.commandComplete(outcome.tag);
      return;
    }
    const rows = outcome.rows ?? [];
    const end = maxRows > 0 ? Math.min(rows.length, portal.sent + maxRows) : rows.length;
    for (let index = portal.sent; index < end; index += 1) {
      reply.dataRow(encodeRow(rows[index]!, outcome.columns, portal.resultFormats));
    }
    portal.sent = end;
    if (end < rows.length) reply.portalSuspended();
    else reply.commandComplete(outcome.tag);
  }

  private closeTarget(message: Uint8Array, reply: ReplyWriter): void {
    const target = readTarget(message);
    if (target.kind === 'S') this.statements.delete(target.name);
    else this.portals.delete(target.name);
    reply.closeComplete();
  }

  private requirePortal(name: string): Portal {
    const portal = this.portals.get(name);
    if (!portal)
      throw new PgError({ severity: 'ERROR', code: '34000', message: `portal "${name}" does not exist` });
    return portal;
  }

  private async outcomeOf(portal: Portal): Promise<Outcome> {
    portal.outcome ??= await this.run(portal.statement.sql, portal.parameters);
    return portal.outcome;
  }

  // -- running one statement ----------------------------------------------------------------

  private async run(sql: string, parameters: BoundValue[]): Promise<Outcome> {
    const session = sessionStatementOf(sql);
    if (this.status === 'E' && session?.kind !== 'rollback' && session?.kind !== 'commit') {
      throw new PgError({
        severity: 'ERROR',
        code: '25P02',
        message: 'current transaction is aborted, commands ignored until end of transaction block',
        hint: 'send ROLLBACK to end it',
      });
    }
    if (session) return this.runSessionStatement(session);
    if (isEmptyStatement(sql)) return { tag: '' };
    const token = this.requireToken();
    const platform = this.handle.platform;
    if (platform.introspect && MAY_BE_INTROSPECTION.test(sql)) {
      const introspected = await this.guarded(sql, () => platform.introspect!(sql, { token, parameters }));
      if (introspected) return rowsOutcome(introspected);
    }
    const controller = new AbortController();
    this.running = controller;
    try {
      const result = await this.guarded(sql, () =>
        platform.query(sql, { token, signal: controller.signal, parameters }),
      );
      return rowsOutcome(result);
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  private runSessionStatement(statement: SessionStatement): Outcome {
    switch (statement.kind) {
      case 'set': {
        if (
          statement.name === 'client_encoding' &&
          statement.value &&
          !/^(utf-?8|unicode)$/i.test(statement.value)
        ) {
          throw new PgError({
            severity: 'ERROR',
            code: '22023',
            message: `client_encoding "${statement.value}" is not supported; Tessera speaks UTF8 only`,
          });
        }
        const defaults = defaultSettings(this.startup);
        const value = statement.value ?? defaults.get(statement.name) ?? '';
        this.settings.set(statement.name, value);
        return { tag: 'SET' };
      }
      case 'reset': {
        const defaults = defaultSettings(this.startup);
        if (statement.name === undefined)
          for (const [name, value] of defaults) this.settings.set(name, value);
        else if (defaults.has(statement.name))
          this.settings.set(statement.name, defaults.get(statement.name)!);
        else this.settings.delete(statement.name);
        return { tag: 'RESET' };
      }
      case 'show': {
        if (statement.name === 'all') {
          return {
            tag: 'SHOW',
            columns: ['name', 'setting', 'description'].map((name) => ({ name, type: pgTypeOf('VARCHAR') })),
            rows: [...this.settings]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, value]) => [name, value, '']),
          };
        }
        const value = this.settings.get(statement.name);
        if (value === undefined) {
          throw new PgError({
            severity: 'ERROR',
            code: '42704',
            message: `unrecognized configuration parameter "${statement.name}"`,
          });
        }
        return {
          tag: 'SHOW',
          columns: [{ name: statement.name, type: pgTypeOf('VARCHAR') }],
          rows: [[value]],
        };
      }
      case 'begin':
        if (this.status === 'I') this.status = 'T';
        return { tag: 'BEGIN' };
      case 'commit': {
        const failed = this.status === 'E';
        this.status = 'I';
        return { tag: failed ? 'ROLLBACK' : 'COMMIT' };
      }
      case 'rollback':
        this.status = 'I';
        return { tag: 'ROLLBACK' };
      case 'ignored':
        if (statement.tag === 'DISCARD ALL' || statement.tag === 'DEALLOCATE ALL') {
          for (const name of [...this.statements.keys()]) if (name !== '') this.statements.delete(name);
        }
        return { tag: statement.tag };
      case 'function':
        return {
          tag: 'SELECT 1',
          columns: [{ name: statement.column, type: pgTypeOf('VARCHAR') }],
          rows: [
            [
              statement.value({
                user: this.user,
                database: this.startup.database ?? this.user,
                processId: this.processId,
                settings: this.settings,
              }),
            ],
          ],
        };
    }
  }

  private requireToken(): string {
    if (!this.token || this.closed) {
      throw new PgError({ severity: 'FATAL', code: '28000', message: 'the connection is not authenticated' });
    }
    return this.token;
  }

  /** Run platform work, turning its errors into PostgreSQL errors with the platform's own message. */
  private async guarded<T>(sql: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new PgError(errorFieldsOf(error, sql));
    }
  }

  /** An error answer; inside a transaction block it fails the block (status E) until ROLLBACK. */
  private fail(error: unknown, sql: string | undefined, reply: ReplyWriter): void {
    const fields =
      error instanceof PgError
        ? error.fields
        : error instanceof ParameterError
          ? { severity: 'ERROR' as const, code: error.sqlState, message: error.message }
          : errorFieldsOf(error, sql ?? '');
    if (
      !(error instanceof PgError) &&
      !(error instanceof ParameterError) &&
      tesseraCodeOf(error) === undefined
    ) {
      this.log(
        `pgwire: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
    reply.error(fields);
    if (this.status === 'T') this.status = 'E';
  }
}

/** A platform error as the client sees it: the platform's message, a SQLSTATE that fits its code. */
function errorFieldsOf(error: unknown, sql: string): ErrorFields {
  if (error instanceof PgError) return error.fields;
  const code = tesseraCodeOf(error);
  if (code !== undefined) {
    const message = (error as Error).message;
    switch (code) {
      case 'query_refused': {
        // A table the principal may not read is absent, as in PostgreSQL's catalog: undefined_table.
        if (/\btable \S+ not found\b/.test(message)) return { severity: 'ERROR', code: '42P01', message };
        const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
        // Writes are refused as in a read-only transaction; anything else the guard denies is a privilege.
        return {
          severity: 'ERROR',
          code: keyword && WRITE_KEYWORDS.has(keyword) ? '25006' : '42501',
          message,
        };
      }
      case 'query_cancelled':
        return {
          severity: 'ERROR',
          code: '57014',
          message: `canceling statement due to user request: ${message}`,
        };
      case 'query_timeout':
        return { severity: 'ERROR', code: '57014', message };
      case 'unauthorized':
        return { severity: 'FATAL', code: '28000', message };
      case 'usage':
        return { severity: 'ERROR', code: '22023', message };
      default:
        return {
          severity: 'ERROR',
          code: engineErrorCode(message),
          message,
        };
    }
  }
  return {
    severity: 'ERROR',
    code: 'XX000',
    message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/**
 * The platform's error code (`TesseraError.code`), read off the error: faces import only types from
 * the layers below the platform, and Node's own errors (codes like ECONNRESET) are not the platform's.
 */
function tesseraCodeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return undefined;
  return /^[a-z_]+$/.test(error.code) ? (error.code as ErrorCode) : undefined;
}

/** The SQLSTATE of an engine error, from DuckDB's message (a denied column is simply not there). */
function engineErrorCode(message: string): string {
  if (/Parser Error|syntax error/i.test(message)) return '42601';
  if (/Referenced column .* not found|column .* (not found|does not exist)/i.test(message)) return '42703';
  if (/Table with name .* does not exist|table .* not found/i.test(message)) return '42P01';
  if (/(Scalar|Table|Aggregate) Function with name .* does not exist/i.test(message)) return '42883';
  if (/Conversion Error|Could not convert/i.test(message)) return '22P02';
  if (/Binder Error/i.test(message)) return '42804';
  return '42000';
}

function typedColumns(columns: ColumnInfo[]): { name: string; type: PgType }[] {
  return columns.map((column) => ({ name: column.name, type: pgTypeOf(column.type) }));
}

function rowsOutcome(result: PgQueryResult): Outcome {
  const names = result.columns.map((column) => column.name);
  return {
    tag: `SELECT ${result.rows.length}`,
    columns: typedColumns(result.columns),
    rows: result.rows.map((row) => names.map((name) => row[name])),
  };
}

function sessionColumns(statement: SessionStatement): { name: string; type: PgType }[] | undefined {
  if (statement.kind === 'show') {
    const names = statement.name === 'all' ? ['name', 'setting', 'description'] : [statement.name];
    return names.map((name) => ({ name, type: pgTypeOf('VARCHAR') }));
  }
  if (statement.kind === 'function') return [{ name: statement.column, type: pgTypeOf('VARCHAR') }];
  return undefined;
}

function formatOf(formats: readonly number[], index: number): number {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0]!;
  return formats[index] ?? 0;
}

function fieldsOf(
  columns: readonly { name: string; type: PgType }[],
  formats: readonly number[],
): FieldDescription[] {
  return columns.map((column, index) => ({
    name: column.name,
    oid: column.type.oid,
    size: column.type.size,
    modifier: column.type.modifier,
    format: formatOf(formats, index),
  }));
}

function encodeRow(
  row: readonly unknown[],
  columns: readonly { type: PgType }[],
  formats: readonly number[],
): (Buffer | null)[] {
  return row.map((value, index) => {
    if (value === null || value === undefined) return null;
    const type = columns[index]!.type;
    return formatOf(formats, index) === 1 ? type.binary(value) : Buffer.from(type.text(value), 'utf8');
  });
}
