/**
 * The composition root: opens the catalog, storage and engine a catalog repo's settings name,
 * and offers the operations every interface (CLI, HTTP, pgwire) shares.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openCatalogStore, preloadCatalogStore } from './catalog/open-catalog-store.ts';
import type { CatalogStore } from './catalog/catalog-store.ts';
import { planChanges, type Plan } from './catalog/plan.ts';
import { applyDefinitions } from './catalog/apply.ts';
import {
  buildTaskGraph,
  HIPAA_SAFE_HARBOR,
  lintUnfollowedRowFilters,
  loadDefinitions,
  parseDuration,
  redactSecrets,
  type LoadDefinitionsOptions,
  type LoadedDefinitions,
  type SecretValue,
} from './definitions/index.ts';
import {
  DefinitionError,
  FileAccessError,
  NotFoundError,
  TesseraError,
  UsageError,
} from './diagnostics/errors.ts';
import { hasErrors, type Diagnostic } from './diagnostics/diagnostic.ts';
import { DuckdbEngine } from './engines/duckdb/duckdb-engine.ts';
import { PostgresEngine } from './engines/postgres/postgres-engine.ts';
import { nonPortableConstructs, renderForPostgres } from './sql/index.ts';
import type { Engine, QueryResult } from './engines/engine.ts';
import type { TaskGraph } from './graph/index.ts';
import type {
  CheckResult,
  Definitions,
  LineageEdge,
  QueryAuditEntry,
  QueryAuditFilter,
  Run,
  RunLogLine,
  Subscription,
  TableDef,
  TableHealth,
  Version,
} from './model/index.ts';
import type { DeliveryReport } from './notify/notifier.ts';
import type {
  AirflowDag,
  AirflowExportOptions,
  CancelOutcome,
  Clock,
  RunSelection,
} from './orchestrator/index.ts';
import { runInOrder } from './orchestrator/run-in-order.ts';
import { selectTasks } from './orchestrator/task-selection.ts';
import { checkCurrentVersion, EngineVersions, type RunContext } from './runner/index.ts';
import { columnLineage } from './sql/index.ts';
import { validationProblems } from './quality/index.ts';
import {
  QueryService,
  type DescribedQuery,
  type ExportedResult,
  type GovernedResult,
  type QueryOptions,
  type ReadQueryOptions,
} from './read-path/query-service.ts';
import type { VisibleTable } from './read-path/visible-catalog.ts';
import { CatalogIntrospection } from './read-path/catalog-introspection.ts';
import {
  findDeclassifications,
  newAuditId,
  projectHashKey,
  inheritRowFilters,
  ProjectionLineage,
  TokenService,
  type RowFilterLineage,
} from './governance/index.ts';
import { openStorage, PRIVATE_DIRECTORY_MODE, type Storage } from './storage/index.ts';
import { CatalogBrowser } from './platform/catalog-browser.ts';
import { writeBlankRepo, writeExample } from './platform/example-writer.ts';
import { formatDbtImportSummary, importDbt, type DbtImportResult } from './dbt-import/dbt-import.ts';
import { writeJsonSchemas } from './platform/json-schema-writer.ts';
import type { InferSchemaRequest, InferSchemaResult } from './platform/schema-inference.ts';
import { deliverAfterRuns, openNotifier, subscribe, type NotifierSettings } from './platform/monitoring.ts';
import { internalsOf, registerPlatformInternals } from './platform/internals.ts';
import { planRevisionChange } from './platform/base-plan.ts';
import { readRevisionTree } from './platform/revision-tree.ts';
import type { WatchGitSettings } from './platform/git-sync-server.ts';
import type { PushDelivery } from './sync/index.ts';
import { signedFileService, type SignedFileService } from './platform/signed-files.ts';
import { openLineageEmitter, type LineageEmitter } from './openlineage/index.ts';

export interface PlatformOptions {
  /** The catalog repo. */
  repo: string;
  env?: Record<string, string | undefined>;
  /**
   * Dev mode: the local CLI user is an administrator and a missing hash key is only a warning.
   * Default: on, unless the environment says `TESSERA_MODE=production`.
   */
  devMode?: boolean;
  /** Where background problems (an OpenLineage receiver down) are reported. Default: standard error. */
  warn?: (message: string) => void;
}

function devModeOf(options: PlatformOptions): boolean {
  return options.devMode ?? (options.env ?? process.env).TESSERA_MODE !== 'production';
}

/**
 * Load the repo and run every lint, including each validation's name and arguments: all problems
 * at once. Pure: reads only the repo's files.
 */
export async function checkRepo(
  options: PlatformOptions,
  load: Pick<LoadDefinitionsOptions, 'cache' | 'cacheOf' | 'onProject'> = {},
): Promise<LoadedDefinitions> {
  const { definitions, diagnostics, secrets } = await loadDefinitions(options.repo, {
    env: options.env,
    devMode: devModeOf(options),
    ...load,
  });
  for (const table of definitions.tables) {
    const columns = table.schema?.fields.map((field) => field.name);
    for (const validation of table.validations) {
      for (const problem of validationProblems(validation, columns)) {
        diagnostics.push({
          code: 'invalid-validation',
          severity: 'error',
          message: `table ${table.name}: ${problem}`,
          at: validation.at ?? table.at,
        });
      }
    }
  }
  if (definitions.project.governance.profile === HIPAA_SAFE_HARBOR) {
    // Needs column lineage (governance/), so it runs here rather than with the loader's lints.
    const { findings } = await inheritRowFilters(definitions);
    diagnostics.push(...lintUnfollowedRowFilters(definitions.tables, findings));
  }
  return { definitions, diagnostics, secrets };
}

/** `planAgainstRevision`'s options: the repo (its working tree is the head) and the base revision. */
export interface RevisionPlanOptions extends PlatformOptions {
  /** A branch, remote branch, tag or commit of the repo's Git history. */
  revision: string;
}

/**
 * The plan of a pull request: the working tree's definitions against those of Git revision
 * `revision`, as if that revision were applied. Opens no catalog and writes nothing into the repo
 * (its definition cache is read, for both sides, never written); the base is read from Git into a temporary folder,
 * removed after. Throws `DefinitionError` when the working tree has errors (as `validate`) and
 * `UsageError` for a revision Git does not know. Problems of the base are reported in the plan
 * (`comparison.baseProblems`), and what loaded of it is compared.
 */
export async function planAgainstRevision(options: RevisionPlanOptions): Promise<Plan> {
  const head = await checkRepo(options, { cache: 'read-only' });
  if (hasErrors(head.diagnostics))
    throw new DefinitionError(head.diagnostics.filter((d) => d.severity === 'error'));
  const tree = await readRevisionTree(options.repo, options.revision);
  try {
    // The working tree's cache is keyed by content, so it serves every file the base shares with it.
    const base = await checkRepo(
      { ...options, repo: tree.folder },
      { cache: 'read-only', cacheOf: options.repo },
    ).catch((error: unknown): LoadedDefinitions => {
      // A base that does not load at all (its tessera.yaml unreadable, say): reported, and
      // everything is new. A base without catalog files loads as empty, with no error.
      if (!(error instanceof TesseraError)) throw error;
      return {
        definitions: { ...head.definitions, tables: [], tasks: [], owners: [], roles: [], principals: [] },
        diagnostics: [
          {
            code: 'base-unreadable',
            severity: 'error',
            message: error.message,
            at: { file: '.', line: 1, column: 1 },
          },
        ],
        secrets: [],
      };
    });
    return await planRevisionChange({ head, base, revision: options.revision, commit: tree.commit });
  } finally {
    await tree.dispose();
  }
}

/** `runOrQueue`'s answer: where the runs went, and the runs (ended, unless queued without waiting). */
export interface RunOutcome {
  /**
   * Set when a `tessera serve` on the repo took the runs: its process id; `workers` (pid 0) when
   * `tessera worker` processes execute them (`orchestrator: workers`).
   */
  server?: { pid: number; workers?: boolean };
  /** False only for runs queued on a server without waiting: they may still be queued or running. */
  ended: boolean;
  runs: Run[];
}

/** Progress of `runOrQueue`; every callback is optional. */
export interface RunOrQueueOptions {
  /** With a server running: wait for the queued runs to end. Default: false. */
  wait?: boolean;
  /** Log lines of runs executed in this process. */
  onLog?: (line: RunLogLine) => void;
  /** With a server running: the runs were queued there. */
  onQueued?: (runs: Run[], server: { pid: number; workers?: boolean }) => void;
  /** While waiting on a server: a queued run changed state. */
  onRunChange?: (run: Run) => void;
  /** How runs executed here tell their owners (the `console` channel's output, warnings). */
  notifications?: NotifierSettings;
  /** Forget the selected tasks' source cursors first (`--full-refresh`; see `RunTasksOptions`). */
  fullRefresh?: boolean;
}

/** `run`'s options; every one is optional. */
export interface RunTasksOptions {
  /**
   * Forget the source cursors (object ETags, high-water marks, offsets) of the selected tasks before
   * running, so each reads its whole source again (`tessera run --full-refresh`). Default: false.
   */
  fullRefresh?: boolean;
}

/** `rollback`'s options; every one is optional. */
export interface RollbackOptions extends RunOrQueueOptions {
  /** Who asks, as the audit log records it. Default: `local-admin`, as for the CLI's queries. */
  principal?: string;
}

/** What `rollback` did: the new version, its run, and the runs it triggered downstream. */
export interface RollbackOutcome {
  /** The rollback's own run (trigger `rollback:TABLE@VERSION`). */
  run: Run;
  /** The new current version: the restored version's files under a new number. */
  version: Version;
  /** The version that was current before. */
  from: number;
  /** The runs downstream: ended here, or queued on the server (see `server`, `ended`). */
  downstream: RunOutcome;
}

/** `tessera serve`'s settings. */
export interface ServeSettings {
  /** Runs at once. */
  concurrency: number;
  /** How long a triggered run waits for more triggers to merge. */
  debounceMs: number;
  /** Server log lines. Default: none. */
  log?: (message: string) => void;
  /** Where time is read and timers armed. Default: the wall clock; tests pass one they move by hand. */
  clock?: Clock;
  /** How often freshness is checked and deliveries retried. Default: 30 s. */
  monitorEveryMs?: number;
  /** Where the `console` channel writes. Default: standard error. */
  writeConsole?: (text: string) => void;
  /**
   * Git sync (`--watch-git`): follow a branch of the remote the repo was cloned from, applying each
   * new head that passes validation and plan. Default: off.
   */
  watchGit?: WatchGitSettings;
}

/** What `tessera worker` asks for. */
export interface WorkerSettings {
  /** Runs at once in this worker. */
  concurrency: number;
  /** Log lines: runs claimed, finished, recovered. Default: none. */
  log?: (message: string) => void;
}

/** A running `tessera worker`. */
export interface WorkerHandle {
  /** Its identity on the runs it claims (`host:pid:nonce`). */
  readonly owner: string;
  /** Resolves once nothing is queued or running in the catalog's queue. */
  whenIdle(timeoutMs?: number): Promise<void>;
  /** Like `ServerHandle.stop`: finish within `graceMs`, requeue the rest (same attempt). */
  stop(graceMs: number): Promise<{ abandoned: boolean }>;
}

/**
 * How long a run's lease lasts without a heartbeat before another process recovers it: 30 s, or
 * `TESSERA_LEASE_TTL` (a duration, at most 1m; tests shorten it). Heartbeats come at a third of it
 * (at most every second).
 */
function leaseTtlMs(): number {
  const text = process.env.TESSERA_LEASE_TTL;
  if (text === undefined || text.trim() === '') return 30_000;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > 60_000) {
    throw new UsageError(`TESSERA_LEASE_TTL takes a duration from 1ms to 1m, like 30s or 5s; got ${text}`);
  }
  return ms;
}

function leaseTimings(): { staleAfterMs: number; heartbeatMs: number } {
  const staleAfterMs = leaseTtlMs();
  return { staleAfterMs, heartbeatMs: Math.max(50, Math.min(1000, Math.floor(staleAfterMs / 3))) };
}

/** A running `serve`. */
export interface ServerHandle {
  /**
   * Stop: running runs may finish for `graceMs`, what still runs is requeued for the next start,
   * and the platform is closed. `abandoned` means the engine may still be inside a statement of a
   * requeued run: the process should exit rather than wait for it.
   */
  stop(graceMs: number): Promise<{ abandoned: boolean }>;
  /** The SLA monitor and notification delivery (`idle()` resolves when it has nothing left to do). */
  readonly monitor: { request(): void; idle(): Promise<void> };
  /**
   * Git sync, with `watchGit`: `request()` fetches now, `idle()` resolves once no fetch or sync runs;
   * `webhookPort` is where the push webhook listens, if it does.
   */
  readonly sync?: {
    request(): void;
    idle(): Promise<void>;
    readonly webhookPort?: number;
    /** The push webhook's answer to one delivery (the HTTP API's `POST /api/v1/hooks/git`). */
    receivePush(delivery: PushDelivery): { status: number; body: unknown };
  };
  /** The platform serving now: Git sync replaces it when it applies a commit, so read it here each time. */
  readonly platform: Platform;
}

/** One Airflow DAG file `exportAirflow` wrote. */
export interface WrittenDag extends Omit<AirflowDag, 'content' | 'fileName'> {
  /** Absolute path of the file written. */
  file: string;
}

export class Platform {
  /** The project's engine (`engine:`): where queries and projections run. */
  #engine?: Promise<Engine>;
  /** DuckDB, which conforms, writes and checks every version (the project's engine too by default). */
  #localEngine?: Promise<Engine>;
  /** With a non-DuckDB engine: its copies of table versions, shared by runs and queries. */
  #warehouse?: Promise<RunContext['warehouse']>;
  #rowFilterLineage?: Promise<RowFilterLineage>;
  #projectionLineage?: Promise<ProjectionLineage>;
  readonly #queries: QueryService;
  #introspection?: CatalogIntrospection;
  readonly #store: CatalogStore;
  readonly #storage: Storage;
  readonly #graph: TaskGraph;
  readonly #catalog: CatalogBrowser;
  readonly #secrets: SecretValue[];
  /** OpenLineage out (`lineage.openlineage`), opened on the first run; null when not configured. */
  #lineageOut?: LineageEmitter | null;
  /** API and pgwire tokens: create, verify, list, revoke. */
  readonly tokens: TokenService;
  /** The project's hash key; an ES private field, so inspecting or serializing the platform never shows it. */
  readonly #hashKey: string;
  /** What it was opened with (Git sync re-opens the platform on each applied commit). */
  readonly #options: PlatformOptions;

  private constructor(
    /** The repo's definitions, `${VAR}`s interpolated. */
    readonly definitions: Definitions,
    /** Warnings found while loading (errors stop `open`). */
    readonly diagnostics: Diagnostic[],
    store: CatalogStore,
    storage: Storage,
    graph: TaskGraph,
    /** The repo's Git commit, recorded on every version; `undefined` outside Git. */
    readonly gitCommit: string | undefined,
    secrets: SecretValue[],
    devMode: boolean,
    hashKey: string,
    options: PlatformOptions,
    /**
     * Set when the working tree has errors and this platform (opened by `openForReading`) answers
     * from the definitions as last applied: the first of those errors.
     */
    readonly workingTreeError?: Diagnostic,
  ) {
    this.#options = options;
    this.#store = store;
    this.#storage = storage;
    this.#graph = graph;
    this.#secrets = secrets;
    this.#hashKey = hashKey;
    this.#catalog = CatalogBrowser.over(store);
    this.tokens = new TokenService(store, {
      isDeclaredPrincipal: (name) => definitions.principals.some((principal) => principal.name === name),
    });
    this.#queries = new QueryService(definitions, store, storage, () => this.#engineOnce(), {
      warehouse: () => this.#warehouseOnce(),
      localEngine: () => this.#localEngineOnce(),
      ...(/^postgres(ql)?:\/\//.test(definitions.project.engine)
        ? { engineSql: { render: renderForPostgres, refuseSql: nonPortableQueryReason } }
        : {}),
      devMode,
      tokens: this.tokens,
      hashKey,
      rowFilterLineage: () => this.rowFilterLineage(),
    });
    registerPlatformInternals(this, {
      definitions,
      graph,
      store,
      storage,
      engine: () => this.#localEngineOnce(),
      runContext: (onLog) => this.#runContext(onLog),
    });
  }

  /** How row filters follow rows into derived tables: computed once, on first use, from the definitions. */
  rowFilterLineage(): Promise<RowFilterLineage> {
    this.#rowFilterLineage ??= this.#projectionLineageOnce().then((lineage) =>
      inheritRowFilters(this.definitions, lineage),
    );
    return this.#rowFilterLineage;
  }

  /** Column lineage of every projection, shared by the reviews of declassifications and row filters. */
  #projectionLineageOnce(): Promise<ProjectionLineage> {
    this.#projectionLineage ??= ProjectionLineage.of(this.definitions);
    return this.#projectionLineage;
  }

  /**
   * Governed SQL: identified (a token; in dev mode a declared name or the local administrator),
   * guarded, rewritten for the principal's access, run in a sandboxed session, and audited.
   */
  query(sql: string, options: ReadQueryOptions = {}): Promise<GovernedResult> {
    return this.#queries.query(sql, options);
  }

  /** A governed query written by the engine to a temporary Parquet file (audited); dispose it after reading. */
  exportParquet(sql: string, options: ReadQueryOptions = {}): Promise<ExportedResult> {
    return this.#queries.exportParquet(sql, options);
  }

  /** The columns a governed statement would return, prepared but never run (for pgwire's Describe). */
  describeQuery(sql: string, options: ReadQueryOptions = {}): Promise<DescribedQuery> {
    return this.#queries.describe(sql, options);
  }

  /** The tables and columns the caller may see, typed as it reads them (lists, introspection). */
  visibleCatalog(options: QueryOptions): Promise<VisibleTable[]> {
    return this.#queries.visibleCatalog(options);
  }

  /**
   * A catalog query (`pg_catalog`, `information_schema`: psql's `\dt`, drivers' metadata) answered
   * over only what the caller may see, from empty tables in a scratch database; `undefined` when
   * the SQL reads anything else (send it to `query`). Reads no table data, so it is not audited.
   */
  async introspect(sql: string, options: ReadQueryOptions = {}): Promise<QueryResult | undefined> {
    // Shapes only, never data: a scratch DuckDB database answers, whatever the project's engine.
    this.#introspection ??= new CatalogIntrospection(() => this.#localEngineOnce());
    return this.#introspection.answer(sql, () => this.visibleCatalog(options), options.parameters);
  }

  /** The principal a token acts as, or `undefined` when it is unknown, expired or revoked (for servers). */
  verifyToken(token: string): Promise<string | undefined> {
    return this.tokens.verifyToken(token);
  }

  /** Signed, expiring URLs to a version's files, for principals that may read the table whole (audited). */
  signedFiles(): SignedFileService {
    const { store, storage } = internalsOf(this);
    return signedFileService({
      definitions: this.definitions,
      store,
      storage,
      tokens: this.tokens,
      rowFilterLineage: () => this.rowFilterLineage(),
    });
  }

  /** The query audit log, newest first. */
  auditLog(filter: QueryAuditFilter = {}): Promise<QueryAuditEntry[]> {
    return this.#catalog.auditLog(filter);
  }

  /** Read-only catalog questions (tables, versions, lineage, runs, logs) over this platform's catalog. */
  get catalog(): CatalogBrowser {
    return this.#catalog;
  }

  /** Load and check the repo's definitions (throws `DefinitionError` listing every problem), then open the catalog and storage. */
  static async open(options: PlatformOptions): Promise<Platform> {
    // `git rev-parse` runs in its own process and the catalog store's code loads (it needs only the
    // catalog's URL) while the definitions load; the catalog is opened only once they are valid.
    const commit = gitHead(options.repo);
    commit.catch(() => {}); // Awaited below; a load that fails first leaves it unawaited.
    const loaded = await checkRepo(options, {
      onProject: (project) => preloadCatalogStore(project.catalog),
    });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new DefinitionError(errors);
    await makeStateFolderPrivate(options.repo);
    const store = await openCatalogStore(loaded.definitions.project.catalog);
    return Platform.#assemble(options, loaded, store, await commit, undefined);
  }

  /**
   * Open for reading only (`query`): as `open`, but when the working tree has errors (outside
   * `tessera.yaml`) the platform answers from the definitions as last applied, which is what the
   * catalog's versions follow; `workingTreeError` then names the first problem. Throws
   * `DefinitionError` when `tessera.yaml` itself has errors or nothing was ever applied.
   */
  static async openForReading(options: PlatformOptions): Promise<Platform> {
    const commit = gitHead(options.repo);
    commit.catch(() => {});
    const loaded = await checkRepo(options, {
      onProject: (project) => preloadCatalogStore(project.catalog),
    });
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    await makeStateFolderPrivate(options.repo);
    if (errors.length === 0) {
      const store = await openCatalogStore(loaded.definitions.project.catalog);
      return Platform.#assemble(options, loaded, store, await commit, undefined);
    }
    if (errors.some((d) => d.at.file === 'tessera.yaml')) throw new DefinitionError(errors);
    const { project } = loaded.definitions;
    const store = await openCatalogStore(project.catalog);
    let applied: Definitions;
    try {
      const stored = await store.readDefinitions();
      if (stored.tables.length === 0) throw new DefinitionError(errors);
      applied = {
        project,
        tables: stored.tables.map((record) => record.definition as TableDef),
        tasks: stored.tasks,
        owners: stored.owners,
        roles: stored.roles,
        principals: stored.principals,
      };
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    const warnings = loaded.diagnostics.filter((d) => d.severity === 'warning');
    return Platform.#assemble(
      options,
      { definitions: applied, diagnostics: warnings, secrets: loaded.secrets },
      store,
      await commit,
      errors[0],
    );
  }

  static async #assemble(
    options: PlatformOptions,
    { definitions, diagnostics, secrets }: LoadedDefinitions,
    store: CatalogStore,
    commit: string | undefined,
    workingTreeError: Diagnostic | undefined,
  ): Promise<Platform> {
    let graph: TaskGraph;
    let hashKey: string;
    try {
      graph = await buildTaskGraph(definitions);
      hashKey = await projectHashKey(definitions.project, (name) => store.catalogKey(name));
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    const storage = openStorage(definitions.project.storage, {
      stateDirectory: join(definitions.project.root, '.tessera'),
      s3: definitions.project.s3,
    });
    return new Platform(
      definitions,
      diagnostics,
      store,
      storage,
      graph,
      commit,
      secrets,
      devModeOf(options),
      hashKey,
      options,
      workingTreeError,
    );
  }

  /** Write the healthcare example catalog repo with `patients` synthetic patients to `target`. */
  static writeExample(target: string, patients: number): Promise<void> {
    return writeExample(target, patients);
  }

  /**
   * Write a small blank catalog repo (one owner, schema, table with a sample CSV, projection, role)
   * to `target`, which may exist if it holds none of those files; returns the files written.
   */
  static writeBlankRepo(target: string): Promise<string[]> {
    return writeBlankRepo(target);
  }

  /**
   * Write a catalog repo to `outDir` from the dbt project in `projectDir` (docs/dbt-import.md);
   * returns what was converted, what needs a human, and the summary to print.
   */
  static async importDbt(
    projectDir: string,
    outDir: string,
    options: { namespace?: string } = {},
  ): Promise<DbtImportResult & { summary: string }> {
    const engine = await DuckdbEngine.create({ threads: 1 });
    try {
      const result = await importDbt({ projectDir, outDir, engine, ...options });
      return { ...result, summary: formatDbtImportSummary(result, outDir) };
    } finally {
      await engine.close();
    }
  }

  /** Write the JSON Schemas editors check the repo's YAML with into `dir`; returns the file names. */
  static exportJsonSchemas(dir: string): Promise<string[]> {
    return writeJsonSchemas(dir);
  }

  /**
   * `schema infer`: sample a source (a file, glob, s3://, database, NATS stream, or a task's
   * source) without acknowledging anything and draft its annotated `.proto`, table and task YAML,
   * likely PHI flagged with a suggested mask; written into `request.out` when given.
   */
  static async inferSchema(request: InferSchemaRequest): Promise<InferSchemaResult> {
    const { inferSchema } = await import('./platform/schema-inference.ts');
    return inferSchema(request);
  }

  /** The project's engine, started on first use: DuckDB, or PostgreSQL for `engine: postgres://…`. */
  #engineOnce(): Promise<Engine> {
    const url = this.definitions.project.engine;
    this.#engine ??= /^postgres(ql)?:\/\//.test(url)
      ? PostgresEngine.create(url).catch((error: unknown) => {
          const shown = url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
          throw new TesseraError(
            `cannot open the engine at ${shown}: ${error instanceof Error ? error.message : String(error)}; check \`engine\` in tessera.yaml (or TESSERA_ENGINE) and that the database exists and accepts connections`,
            { cause: error, code: 'unavailable' },
          );
        })
      : this.#localEngineOnce();
    return this.#engine;
  }

  /** DuckDB, started on first use. */
  #localEngineOnce(): Promise<Engine> {
    this.#localEngine ??= DuckdbEngine.create();
    return this.#localEngine;
  }

  /** The project's engine and its copies of versions, when it holds versions as tables. */
  #warehouseOnce(): Promise<RunContext['warehouse']> {
    this.#warehouse ??= (async () => {
      const engine = await this.#engineOnce();
      if (!engine.versionTables) return undefined;
      return {
        engine,
        versions: new EngineVersions(engine.versionTables, this.#storage, await this.#localEngineOnce()),
      };
    })();
    return this.#warehouse;
  }

  /**
   * The definitions as the catalog stores them: every `${VAR}` value put back as `${VAR}`, so
   * secrets are never persisted (runs use the interpolated `definitions`).
   */
  get storableDefinitions(): Definitions {
    return redactSecrets(this.definitions, this.#secrets);
  }

  /** What `apply` would change in the catalog. */
  async plan(): Promise<Plan> {
    const applied = await this.#store.readDefinitions();
    return planChanges(this.storableDefinitions, applied, {
      downstreamTables: (table) => [...this.#graph.derivedTables(table)],
      declassifications: await findDeclassifications(this.definitions, await this.#projectionLineageOnce()),
      rowFiltersToReview: (await this.rowFilterLineage()).findings.map(
        ({ table, upstream, filter, columns }) => ({ table, upstream, filter, columns }),
      ),
    });
  }

  /** Register the definitions in the catalog. Idempotent; refuses breaking schema changes without a version bump. */
  async apply(): Promise<Plan> {
    const plan = await this.plan();
    await applyDefinitions(this.#store, this.storableDefinitions, plan, {
      lineage: await this.lineage(),
      gitCommit: this.gitCommit,
    });
    return plan;
  }

  /** Run tasks now, in this process, in dependency order. Requires the definitions to be applied. */
  async run(
    selection: RunSelection,
    onLog?: (line: RunLogLine) => void,
    notifications: NotifierSettings = {},
    options: RunTasksOptions = {},
  ): Promise<Run[]> {
    await this.#requireApplied();
    if (options.fullRefresh) await this.#forgetSourceCursors(selection);
    const runs = await runInOrder(await this.#runContext(onLog), this.#graph, selection);
    await this.#lineageOut?.flush();
    // The process that ran the tasks tells their owners at once; `serve` retries what fails.
    await deliverAfterRuns(this.#monitoringParts(), notifications);
    return runs;
  }

  /** Every table's health with its reason, worst first, as of `now` (a server's clock). */
  health(now = Date.now()): Promise<TableHealth[]> {
    return this.#catalog.health(now);
  }

  /** Subscribe an owner to a table's events (kept in the catalog). */
  subscribe(request: { table: string; owner: string; events?: string[] }): Promise<Subscription> {
    return subscribe({ definitions: this.definitions, store: this.#store }, request);
  }

  /** False when the owner was not subscribed (a subscription from the repo is changed in the repo). */
  unsubscribe(table: string, owner: string): Promise<boolean> {
    return this.#store.unsubscribe(table, owner);
  }

  /** Settle recorded events and send what is due now (what `serve` does continuously). */
  async deliverNotifications(settings: NotifierSettings = {}): Promise<DeliveryReport> {
    const { notifier, close } = await openNotifier(this.#monitoringParts(), settings);
    try {
      await notifier.checkFreshness();
      return await notifier.flush();
    } finally {
      await close();
    }
  }

  #monitoringParts(): { definitions: Definitions; graph: TaskGraph; store: CatalogStore } {
    return { definitions: this.definitions, graph: this.#graph, store: this.#store };
  }

  /**
   * Run tasks, or, when a `tessera serve` runs on the repo, queue them there (it owns execution)
   * and with `wait` follow them until they end. Requires the definitions to be applied.
   */
  async runOrQueue(selection: RunSelection, options: RunOrQueueOptions = {}): Promise<RunOutcome> {
    const { findRunningServer } = await import('./orchestrator/index.ts');
    const fullRefresh = options.fullRefresh === true;
    if (this.definitions.project.orchestrator === 'workers') {
      // `tessera worker` processes execute every run: queue it in the catalog and follow it.
      await this.#requireApplied();
      if (fullRefresh) await this.#forgetSourceCursors(selection);
      return this.#queueOnServer(selection, { pid: 0, workers: true }, { ...options, wait: true });
    }
    const server = await findRunningServer(this.definitions.project.root);
    if (!server) {
      const runs = await this.run(selection, options.onLog, options.notifications, { fullRefresh });
      return { ended: true, runs };
    }
    await this.#requireApplied();
    if (fullRefresh) await this.#forgetSourceCursors(selection);
    return this.#queueOnServer(selection, { pid: server.pid }, options);
  }

  /** Clear the source cursors of the ingestion tasks a selection runs; their next runs read everything. */
  async #forgetSourceCursors(selection: RunSelection): Promise<void> {
    const names = new Set(selectTasks(this.definitions, this.#graph, selection));
    for (const task of this.definitions.tasks) {
      if (task.type === 'ingestion' && names.has(task.name)) await this.#store.clearSourceCursor(task.name);
    }
  }

  /** Queue a selection on the running server `at`; with `wait`, follow the runs until they end. */
  async #queueOnServer(
    selection: RunSelection,
    at: { pid: number; workers?: boolean },
    options: RunOrQueueOptions,
  ): Promise<RunOutcome> {
    const { enqueueSelection, waitForRuns, CatalogRunQueue } = await import('./orchestrator/index.ts');
    const queue = new CatalogRunQueue(this.#store, this.#graph, { leaseTtlMs: leaseTtlMs() });
    const queued = await enqueueSelection(queue, this.definitions, this.#graph, selection);
    options.onQueued?.(
      queued.map((entry) => entry.run),
      at,
    );
    if (!options.wait) return { server: at, ended: false, runs: queued.map((entry) => entry.run) };
    const runs = await waitForRuns(
      this.#store,
      this.definitions,
      queued.map((entry) => entry.run.id),
      { onChange: options.onRunChange },
    );
    return { server: at, ended: true, runs };
  }

  /**
   * Make version `to` of `table` current again by publishing a new version that lists its files
   * (nothing copied; the history stays), then trigger what reads the table as any publication does:
   * run here, or queued on the repo's running server (followed with `wait`). Refused, with what to
   * do instead, for an unknown table or version, the current version, or a version of another schema
   * version. Audited (allowed or refused) with the SQL column reading `tessera rollback TABLE --to N`.
   */
  async rollback(table: string, to: number, options: RollbackOptions = {}): Promise<RollbackOutcome> {
    const { rollbackTable, findRunningServer } = await import('./orchestrator/index.ts');
    const started = new Date();
    const audit = (reason?: string) =>
      this.#store.recordQueryAudit({
        id: newAuditId(started),
        at: started.toISOString(),
        principal: options.principal ?? 'local-admin',
        sql: `tessera rollback ${table} --to ${to}`,
        outcome: reason === undefined ? 'allowed' : 'refused',
        ...(reason === undefined ? {} : { reason }),
        tables: [table],
        columns: [],
        masks: [],
        rowFilters: [],
        durationMs: Date.now() - started.getTime(),
      });
    let rolled;
    try {
      await this.#requireApplied();
      rolled = await rollbackTable(await this.#runContext(options.onLog), this.#graph, { table, to });
    } catch (error) {
      if (error instanceof TesseraError) await audit(error.message);
      throw error;
    }
    await audit();
    const { run, version, from } = rolled;
    if (rolled.downstream.tasks.length === 0) {
      return { run, version, from, downstream: { ended: true, runs: [] } };
    }
    const server = await findRunningServer(this.definitions.project.root);
    const downstream = server
      ? await this.#queueOnServer(rolled.downstream, { pid: server.pid }, options)
      : {
          ended: true,
          runs: await runInOrder(await this.#runContext(options.onLog), this.#graph, rolled.downstream),
        };
    if (!server) await deliverAfterRuns(this.#monitoringParts(), options.notifications ?? {});
    await this.#lineageOut?.flush();
    return { run, version, from, downstream };
  }

  /** Cancel a queued run, or ask a running one's server to stop it; `NotFoundError` for an unknown run. */
  async cancelRun(
    runId: string,
    reason = 'cancelled by request',
  ): Promise<{ outcome: CancelOutcome; run: Run }> {
    const { CatalogRunQueue } = await import('./orchestrator/catalog-run-queue.ts');
    const outcome = await new CatalogRunQueue(this.#store, this.#graph).cancel(runId, reason);
    const run = outcome === 'not-found' ? undefined : await this.#store.getRun(runId);
    if (!run) throw new NotFoundError(`run ${runId} not found; \`tessera runs\` lists the runs`);
    return { outcome, run };
  }

  /** Stop triggering and scheduling a task (persisted); returns its queued runs, now cancelled. */
  async pauseTask(task: string): Promise<Run[]> {
    const { pauseTask } = await import('./orchestrator/index.ts');
    return pauseTask(this.#store, this.definitions, task);
  }

  /** Trigger and schedule a paused task again. */
  async resumeTask(task: string): Promise<void> {
    const { resumeTask } = await import('./orchestrator/index.ts');
    await resumeTask(this.#store, this.definitions, task);
  }

  /** Write one Airflow DAG file per connected part of the task graph into `out` (created if missing). */
  async exportAirflow(out: string, options: AirflowExportOptions): Promise<WrittenDag[]> {
    const { exportAirflowDags } = await import('./orchestrator/index.ts');
    const dags = exportAirflowDags(this.definitions, this.#graph, options);
    const folder = resolve(out);
    try {
      await mkdir(folder, { recursive: true });
      for (const dag of dags) await writeFile(join(folder, dag.fileName), dag.content);
    } catch (error) {
      throw new FileAccessError(
        `cannot write the DAG files to --out ${folder}: ${(error as Error).message}; choose a folder you can write to`,
        { cause: error },
      );
    }
    return dags.map(({ fileName, content: _content, ...dag }) => ({ file: join(folder, fileName), ...dag }));
  }

  /**
   * Start the scheduler, the trigger loop and the run queue on this repo (one server per repo:
   * `UsageError` when another runs). Requires the definitions to be applied.
   */
  async serve(settings: ServeSettings): Promise<ServerHandle> {
    if (settings.watchGit) {
      const { serveWithGitSync } = await import('./platform/git-sync-server.ts');
      return serveWithGitSync(this, this.#options, settings, settings.watchGit, (options) =>
        Platform.open(options),
      );
    }
    const { findRunningServer, MonitoringService, Orchestrator, ServerFileService, SYSTEM_CLOCK } =
      await import('./orchestrator/index.ts');
    const repo = this.definitions.project.root;
    const running = await findRunningServer(repo);
    if (running) {
      throw new UsageError(
        `a server is already running on ${repo} (pid ${running.pid}, since ${running.startedAt}); stop it first`,
      );
    }
    await this.#requireApplied();
    const clock = settings.clock ?? SYSTEM_CLOCK;
    const orchestrator = new Orchestrator(internalsOf(this), {
      concurrency: settings.concurrency,
      debounceMs: settings.debounceMs,
      log: settings.log,
      clock,
      // Under `orchestrator: workers`, serve queues and monitors; `tessera worker` processes execute.
      execute: this.definitions.project.orchestrator !== 'workers',
      ...leaseTimings(),
    });
    const log = settings.log ?? (() => {});
    const monitoring = await openNotifier(this.#monitoringParts(), {
      now: () => clock.now(),
      warn: log,
      ...(settings.writeConsole ? { writeConsole: settings.writeConsole } : {}),
    });
    const monitor = new MonitoringService(monitoring.notifier, {
      clock,
      ...(settings.monitorEveryMs !== undefined ? { intervalMs: settings.monitorEveryMs } : {}),
      log,
    });
    orchestrator.use(new ServerFileService(repo)).use(monitor);
    try {
      await orchestrator.start();
    } catch (error) {
      await monitoring.close();
      throw error;
    }
    return {
      monitor,
      platform: this,
      stop: async (graceMs) => {
        let released: string[] = [];
        try {
          released = await orchestrator.stop(graceMs, { exitAfter: true });
        } finally {
          await monitoring.close().catch(() => {});
          if (released.length === 0) await this.close();
        }
        if (released.length === 0) return { abandoned: false };
        // The engine may still be inside a statement of a requeued run: do not wait for it.
        await this.#store.close().catch(() => {});
        return { abandoned: true };
      },
    };
  }

  /**
   * `tessera worker`: claim and execute queued runs from the catalog's run queue (`orchestrator:
   * workers`, PostgreSQL catalog) until stopped. No schedules, no server file, no faces: any number
   * of workers on any machines share the queue; publication enqueues the readers, so a worker
   * executes whole waves. Requires the definitions to be applied.
   */
  async work(settings: WorkerSettings): Promise<WorkerHandle> {
    if (this.definitions.project.orchestrator !== 'workers') {
      throw new UsageError(
        '`tessera worker` needs `orchestrator: workers` (and a `postgres://` catalog) in tessera.yaml; with `orchestrator: local`, `tessera serve` executes the runs',
      );
    }
    await this.#requireApplied();
    const { Orchestrator } = await import('./orchestrator/index.ts');
    const orchestrator = new Orchestrator(internalsOf(this), {
      concurrency: settings.concurrency,
      schedules: false,
      continueStreams: true,
      ...(settings.log ? { log: settings.log } : {}),
      ...leaseTimings(),
    });
    await orchestrator.start();
    return {
      owner: orchestrator.owner.id,
      whenIdle: (timeoutMs) => orchestrator.whenIdle(timeoutMs),
      stop: async (graceMs) => {
        let released: string[] = [];
        try {
          released = await orchestrator.stop(graceMs, { exitAfter: true });
        } finally {
          if (released.length === 0) await this.close();
        }
        if (released.length === 0) return { abandoned: false };
        await this.#store.close().catch(() => {});
        return { abandoned: true };
      },
    };
  }

  /** Run a table's validations against its current version; publishes nothing. */
  async check(table: string): Promise<{ version: Version; checks: CheckResult[] }> {
    return checkCurrentVersion(await this.#runContext(), table);
  }

  async #runContext(onLog?: (line: RunLogLine) => void): Promise<RunContext> {
    return {
      definitions: this.definitions,
      store: this.#store,
      storage: this.#storage,
      engine: await this.#localEngineOnce(),
      warehouse: await this.#warehouseOnce(),
      hashKey: this.#hashKey,
      gitCommit: this.gitCommit,
      onLog,
      onRunEvent: this.#lineageOutOnce()?.observe,
    };
  }

  #lineageOutOnce(): LineageEmitter | undefined {
    this.#lineageOut ??=
      openLineageEmitter(this.definitions, {
        upstreamTables: (task) => this.#graph.upstreamTables(task),
        redact: (event) => redactSecrets(event, this.#secrets),
        ...(this.#options.warn ? { warn: this.#options.warn } : {}),
      }) ?? null;
    return this.#lineageOut ?? undefined;
  }

  /** Like `tessera run`: no work against a catalog that disagrees with the repo. */
  async #requireApplied(): Promise<void> {
    if (!(await this.plan()).isEmpty) {
      throw new UsageError(
        'the catalog repo has changes that are not applied yet; review them with `tessera plan` and register them with `tessera apply`',
      );
    }
  }

  /** Table-level edges for every task, and column-level edges where a projection's inputs are known. */
  async lineage(): Promise<LineageEdge[]> {
    const edges: LineageEdge[] = [];
    const columns = new Map(
      this.definitions.tables.map((table) => [table.name, table.schema?.fields.map((field) => field.name)]),
    );
    const columnsOf = (table: string) => columns.get(table);
    for (const task of this.definitions.tasks) {
      for (const upstream of this.#graph.upstreamTables(task.name)) {
        edges.push({ fromTable: upstream, toTable: task.target, task: task.name });
      }
      if (task.type !== 'projection' || !task.sql) continue;
      for (const output of await columnLineage(task.sql, columnsOf)) {
        for (const source of output.sources) {
          edges.push({
            fromTable: source.table,
            fromColumn: source.column,
            toTable: task.target,
            toColumn: output.name,
            task: task.name,
          });
        }
      }
    }
    return edges;
  }

  /** Close the catalog store and the engine (if it started). */
  async close(): Promise<void> {
    await this.#queries.settle();
    await this.#lineageOut?.close();
    await this.#introspection?.close();
    await this.#store.close();
    const engines = await Promise.all(
      [this.#engine, this.#localEngine].map((engine) => engine?.catch(() => undefined)),
    );
    for (const engine of new Set(engines)) await engine?.close();
  }
}

/** Why a query is refused on a PostgreSQL engine: the first construct outside the portable subset. */
async function nonPortableQueryReason(sql: string): Promise<string | undefined> {
  const [first] = await nonPortableConstructs(sql, { timeTravel: true });
  if (!first) return undefined;
  return `${first.message} (line ${first.line}, column ${first.column}); the project's engine is PostgreSQL, where queries keep to the portable subset that gives the same answer on every engine (docs/engines.md)`;
}

/**
 * The repo's state folder (`.tessera/`) is the platform user's alone, whatever the umask or the
 * version that created it; what Tessera creates inside it is private too (see storage/README.md).
 */
async function makeStateFolderPrivate(repo: string): Promise<void> {
  try {
    await chmod(join(repo, '.tessera'), PRIVATE_DIRECTORY_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function gitHead(repo: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['-C', repo, 'rev-parse', 'HEAD']);
    return stdout.trim() || undefined;
  } catch (error) {
    // Git not installed (ENOENT), or not a Git repository / no commit yet (git exits 128): versions
    // simply record no commit. Anything else is a real failure.
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 128) return undefined;
    throw error;
  }
}
