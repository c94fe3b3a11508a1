import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, VersionColumn, VersionTables } from '../engines/engine.ts';
import { quoteLiteral } from '../engines/engine.ts';
import { maskedType } from '../governance/index.ts';
import type { FieldDef, Version } from '../model/index.ts';
import type { Storage } from '../storage/index.ts';
import type { RunContext } from './run-context.ts';
import type { RunLogger } from './run-logger.ts';
import { tableRelation } from './table-relation.ts';

/**
 * Table versions in an engine that holds them as tables (`Engine.versionTables`: PostgreSQL).
 * Every version is still written by DuckDB to storage, which stays the record; the engine gets a
 * copy, loaded the first time something needs it there (the run that published it, a projection
 * reading it, a query) and never changed afterwards. So switching `engine:` needs no migration:
 * versions published before are loaded when first read.
 */
export class EngineVersions {
  /** Versions known to be loaded (versions never change, so once loaded stays loaded until retention). */
  readonly #loaded = new Set<string>();
  /** Loads under way, shared by concurrent callers. */
  readonly #loading = new Map<string, Promise<void>>();

  constructor(
    readonly tables: VersionTables,
    private readonly storage: Storage,
    /** The DuckDB engine that reads the stored files and writes what `tables.load` reads. */
    private readonly local: Engine,
  ) {}

  /**
   * The engine relation holding `version` of `table`, loaded from its files first when it is not
   * there yet. `fields` are the table's fields as recorded in the catalog.
   */
  async relation(table: string, version: Version, fields: FieldDef[]): Promise<string> {
    const key = `${table}@${version.version}`;
    if (!this.#loaded.has(key)) {
      let loading = this.#loading.get(key);
      if (!loading) {
        loading = this.#load(table, version, fields).finally(() => this.#loading.delete(key));
        this.#loading.set(key, loading);
      }
      await loading;
      this.#loaded.add(key);
    }
    return this.tables.relation(table, version.version);
  }

  /** Make `version` the one the table's view shows, and drop loaded versions retention removed. */
  async published(
    table: string,
    version: Version,
    fields: FieldDef[],
    kept: readonly number[],
  ): Promise<void> {
    await this.relation(table, version, fields);
    await this.tables.publish(table, version.version);
    await this.tables.retain(table, kept);
    for (const key of [...this.#loaded]) {
      const [name, number] = key.split('@');
      if (name === table && !kept.includes(Number(number))) this.#loaded.delete(key);
    }
  }

  async #load(table: string, version: Version, fields: FieldDef[]): Promise<void> {
    if (await this.tables.has(table, version.version)) return;
    await this.storage.ensureLocal(version.files);
    // Columns as the files store them: a field stored masked holds its mask's values.
    const columns: VersionColumn[] = fields.map((field) => {
      const mask = version.storedMasks?.[field.name];
      return { name: field.name, type: mask ? maskedType(mask, field.type) : field.type };
    });
    const folder = await mkdtemp(join(tmpdir(), 'tessera-load-'));
    const csvFile = join(folder, 'version.csv');
    const session = await this.local.openSession();
    try {
      await session.run(
        `COPY (SELECT ${this.tables.interchangeSelect(columns)} FROM ${tableRelation(this.storage, version.files, fields)}) ` +
          `TO ${quoteLiteral(csvFile)} (FORMAT csv, HEADER)`,
      );
      await this.tables.load(table, version.version, columns, csvFile);
    } finally {
      session.close();
      await rm(folder, { recursive: true, force: true });
    }
  }
}

/**
 * After a version is published (and retention ran): load it into the project's engine, point the
 * table's view at it and drop what retention removed. A failure is a warning, never a failed run:
 * the version is published in the catalog and storage, and queries load it when they first read it.
 */
export async function loadPublishedVersion(
  context: RunContext,
  table: string,
  version: Version,
  log: RunLogger,
): Promise<void> {
  if (!context.warehouse) return;
  try {
    const fields = (await context.store.getTable(table))?.fields ?? [];
    const kept = (await context.store.listVersions(table)).map((listed) => listed.version);
    await context.warehouse.versions.published(table, version, fields, kept);
    log.info(
      `loaded version ${version.version} of ${table} into the ${context.warehouse.engine.name} engine`,
    );
  } catch (error) {
    log.warn(
      `cannot load version ${version.version} of ${table} into the ${context.warehouse.engine.name} engine now (queries load it when they first read it): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
