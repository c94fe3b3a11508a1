import type { Insertable, Kysely } from 'kysely';
import type { OwnerDef, PrincipalDef, RoleDef, TaskDef } from '../../model/index.ts';
import type { CatalogDatabase, TablesRow } from '../catalog-database.ts';
import type {
  CatalogDefinitions,
  AppliedDefinitions,
  DefinitionChanges,
  CatalogTables,
} from '../catalog-store.ts';
import type { CatalogConnection, CatalogTransaction } from './catalog-connection.ts';
import { byName } from './catalog-rows.ts';
import { batches } from './statement-batches.ts';
import { insertLineage } from './lineage-store.ts';

/** The tables holding definitions as JSON, one row per name. */
type DefinitionTable = 'tasks' | 'owners' | 'roles' | 'principals';

/** Definitions as applied: read back whole, written by one `apply` transaction. */
export class KyselyDefinitionStore implements CatalogDefinitions {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(
    connection: CatalogConnection,
    private readonly tables: CatalogTables,
  ) {
    this.db = connection.db;
  }

  async readDefinitions(): Promise<AppliedDefinitions> {
    const [tables, tasks, owners, roles, principals] = await Promise.all([
      this.tables.listTables(),
      this.readDefinitionTable<TaskDef>('tasks'),
      this.readDefinitionTable<OwnerDef>('owners'),
      this.readDefinitionTable<RoleDef>('roles'),
      this.readDefinitionTable<PrincipalDef>('principals'),
    ]);
    return { tables, tasks, owners, roles, principals };
  }

  async applyDefinitions(changes: DefinitionChanges): Promise<void> {
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await this.upsertTables(trx, changes.upsertTables, now, changes.gitCommit);
      for (const names of batches(changes.removeTables, 1)) {
        await trx.deleteFrom('schema_versions').where('table_name', 'in', names).execute();
        await trx.deleteFrom('tables').where('name', 'in', names).execute();
      }

      // One row per name (the last given wins, as one upsert per task did): a multi-row upsert may
      // not touch a row twice.
      const taskRows = [...new Map(changes.upsertTasks.map((task) => [task.name, task])).values()].map(
        (task) => ({
          name: task.name,
          definition_json: JSON.stringify(task),
          updated_at: now,
          git_commit: changes.gitCommit ?? null,
        }),
      );
      for (const batch of batches(taskRows, 4)) {
        await trx
          .insertInto('tasks')
          .values(batch)
          .onConflict((conflict) =>
            conflict.column('name').doUpdateSet((eb) => ({
              definition_json: eb.ref('excluded.definition_json'),
              updated_at: eb.ref('excluded.updated_at'),
              git_commit: eb.ref('excluded.git_commit'),
            })),
          )
          .execute();
      }
      for (const names of batches(changes.removeTasks, 1)) {
        await trx.deleteFrom('tasks').where('name', 'in', names).execute();
      }

      // The repo is the source of truth for who owns and who may read: replace these wholesale.
      await this.replaceDefinitionTable(trx, 'owners', changes.owners, now, changes.gitCommit);
      await this.replaceDefinitionTable(trx, 'roles', changes.roles, now, changes.gitCommit);
      await this.replaceDefinitionTable(trx, 'principals', changes.principals, now, changes.gitCommit);

      const lineageTasks = new Set([
        ...changes.upsertTasks.map((task) => task.name),
        ...changes.removeTasks,
        ...changes.lineage.map((edge) => edge.task),
      ]);
      for (const tasks of batches([...lineageTasks], 1)) {
        await trx.deleteFrom('lineage_edges').where('task', 'in', tasks).execute();
      }
      await insertLineage(trx, changes.lineage);
    });
  }

  /**
   * Insert or update tables in multi-row upserts, no statement per table. Rows with a new schema
   * version also overwrite `schema_version` and `fields_json` when the table exists; the others keep
   * them (a new table starts at `def.schemaVersion`). One entry per table name: the last given wins.
   */
  private async upsertTables(
    trx: CatalogTransaction,
    upserts: DefinitionChanges['upsertTables'],
    now: string,
    gitCommit: string | undefined,
  ): Promise<void> {
    const unique = [...new Map(upserts.map((upsert) => [upsert.def.name, upsert])).values()];
    const row = ({ def, fields, newSchemaVersion }: (typeof upserts)[number]) => ({
      name: def.name,
      owner: def.owner,
      description: def.description ?? null,
      definition_json: JSON.stringify(def),
      updated_at: now,
      schema_version: newSchemaVersion ?? def.schemaVersion,
      fields_json: JSON.stringify(fields),
      current_version: null,
      git_commit: gitCommit ?? null,
    });
    const keepSchema = unique.filter((upsert) => upsert.newSchemaVersion === undefined).map(row);
    const newSchema = unique.filter((upsert) => upsert.newSchemaVersion !== undefined);
    await upsertTableRows(trx, keepSchema, false);
    await upsertTableRows(trx, newSchema.map(row), true);
    const schemaVersions = newSchema.map(({ def, fields, newSchemaVersion }) => ({
      table_name: def.name,
      schema_version: newSchemaVersion!,
      fields_json: JSON.stringify(fields),
      applied_at: now,
      git_commit: gitCommit ?? null,
    }));
    for (const batch of batches(schemaVersions, 5)) {
      await trx.insertInto('schema_versions').values(batch).execute();
    }
  }

  private async readDefinitionTable<T>(table: DefinitionTable): Promise<T[]> {
    const rows = await this.db.selectFrom(table).select(['name', 'definition_json']).execute();
    return rows.sort(byName).map((row) => JSON.parse(row.definition_json) as T);
  }

  /**
   * Replace every row of `table`. A definition given as it already stands keeps its `updated_at`
   * and commit: the commit a definition came from is the one that last changed it.
   */
  private async replaceDefinitionTable(
    trx: CatalogTransaction,
    table: DefinitionTable,
    definitions: { name: string }[],
    now: string,
    gitCommit: string | undefined,
  ): Promise<void> {
    const previous = new Map(
      (
        await trx.selectFrom(table).select(['name', 'definition_json', 'updated_at', 'git_commit']).execute()
      ).map((row) => [row.name, row]),
    );
    await trx.deleteFrom(table).execute();
    const rows = definitions.map((definition) => {
      const json = JSON.stringify(definition);
      const unchanged = previous.get(definition.name);
      return unchanged?.definition_json === json
        ? { ...unchanged }
        : { name: definition.name, definition_json: json, updated_at: now, git_commit: gitCommit ?? null };
    });
    for (const batch of batches(rows, 4)) await trx.insertInto(table).values(batch).execute();
  }
}

/**
 * One multi-row upsert of table rows, sliced under the bind limits. `withSchema` also overwrites an
 * existing table's `schema_version` and `fields_json`; otherwise they stay as they are.
 */
async function upsertTableRows(
  trx: CatalogTransaction,
  rows: Insertable<TablesRow>[],
  withSchema: boolean,
): Promise<void> {
  for (const batch of batches(rows, 9)) {
    await trx
      .insertInto('tables')
      .values(batch)
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet((eb) => ({
          owner: eb.ref('excluded.owner'),
          description: eb.ref('excluded.description'),
          definition_json: eb.ref('excluded.definition_json'),
          updated_at: eb.ref('excluded.updated_at'),
          git_commit: eb.ref('excluded.git_commit'),
          ...(withSchema
            ? {
                schema_version: eb.ref('excluded.schema_version'),
                fields_json: eb.ref('excluded.fields_json'),
              }
            : {}),
        })),
      )
      .execute();
  }
}
