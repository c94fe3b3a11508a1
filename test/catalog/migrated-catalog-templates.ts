/**
 * Fresh, migrated catalogs for the store suite without migrating each one: the migrations run once
 * into a template, and every test gets an empty migrated catalog of its own (a copy of the template
 * file for SQLite; for PostgreSQL a schema a closed store left, emptied, or a clone of the template
 * schema). Stores open at once never share a catalog, so tests stay isolated; the tests that check
 * migrating itself open fresh, unmigrated catalogs instead.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import {
  PostgresCatalogStore,
  type PostgresCatalogStoreOptions,
} from '../../src/catalog/postgres-catalog-store.ts';
import { SqliteCatalogStore } from '../../src/catalog/sqlite-catalog-store.ts';

/** Opens copies of one migrated template; `cleanup` removes the template and every copy. */
export interface CatalogTemplate {
  open(): Promise<CatalogStore>;
  cleanup(): Promise<void>;
}

/**
 * SQLite catalogs under `dir`: the template file is migrated on the first `open()` and closed (which
 * checkpoints its WAL into the file), then copied for each store.
 */
export function sqliteFileTemplate(dir: string): CatalogTemplate {
  const templatePath = join(dir, 'template', 'catalog.db');
  let template: Promise<void> | undefined;
  let opened = 0;
  return {
    async open() {
      template ??= openCatalogStore(`sqlite:${templatePath}`).then((store) => store.close());
      await template;
      const path = join(dir, `store-${++opened}`, 'catalog.db');
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      copyFileSync(templatePath, path);
      return new SqliteCatalogStore({ path });
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * PostgreSQL catalogs in schemas of the database at `url`. A template schema is migrated on the first
 * `open()`. A store's schema is one a closed store left, emptied (`DELETE` from every catalog table
 * but the migrator's bookkeeping; cheaper than `TRUNCATE`, which makes new files, on tables this
 * small), or else a new one created in one statement with every template table copied by
 * `LIKE … INCLUDING ALL` (columns, defaults, constraints, indexes) and the bookkeeping rows, so it
 * counts as migrated. The catalog has no foreign keys and no sequences, which `LIKE` would not carry
 * over and emptying would not reset. Stores open at once never share a schema.
 */
export function postgresSchemaTemplate(url: string): CatalogTemplate {
  const schemas: string[] = [];
  const closed: string[] = [];
  const newSchema = (): string => {
    const schema = `tessera_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  interface Template {
    client: pg.Client;
    cloneSql: (schema: string) => string;
    emptySql: (schema: string) => string;
  }
  let prepared: Promise<Template> | undefined;

  async function prepare(): Promise<Template> {
    const template = newSchema();
    await (await openCatalogStore(`${url}?schema=${template}`)).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by table_name`,
      [template],
    );
    const tables = rows.map((row) => row.table_name);
    const bookkeeping = tables.filter((table) => table.startsWith('kysely_migration'));
    const catalogTables = tables.filter((table) => !bookkeeping.includes(table));
    if (!catalogTables.includes('versions') || bookkeeping.length === 0) {
      throw new Error(`the template catalog schema ${template} lacks tables: ${tables.join(', ')}`);
    }
    // Several statements, no parameters: one round trip, one implicit transaction.
    const cloneSql = (schema: string): string =>
      [
        `create schema "${schema}"`,
        ...tables.map(
          (table) => `create table "${schema}"."${table}" (like "${template}"."${table}" including all)`,
        ),
        ...bookkeeping.map(
          (table) => `insert into "${schema}"."${table}" select * from "${template}"."${table}"`,
        ),
      ].join(';\n');
    const emptySql = (schema: string): string =>
      catalogTables.map((table) => `delete from "${schema}"."${table}"`).join(';\n');
    return { client, cloneSql, emptySql };
  }

  return {
    async open() {
      prepared ??= prepare();
      const { client, cloneSql, emptySql } = await prepared;
      let schema = closed.pop();
      if (schema !== undefined) await client.query(emptySql(schema));
      else {
        schema = newSchema();
        await client.query(cloneSql(schema));
      }
      const reusable = schema;
      return new RecyclingPostgresCatalogStore({ url, schema }, () => closed.push(reusable));
    },
    async cleanup() {
      const client = prepared ? (await prepared).client : undefined;
      prepared = undefined;
      closed.splice(0);
      const dropped = schemas.splice(0);
      if (dropped.length === 0) {
        await client?.end();
        return;
      }
      const admin = client ?? new pg.Client({ connectionString: url });
      if (!client) await admin.connect();
      try {
        await admin.query(
          `drop schema if exists ${dropped.map((schema) => `"${schema}"`).join(', ')} cascade`,
        );
      } finally {
        await admin.end();
      }
    },
  };
}

/** Hands its schema back for the next store once closed (its connections are gone then). */
class RecyclingPostgresCatalogStore extends PostgresCatalogStore {
  constructor(
    options: PostgresCatalogStoreOptions,
    private readonly onClosed: () => void,
  ) {
    super(options);
  }

  override async close(): Promise<void> {
    await super.close();
    this.onClosed();
  }
}
