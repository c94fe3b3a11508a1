/**
 * Read-only questions about the catalog — tables, versions, lineage, runs, logs, the audit log —
 * answered from the catalog store alone. Opening one reads only `tessera.yaml` (for the catalog
 * URL), not the whole repo: `tessera tables` starts without loading the definitions, the engine or
 * the orchestrator, and still answers while the repo has errors elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CatalogStore, DeliveryFilter, IncidentFilter, RunFilter } from '../catalog/catalog-store.ts';
import { loadProjectSettings, requireRepoFolder } from '../definitions/project-settings-loader.ts';
import { findDefinitionFiles } from '../definitions/definition-file-finder.ts';
import { readYamlFile } from '../definitions/yaml-file-reader.ts';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { DefinitionError, NotFoundError } from '../diagnostics/errors.ts';
import type {
  QueryAuditEntry,
  QueryAuditFilter,
  Run,
  RunLogLine,
  Delivery,
  Subscription,
  SyncStatus,
  TableHealth,
  TableRecord,
  Version,
} from '../model/index.ts';
import { catalogHealth, deliveryHistory, incidentReports, type IncidentReport } from './catalog-health.ts';
import { tableLineage, type LineageQuestion, type TableLineage } from './table-lineage.ts';

/** Which catalog repo, and the environment its `${VAR}`s and overrides come from. */
export interface CatalogBrowserOptions {
  /** The catalog repo. */
  repo: string;
  /** Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

export class CatalogBrowser {
  private constructor(private readonly store: CatalogStore) {}

  /** Open the catalog `tessera.yaml` names (throws `DefinitionError` when that file has errors). */
  static async open(options: CatalogBrowserOptions): Promise<CatalogBrowser> {
    const env = options.env ?? process.env;
    const repo = resolve(options.repo);
    await requireRepoFolder(repo);
    // Dev mode only changes the severity of hash-key problems, which this reader never reports.
    const { project, diagnostics } = loadProjectSettings(repo, env, true);
    if (hasErrors(diagnostics)) {
      throw new DefinitionError(diagnostics.filter((diagnostic) => diagnostic.severity === 'error'));
    }
    const { openCatalogStore } = await import('../catalog/open-catalog-store.ts');
    return new CatalogBrowser(await openCatalogStore(project.catalog));
  }

  /**
   * The first YAML syntax error among the repo's definition files, if any: what a reader answering
   * from the catalog warns about. Syntax only (no zod, no .proto, no SQL), so it stays as light as
   * the commands that ask; `tessera validate` finds everything else.
   */
  static async firstSyntaxError(options: CatalogBrowserOptions): Promise<Diagnostic | undefined> {
    const repo = resolve(options.repo);
    const files = await findDefinitionFiles(repo);
    const texts = await Promise.all(files.map((file) => readFile(join(repo, file), 'utf8').catch(() => '')));
    for (const [index, file] of files.entries()) {
      const [first] = readYamlFile(file, texts[index]!).diagnostics;
      if (first) return first;
    }
    return undefined;
  }

  /** Wrap a store someone else opened and closes (the platform's). */
  static over(store: CatalogStore): CatalogBrowser {
    return new CatalogBrowser(store);
  }

  /** Every table, by name; with `search`, only those whose name, owner, description or columns contain it. */
  async tables(search?: string): Promise<TableRecord[]> {
    const needle = search?.toLowerCase();
    const tables = await this.store.listTables();
    return needle ? tables.filter((table) => searchText(table).includes(needle)) : tables;
  }

  /**
   * A table and its current version (if one is published); `NotFoundError` for an unknown table.
   * `failedRun`: the newest run of a task writing the table, when it failed after its checks ran
   * (they hold the unexpected values, which no published version records).
   */
  async table(name: string): Promise<{ table: TableRecord; current: Version | undefined; failedRun?: Run }> {
    const table = await this.requireTable(name);
    const current = await this.store.getCurrentVersion(name);
    const { tasks } = await this.store.readDefinitions();
    const latest = (
      await Promise.all(
        tasks
          .filter((task) => task.target === name)
          .map(async (task) => (await this.store.listRuns({ task: task.name, limit: 1 }))[0]),
      )
    )
      .filter((run): run is Run => run !== undefined)
      .sort((a, b) => b.queuedAt.localeCompare(a.queuedAt))[0];
    const failedRun = latest?.status === 'failed' && latest.checks?.length ? latest : undefined;
    return failedRun ? { table, current, failedRun } : { table, current };
  }

  /** A table's versions, newest first. */
  async versions(name: string): Promise<Version[]> {
    await this.requireTable(name);
    return this.store.listVersions(name);
  }

  /** A table's transitive upstream and downstream edges, table- or column-level. */
  async lineage(name: string, question: LineageQuestion = {}): Promise<TableLineage> {
    await this.requireTable(name);
    return tableLineage(await this.store.listLineage(), name, question);
  }

  /** Run history, newest first. */
  runs(filter: RunFilter = {}): Promise<Run[]> {
    return this.store.listRuns(filter);
  }

  /** A run's log lines; `NotFoundError` for an unknown run. */
  async runLog(runId: string): Promise<RunLogLine[]> {
    const lines = await this.store.readRunLog(runId);
    if (lines.length === 0 && !(await this.store.getRun(runId))) {
      throw new NotFoundError(`run ${runId} not found; \`tessera runs\` lists the runs`);
    }
    return lines;
  }

  /** The query audit log, newest first. */
  auditLog(filter: QueryAuditFilter = {}): Promise<QueryAuditEntry[]> {
    return this.store.listQueryAudit(filter);
  }

  /** Every table's health with its reason, worst first. */
  health(now = Date.now()): Promise<TableHealth[]> {
    return catalogHealth(this.store, now);
  }

  /** One table's health; `NotFoundError` for an unknown table. */
  async tableHealth(name: string, now = Date.now()): Promise<TableHealth> {
    await this.requireTable(name);
    const health = (await catalogHealth(this.store, now)).find((entry) => entry.table === name);
    if (!health) throw new NotFoundError(`table ${name} not found in the catalog (see \`tessera tables\`)`);
    return health;
  }

  /** Open and recent incidents, newest first, with their events and deliveries. */
  incidents(filter: IncidentFilter = {}): Promise<IncidentReport[]> {
    return incidentReports(this.store, filter);
  }

  /** Notification deliveries and their attempts, newest first. */
  deliveries(filter: DeliveryFilter = {}): Promise<Delivery[]> {
    return deliveryHistory(this.store, filter);
  }

  /** Subscriptions made with `tessera subscribe`. */
  subscriptions(table?: string): Promise<Subscription[]> {
    return this.store.listSubscriptions(table);
  }

  /** Git sync's state: the active commit, the newest commit seen, the last refusal. */
  syncStatus(): Promise<SyncStatus> {
    return this.store.readSyncStatus();
  }

  /** Close the catalog store (only for a browser from `open`). */
  close(): Promise<void> {
    return this.store.close();
  }

  private async requireTable(name: string): Promise<TableRecord> {
    const table = await this.store.getTable(name);
    if (!table) throw new NotFoundError(`table ${name} not found in the catalog (see \`tessera tables\`)`);
    return table;
  }
}

function searchText(table: TableRecord): string {
  return [table.name, table.owner, table.description ?? '', ...table.fields.map((field) => field.name)]
    .join(' ')
    .toLowerCase();
}
