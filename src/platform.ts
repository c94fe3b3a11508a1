/**
 * The composition root: opens the catalog, storage and engine a catalog repo's settings name,
 * and offers the operations every interface (CLI, HTTP, pgwire) shares.
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openCatalogStore } from './catalog/open-catalog-store.ts';
import type { CatalogStore } from './catalog/catalog-store.ts';
import { planChanges, type Plan } from './catalog/plan.ts';
import { applyDefinitions } from './catalog/apply.ts';
import {
  buildTaskGraph,
  HIPAA_SAFE_HARBOR,
  lintUnfollowedRowFilters,
  loadDefinitions,
  redactSecrets,
  type LoadedDefinitions,
  type SecretValue,
} from './definitions/index.ts';
import { DefinitionError, UsageError } from './diagnostics/errors.ts';
import { hasErrors, type Diagnostic } from './diagnostics/diagnostic.ts';
import { DuckdbEngine } from './engines/duckdb/duckdb-engine.ts';
import type { Engine } from './engines/engine.ts';
import type { TaskGraph } from './graph/index.ts';
import type { CheckResult, Definitions, LineageEdge, Run, RunLogLine, Version } from './model/index.ts';
import { runInOrder, type RunSelection } from './orchestrator/index.ts';
import { checkCurrentVersion, type RunContext } from './runner/index.ts';
import { columnLineage } from './sql/index.ts';
import { validationProblems } from './quality/index.ts';
import { QueryService, type GovernedResult, type QueryOptions } from './query-service.ts';
import {
  findDeclassifications,
  projectHashKey,
  inheritRowFilters,
  TokenService,
  type QueryAuditEntry,
  type QueryAuditFilter,
  type RowFilterLineage,
} from './governance/index.ts';
import { openStorage, PRIVATE_DIRECTORY_MODE, type Storage } from './storage/index.ts';

export interface PlatformOptions {
  /** The catalog repo. */
  repo: string;
  env?: Record<string, string | undefined>;
  /**
   * Dev mode: the local CLI user is an administrator and a missing hash key is only a warning.
   * Default: on, unless the environment says `TESSERA_MODE=production`.
   */
  devMode?: boolean;
}

function devModeOf(options: PlatformOptions): boolean {
  return options.devMode ?? (options.env ?? process.env).TESSERA_MODE !== 'production';
}

/**
 * Load the repo and run every lint, including each validation's name and arguments: all problems
 * at once. Pure: reads only the repo's files.
 */
export async function checkRepo(options: PlatformOptions): Promise<LoadedDefinitions> {
  const { definitions, diagnostics, secrets } = await loadDefinitions(options.repo, {
    env: options.env,
    devMode: devModeOf(options),
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

export class Platform {
  private engineInstance?: Promise<Engine>;
  private rowFilterLineageOnce?: Promise<RowFilterLineage>;
  private readonly queries: QueryService;
  /** API and pgwire tokens: create, verify, list, revoke. */
  readonly tokens: TokenService;
  /** The project's hash key; an ES private field, so inspecting or serializing the platform never shows it. */
  readonly #hashKey: string;

  private constructor(
    readonly definitions: Definitions,
    readonly diagnostics: Diagnostic[],
    readonly store: CatalogStore,
    readonly storage: Storage,
    readonly graph: TaskGraph,
    readonly gitCommit: string | undefined,
    private readonly secrets: SecretValue[],
    devMode: boolean,
    hashKey: string,
  ) {
    this.#hashKey = hashKey;
    this.tokens = new TokenService(store, {
      isDeclaredPrincipal: (name) => definitions.principals.some((principal) => principal.name === name),
    });
    this.queries = new QueryService(definitions, store, storage, () => this.engine(), {
      devMode,
      tokens: this.tokens,
      hashKey,
      rowFilterLineage: () => this.rowFilterLineage(),
    });
  }

  /** How row filters follow rows into derived tables: computed once, on first use, from the definitions. */
  rowFilterLineage(): Promise<RowFilterLineage> {
    this.rowFilterLineageOnce ??= inheritRowFilters(this.definitions);
    return this.rowFilterLineageOnce;
  }

  /**
   * Governed SQL: identified (a token; in dev mode a declared name or the local administrator),
   * guarded, rewritten for the principal's access, run in a sandboxed session, and audited.
   */
  query(sql: string, options: QueryOptions = {}): Promise<GovernedResult> {
    return this.queries.query(sql, options);
  }

  /** The principal a token acts as, or `undefined` when it is unknown, expired or revoked (for servers). */
  verifyToken(token: string): Promise<string | undefined> {
    return this.tokens.verifyToken(token);
  }

  /** The query audit log, newest first. */
  auditLog(filter: QueryAuditFilter = {}): Promise<QueryAuditEntry[]> {
    return this.store.listQueryAudit(filter);
  }

  /** Load and check the repo's definitions (throws `DefinitionError` listing every problem), then open the catalog and storage. */
  static async open(options: PlatformOptions): Promise<Platform> {
    const { definitions, diagnostics, secrets } = await checkRepo(options);
    if (hasErrors(diagnostics)) throw new DefinitionError(diagnostics.filter((d) => d.severity === 'error'));
    const graph = await buildTaskGraph(definitions);
    await makeStateFolderPrivate(options.repo);
    const store = await openCatalogStore(definitions.project.catalog);
    const storage = openStorage(definitions.project.storage);
    let hashKey: string;
    try {
      hashKey = await projectHashKey(definitions.project, (name) => store.catalogKey(name));
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    return new Platform(
      definitions,
      diagnostics,
      store,
      storage,
      graph,
      await gitHead(options.repo),
      secrets,
      devModeOf(options),
      hashKey,
    );
  }

  /** The engine, started on first use. */
  engine(): Promise<Engine> {
    this.engineInstance ??= DuckdbEngine.create();
    return this.engineInstance;
  }

  /**
   * The definitions as the catalog stores them: every `${VAR}` value put back as `${VAR}`, so
   * secrets are never persisted (runs use the interpolated `definitions`).
   */
  get storableDefinitions(): Definitions {
    return redactSecrets(this.definitions, this.secrets);
  }

  async plan(): Promise<Plan> {
    const applied = await this.store.readDefinitions();
    return planChanges(this.storableDefinitions, applied, {
      downstreamTables: (table) => this.graph.downstreamTables(table),
      declassifications: await findDeclassifications(this.definitions),
      rowFiltersToReview: (await this.rowFilterLineage()).findings.map(
        ({ table, upstream, filter, columns }) => ({ table, upstream, filter, columns }),
      ),
    });
  }

  /** Register the definitions in the catalog. Idempotent; refuses breaking schema changes without a version bump. */
  async apply(): Promise<Plan> {
    const plan = await this.plan();
    await applyDefinitions(this.store, this.storableDefinitions, plan, {
      lineage: await this.lineage(),
      gitCommit: this.gitCommit,
    });
    return plan;
  }

  /** Run tasks now, in this process, in dependency order. Requires the definitions to be applied. */
  async run(selection: RunSelection, onLog?: (line: RunLogLine) => void): Promise<Run[]> {
    const plan = await this.plan();
    if (!plan.isEmpty) {
      throw new UsageError(
        'the catalog repo has changes that are not applied yet; review them with `tessera plan` and register them with `tessera apply`',
      );
    }
    return runInOrder(await this.runContext(onLog), this.graph, selection);
  }

  /** Run a table's validations against its current version; publishes nothing. */
  async check(table: string): Promise<{ version: Version; checks: CheckResult[] }> {
    return checkCurrentVersion(await this.runContext(), table);
  }

  async runContext(onLog?: (line: RunLogLine) => void): Promise<RunContext> {
    return {
      definitions: this.definitions,
      store: this.store,
      storage: this.storage,
      engine: await this.engine(),
      hashKey: this.#hashKey,
      gitCommit: this.gitCommit,
      onLog,
    };
  }

  /** Table-level edges for every task, and column-level edges where a projection's inputs are known. */
  async lineage(): Promise<LineageEdge[]> {
    const edges: LineageEdge[] = [];
    const columns = new Map(
      this.definitions.tables.map((table) => [table.name, table.schema?.fields.map((field) => field.name)]),
    );
    const columnsOf = (table: string) => columns.get(table);
    for (const task of this.definitions.tasks) {
      for (const upstream of this.graph.upstreamTables(task.name)) {
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

  async close(): Promise<void> {
    await this.store.close();
    if (this.engineInstance) await (await this.engineInstance).close();
  }
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
