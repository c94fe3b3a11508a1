/**
 * The single path for user reads (invariant 2): identify the principal (a token, a declared name in
 * dev mode, or the local administrator in dev mode), guard and rewrite the SQL through governance/,
 * run it in a sandboxed engine session, and audit the query whatever its outcome.
 */
import type { CatalogStore } from '../catalog/catalog-store.ts';
import { leaseResolved, type HeldReadLease } from '../catalog/read-lease.ts';
import { toIsoTimestamp } from '../catalog/iso-timestamp.ts';
import { QueryError, QueryTimeoutError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  quoteLiteral,
  type ColumnInfo,
  type Engine,
  type EngineSession,
  type QueryResult,
} from '../engines/engine.ts';
import { visibleCatalog, type VisibleTable } from './visible-catalog.ts';
import { bindParameters, parameterCount, type ParameterValue } from '../sql/index.ts';
import {
  HASH_KEY_VARIABLE,
  GuardCache,
  guardQuery,
  hashKeyFingerprint,
  newAuditId,
  redactStoragePaths,
  sanitizeEngineErrorMessage,
  hashKeySqlFor,
  setHashKeySqlFor,
  type AccessPrincipal,
  type GuardContext,
  type GuardedQuery,
  type QueryAuditEntry,
  type RelationRequest,
  type ResolvedRelation,
  type RowFilterLineage,
  type TokenService,
} from '../governance/index.ts';
import { DEFAULT_QUERY_TIMEOUT_MS, type Definitions, type VersionRef } from '../model/index.ts';
import { formatDuration } from '../orchestrator/duration-text.ts';
import {
  parquetRelation,
  readPrecomputedHashColumns,
  type PrecomputedHashes,
  type RunContext,
} from '../runner/index.ts';
import type { Storage } from '../storage/index.ts';

/** The local developer at the CLI in dev mode: every table, column and row in clear. */
export const LOCAL_ADMIN: AccessPrincipal = { name: 'local-admin', groups: [], attributes: {}, admin: true };

/** Who asks. At most one of the two; neither means the local administrator, in dev mode only. */
export interface QueryOptions {
  /** A declared principal's name (`tessera query --as`); dev mode only: outside it, identify with a token. */
  principal?: string;
  /** An access token (`tessera token create`): the query runs as the token's principal. */
  token?: string;
  /**
   * How long the query may run before its engine statement is interrupted and it fails with
   * `QueryTimeoutError`; default `governance.query_timeout` (5 minutes when unset).
   */
  timeoutMs?: number;
}

/** A query's reading options: how many rows, its parameters, and who may stop it. */
export interface ReadQueryOptions extends QueryOptions {
  /** Return at most this many rows; `truncated` on the answer says whether there were more. */
  limit?: number;
  /**
   * Aborted when the client goes away or cancels: the running statement is interrupted and the query
   * fails with `QueryError` code `query_cancelled` (audited as failed).
   */
  signal?: AbortSignal;
  /** Values for `$1…$n`, bound into the SQL as literals before the guard (`sql/parameter-binding.ts`). */
  parameters?: readonly ParameterValue[];
}

export interface GovernedResult extends QueryResult {
  guarded: GuardedQuery;
}

/** A governed answer the engine wrote to a Parquet file; the caller reads `path`, then disposes. */
export interface ExportedResult {
  path: string;
  rowCount: number;
  columns: ColumnInfo[];
  /** Removes the file. */
  dispose(): Promise<void>;
}

/** What a statement would return, from preparing its governed rewrite; nothing is read. */
export interface DescribedQuery {
  columns: ColumnInfo[];
  parameterCount: number;
}

/** How the guarded statement is carried out: what the pipeline below hands the engine. */
type Execution<T> = (session: EngineSession, guarded: GuardedQuery) => Promise<T>;

export interface QueryServiceOptions {
  /** Dev mode: the local administrator by default, and `--as NAME` without a token. */
  devMode: boolean;
  tokens: TokenService;
  /** The project's hash key (`projectHashKey`): HASH masks hash with it. Never logged. */
  hashKey: string;
  /** How row filters follow rows into derived tables, computed once for these definitions. */
  rowFilterLineage: () => Promise<RowFilterLineage>;
  /**
   * Set when the project's engine holds versions as tables (PostgreSQL): queries read the versions
   * loaded there, and a version not loaded yet is loaded on first read.
   */
  warehouse?: () => Promise<Warehouse | undefined>;
  /** DuckDB, which writes exports of a warehouse's answers as Parquet. */
  localEngine?: () => Promise<Engine>;
  /** The engine's SQL for a rewritten query, and its limit on user SQL (see `GuardContext`). */
  engineSql?: Pick<GuardContext, 'render' | 'refuseSql'>;
}

/** The project's engine and its copies of table versions (`RunContext.warehouse`). */
type Warehouse = NonNullable<RunContext['warehouse']>;

/** Precomputed hash columns read from file footers, kept per version's files (they never change). */
const HASH_COLUMN_CACHE_LIMIT = 10_000;

interface Identity {
  principal: AccessPrincipal;
  tokenId?: string;
}

/** Where a query stopped: before it ran (governance refused it) or while the engine ran it. */
class QueryStageError extends Error {
  constructor(
    readonly outcome: 'refused' | 'failed',
    readonly error: unknown,
    /** The audit entry's reason when it is not the error's message. */
    reason?: string,
  ) {
    super(reason ?? (error instanceof Error ? error.message : String(error)));
  }
}

export class QueryService {
  private readonly hashColumnCache = new Map<string, Promise<PrecomputedHashes>>();
  /** Read leases of answered queries being released (`HeldReadLease.release` never rejects). */
  private readonly endingLeases = new Set<Promise<void>>();
  /** Rewrites of repeated queries; the definitions (roles, lineage) never change for this service. */
  private readonly guardCache = new GuardCache();
  private readonly hashKey: string;
  private readonly hashKeyFingerprint: string;

  constructor(
    private readonly definitions: Definitions,
    private readonly store: CatalogStore,
    private readonly storage: Storage,
    private readonly engine: () => Promise<Engine>,
    private readonly options: QueryServiceOptions,
  ) {
    this.hashKey = options.hashKey;
    this.hashKeyFingerprint = hashKeyFingerprint(this.hashKey);
  }

  /**
   * Run one governed query and record it in the audit log, allowed or not. Throws `QueryError`
   * (refused, failed or cancelled) or `UsageError` (an unknown principal, a missing parameter) with
   * a message fit for the user. An answer is only returned once its audit entry is written.
   */
  async query(sql: string, options: ReadQueryOptions = {}): Promise<GovernedResult> {
    const limit = rowLimitOf(options.limit);
    const { guarded, result } = await this.governed(sql, options, { audit: true }, async (session, guarded) =>
      session.query(guarded.sql, limit === undefined ? {} : { maxRows: limit }),
    );
    return { ...result, columns: await this.faceColumns(result.columns), guarded };
  }

  /**
   * The governed query written to a temporary Parquet file by the engine (audited like `query`):
   * the rows never pass through JavaScript, so a large answer costs what DuckDB's writer costs.
   */
  async exportParquet(sql: string, options: ReadQueryOptions = {}): Promise<ExportedResult> {
    const limit = rowLimitOf(options.limit);
    const warehouse = await this.options.warehouse?.();
    const folder = await this.exportFolder();
    const path = join(folder, `${randomUUID()}.parquet`);
    const dispose = () => rm(path, { force: true });
    try {
      const { result } = await this.governed(
        sql,
        options,
        { audit: true, writableDirectory: folder },
        async (session, guarded) => {
          const selected =
            limit === undefined ? guarded.sql : `SELECT * FROM (${guarded.sql}) AS answer LIMIT ${limit}`;
          if (warehouse) return this.exportFromWarehouse(warehouse, session, selected, path);
          const columns = await session.describe(selected);
          const written = await session.query(
            `COPY (${selected}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
          );
          const rowCount = Number(Object.values(written.rows[0] ?? {})[0] ?? 0);
          // The audit's row count: the rows handed out, here as a file.
          return { columns, rows: [], rowCount };
        },
      );
      return { path, rowCount: result.rowCount, columns: result.columns, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  /**
   * An export from an engine that cannot write Parquet (PostgreSQL): its answer streams out as CSV
   * beside the export, and DuckDB writes that as Parquet, typed as the engine typed the columns.
   */
  private async exportFromWarehouse(
    warehouse: Warehouse,
    session: EngineSession,
    sql: string,
    path: string,
  ): Promise<QueryResult & { rowCount: number }> {
    const csvFile = `${path}.csv`;
    try {
      const { columns, duckdbRelation } = await warehouse.engine.versionTables!.exportCsv(
        session,
        sql,
        csvFile,
      );
      const local = await this.options.localEngine!();
      const writer = await local.openSession();
      try {
        const written = await writer.query(
          `COPY (SELECT * FROM ${duckdbRelation}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const rowCount = Number(Object.values(written.rows[0] ?? {})[0] ?? 0);
        return { columns, rows: [], rowCount };
      } finally {
        writer.close();
      }
    } finally {
      await rm(csvFile, { force: true });
    }
  }

  /**
   * The columns a statement would return, from preparing its governed rewrite (a denied table fails
   * here as in `query`). Nothing is executed or read, so it is not audited; placeholders without a
   * value are bound as NULL.
   */
  async describe(sql: string, options: ReadQueryOptions = {}): Promise<DescribedQuery> {
    const count = parameterCount(sql);
    const given = options.parameters ?? [];
    const parameters = Array.from({ length: count }, (_, index) => given[index] ?? null);
    const { result } = await this.governed(
      sql,
      { ...options, parameters },
      { audit: false },
      async (session, guarded) => ({ columns: await session.describe(guarded.sql), rows: [] }),
    );
    return { columns: await this.faceColumns(result.columns), parameterCount: count };
  }

  /** The identify → guard → lease → engine → audit pipeline every read shares. */
  private async governed<T extends QueryResult & { rowCount?: number }>(
    sql: string,
    options: ReadQueryOptions,
    mode: { audit: boolean; writableDirectory?: string },
    execute: Execution<T>,
  ): Promise<{ guarded: GuardedQuery; result: T }> {
    const arrived = new Date();
    const started = performance.now();
    const entry: QueryAuditEntry = {
      id: newAuditId(arrived),
      at: arrived.toISOString(),
      principal: this.claimedPrincipal(options),
      sql,
      outcome: 'refused',
      tables: [],
      columns: [],
      masks: [],
      rowFilters: [],
      durationMs: 0,
    };
    const audit = async () => {
      if (mode.audit) await this.store.recordQueryAudit(entry);
    };
    let answer: { guarded: GuardedQuery; result: T };
    // The read lease `run` took. The engine hands the rows over whole, so once they are read nothing
    // reads the files: the lease ends after the audit entry is written, without the answer waiting
    // for it (a catalog write), and `settle` waits for leases still ending. Retention meanwhile
    // defers deleting the files; it never deletes them early.
    const leases: HeldReadLease[] = [];
    try {
      const identity = await this.refuseOnError(() => this.identify(options));
      entry.principal = identity.principal.name;
      if (identity.tokenId) entry.tokenId = identity.tokenId;
      if (options.parameters !== undefined) {
        const bound = await this.refuseOnError(async () => bindParameters(sql, options.parameters!));
        entry.sql = bound;
      }
      answer = await this.run(
        entry.sql,
        identity.principal,
        entry,
        this.timeoutOf(options),
        arrived,
        leases,
        {
          execute,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(mode.writableDirectory ? { writableDirectory: mode.writableDirectory } : {}),
        },
      );
    } catch (error) {
      // Anything else is a bug, but the query was still asked: audit it as failed, then let it surface.
      const stage = error instanceof QueryStageError ? error : new QueryStageError('failed', error);
      entry.outcome = stage.outcome;
      entry.reason = redactStoragePaths(stage.message, this.storage.readableDirectories);
      entry.durationMs = performance.now() - started;
      try {
        await audit();
      } finally {
        this.endLeases(leases);
      }
      throw error instanceof QueryStageError ? this.userError(error, entry.sql) : error;
    }
    entry.outcome = 'allowed';
    entry.rowsReturned = answer.result.rowCount ?? answer.result.rows.length;
    entry.durationMs = performance.now() - started;
    // Fail closed: an answer whose audit entry cannot be written is not handed out.
    try {
      await audit();
    } finally {
      this.endLeases(leases);
    }
    return answer;
  }

  /** Columns typed as the faces speak, whatever the engine (`Dialect.faceTypeName`). */
  private async faceColumns(columns: ColumnInfo[]): Promise<ColumnInfo[]> {
    const { dialect } = await this.engine();
    return columns.map((column) => ({ ...column, type: dialect.faceTypeName(column.type) }));
  }

  /** The catalog as the caller sees it: only tables it may read, only columns it may see. */
  async visibleCatalog(options: QueryOptions): Promise<VisibleTable[]> {
    const { principal } = await this.identify(options);
    return visibleCatalog(
      this.store,
      principal,
      this.definitions.roles,
      await this.options.rowFilterLineage(),
    );
  }

  /** Where Parquet exports are written: one private folder per service, made on first use. */
  private exportFolderMade?: Promise<string>;
  private exportFolder(): Promise<string> {
    this.exportFolderMade ??= mkdtemp(join(tmpdir(), 'tessera-export-'));
    return this.exportFolderMade;
  }

  /** Wait for the leases of answered queries to end; call before closing the catalog. */
  async settle(): Promise<void> {
    await Promise.all(this.endingLeases);
  }

  private endLeases(leases: HeldReadLease[]): void {
    for (const lease of leases) {
      const ending: Promise<void> = lease.release().finally(() => this.endingLeases.delete(ending));
      this.endingLeases.add(ending);
    }
  }

  /** Who the caller says it is, for the audit entry of a query refused before it was identified. */
  private claimedPrincipal(options: QueryOptions): string {
    if (options.token !== undefined) return '(unknown)';
    return options.principal ?? (this.options.devMode ? LOCAL_ADMIN.name : '(none)');
  }

  /** The query's time limit: the caller's, else the project's, else 5 minutes. */
  private timeoutOf(options: QueryOptions): number {
    const timeoutMs =
      options.timeoutMs ?? this.definitions.project.governance.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new UsageError(`a query time limit must be a positive duration, not ${timeoutMs} ms`);
    }
    return timeoutMs;
  }

  private async run<T>(
    sql: string,
    principal: AccessPrincipal,
    entry: QueryAuditEntry,
    timeoutMs: number,
    arrived: Date,
    /** Where the lease taken is left for the caller to end. */
    leases: HeldReadLease[],
    how: { execute: Execution<T>; signal?: AbortSignal; writableDirectory?: string },
  ): Promise<{ guarded: GuardedQuery; result: T }> {
    const { signal } = how;
    const cancelled = () =>
      new QueryStageError(
        'failed',
        new QueryError('the query was cancelled by the client before it finished', sql, {
          code: 'query_cancelled',
        }),
        'cancelled by the client',
      );
    if (signal?.aborted) throw cancelled();
    // The engine connects while the guard and the lease work on the catalog. The connection is one
    // an earlier query left idle when there is one: a query runs one SELECT (the guard refuses
    // anything else) and sets only the hash key variable, the same for every query of the project.
    const allowedDirectories = how.writableDirectory
      ? [...this.storage.readableDirectories, how.writableDirectory]
      : this.storage.readableDirectories;
    const engine = await this.engine();
    const warehouse = await this.options.warehouse?.();
    const opening = engine.openSession({ sandbox: { allowedDirectories }, reuse: true });
    // Never left unhandled: a failure surfaces where the session is awaited.
    opening.catch(() => undefined);
    let session: EngineSession | undefined;
    // The limit covers the whole query; when it passes, the running statement is interrupted and
    // no further statement starts.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      session?.interrupt();
    }, timeoutMs);
    const onAbort = () => session?.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = () =>
      new QueryStageError(
        'failed',
        new QueryTimeoutError(
          `the query ran longer than ${formatDuration(timeoutMs)} and was stopped; raise --timeout or governance.query_timeout in tessera.yaml, or narrow the query`,
          sql,
        ),
        `timed out after ${formatDuration(timeoutMs)}`,
      );
    try {
      // The files of every version read stay in place until the answer is read (retention in any
      // process leaves leased files alone); a version removed before the lease is taken is
      // resolved again.
      const {
        resolved: { guarded },
        lease,
      } = await this.refuseOnError(async () => {
        const rowFilterLineage = await this.options.rowFilterLineage();
        return leaseResolved(this.store, async () => {
          const versions: VersionRef[] = [];
          const guarded = await guardQuery(sql, {
            principal,
            roles: this.definitions.roles,
            resolveRelation: (request) => this.resolveRelation(request, opening, versions, warehouse),
            masks: {
              hashKeySql: hashKeySqlFor(engine.dialect),
              asOfDateSql: localDateSql(arrived),
              ...(warehouse ? { dialect: engine.dialect } : {}),
            },
            rowFilterLineage,
            cache: this.guardCache,
            ...this.options.engineSql,
          });
          return { guarded, versions };
        });
      });
      leases.push(lease);
      Object.assign(entry, {
        tables: guarded.tables,
        columns: guarded.columns,
        masks: guarded.masksApplied,
        rowFilters: guarded.rowFiltersApplied,
      } satisfies Partial<QueryAuditEntry>);
      try {
        session = await opening;
        // The key reaches mask SQL through a session variable, so it is never in SQL text or error
        // messages; the session is this query's alone until it is closed. Only a HASH computed at
        // read time needs it (user SQL cannot name the variable: `getvariable` is refused).
        if (guarded.sql.includes(HASH_KEY_VARIABLE)) {
          await session.run(setHashKeySqlFor(engine.dialect, this.hashKey));
        }
        if (timedOut) throw timeout();
        if (signal?.aborted) throw cancelled();
        return { guarded, result: await how.execute(session, guarded) };
      } catch (error) {
        if (timedOut) throw timeout();
        if (signal?.aborted) throw cancelled();
        if (error instanceof QueryStageError) throw error;
        throw new QueryStageError(
          'failed',
          new QueryError(sanitizeEngineErrorMessage((error as Error).message), undefined, {
            code: 'query_failed',
          }),
        );
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Opened even when the query was refused before it needed the session: close it all the same.
      await opening.then(
        (opened) => opened.close(),
        () => undefined,
      );
    }
  }

  /** The error the caller sees: the original Tessera error, or a QueryError with storage paths removed. */
  private userError(error: QueryStageError, sql: string): TesseraError {
    const message = redactStoragePaths(error.message, this.storage.readableDirectories);
    if (error.error instanceof TesseraError && message === error.message) return error.error;
    const code = error.error instanceof QueryError ? error.error.code : undefined;
    return new QueryError(message, sql, { cause: error.error, ...(code ? { code } : {}) });
  }

  private async refuseOnError<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof QueryStageError) throw error;
      if (error instanceof TesseraError) throw new QueryStageError('refused', error);
      throw error;
    }
  }

  private async identify(options: QueryOptions): Promise<Identity> {
    if (options.token !== undefined && options.principal !== undefined) {
      throw new UsageError('give a token or a principal, not both: the token names its principal');
    }
    if (options.token !== undefined) {
      const token = await this.options.tokens.verify(options.token);
      if (!token) {
        throw new QueryError(
          'the token is not valid: it is unknown, expired or revoked; create one with `tessera token create --principal NAME`',
        );
      }
      return { principal: this.declaredPrincipal(token.principal), tokenId: token.id };
    }
    if (!this.options.devMode) {
      throw new QueryError(
        'a token is required outside dev mode; create one with `tessera token create --principal NAME`',
      );
    }
    return {
      principal: options.principal !== undefined ? this.declaredPrincipal(options.principal) : LOCAL_ADMIN,
    };
  }

  private declaredPrincipal(name: string): AccessPrincipal {
    const declared = this.definitions.principals.find((principal) => principal.name === name);
    if (!declared) {
      throw new UsageError(
        `principal ${name} is not declared; add a \`kind: principal\` document for it under access/`,
      );
    }
    return { name: declared.name, groups: declared.groups, attributes: declared.attributes };
  }

  /** The relation for one table reference; the version it picks is added to `versions` (to lease). */
  private async resolveRelation(
    request: RelationRequest,
    session: Promise<EngineSession>,
    versions: VersionRef[],
    warehouse: Warehouse | undefined,
  ): Promise<ResolvedRelation | undefined> {
    const table = await this.store.getTable(request.table);
    if (!table) return undefined;
    const version = !request.at
      ? await this.store.getCurrentVersion(request.table)
      : request.at.unit === 'VERSION'
        ? await this.store.getVersion(request.table, request.at.value)
        : await this.store.getVersionAt(request.table, toIsoTimestamp(request.at.value));
    if (!version) {
      if (request.at) return undefined;
      throw new QueryError(
        `table ${request.table} has no published version yet; run the task that produces it`,
      );
    }
    versions.push({ table: request.table, version: version.version });
    // How this version was written decides what is masked, never the table's current `store:` (which
    // a YAML edit changes before any version is written that way). No record: read as raw.
    const storedMasks = version.storedMasks ?? {};
    const hashed = table.fields.some(
      (field) => field.sensitivity && field.mask === 'HASH' && storedMasks[field.name] === undefined,
    );
    // Object storage: the engine reads the version's immutable files from the local cache. An
    // engine that holds versions as tables reads its copy, loaded from those files on first read;
    // it hashes at read time (its copy has no precomputed hash columns).
    try {
      if (warehouse) {
        return {
          sql: await warehouse.versions.relation(request.table, version, table.fields),
          fields: table.fields,
          storedMasks,
        };
      }
      await this.storage.ensureLocal(version.files);
    } catch (error) {
      throw new QueryError(
        `cannot read version ${version.version} of ${request.table} from ${this.storage.url}: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        { code: 'query_failed', cause: error },
      );
    }
    return {
      sql: parquetRelation(this.storage, version.files),
      fields: table.fields,
      storedMasks,
      ...(hashed ? await this.precomputedHashes(version.files, session) : {}),
    };
  }

  /** The hash columns every file of a version holds, made with the current key (see runner/version-file-writer.ts). */
  private precomputedHashes(files: string[], session: Promise<EngineSession>): Promise<PrecomputedHashes> {
    const key = JSON.stringify(files);
    let columns = this.hashColumnCache.get(key);
    if (!columns) {
      if (this.hashColumnCache.size >= HASH_COLUMN_CACHE_LIMIT) this.hashColumnCache.clear();
      const paths = files.map((file) => this.storage.localPath(file));
      columns = session
        .then((opened) => readPrecomputedHashColumns(opened, paths, this.hashKeyFingerprint))
        .catch(() => {
          // Footers that cannot be read: hash at read time, and try the footers again next query. (A
          // missing file then fails the query itself, with a message fit for the user.)
          this.hashColumnCache.delete(key);
          return { hashColumns: {}, digestColumns: {} };
        });
      this.hashColumnCache.set(key, columns);
    }
    return columns;
  }
}

/** A row limit as given, checked: a positive whole number, or none. */
function rowLimitOf(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new UsageError(`a row limit is a whole number of rows, 0 or more, not ${limit}`);
  }
  return limit;
}

/**
 * The day a query arrived, as a DATE literal in the process's time zone (DuckDB's `current_date`
 * uses the same one): DATE_YEAR top-codes ages as of it. A literal is folded once when the query is
 * planned, where `current_date` costs about half a millisecond on every query; and since it is part
 * of the guard's masks, a rewrite cached yesterday is not reused today.
 */
function localDateSql(at: Date): string {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `DATE '${pad(at.getFullYear(), 4)}-${pad(at.getMonth() + 1, 2)}-${pad(at.getDate(), 2)}'`;
}
