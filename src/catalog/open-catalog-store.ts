import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileAccessError, TesseraError, UsageError } from '../diagnostics/index.ts';
import type { CatalogStore } from './catalog-store.ts';

/**
 * Open and migrate the catalog a URL names: `sqlite:/abs/path.db` (parent folders are created, private; a
 * relative path resolves against the working directory), `sqlite::memory:`, or
 * `postgres://…` / `postgresql://…` with an optional `?schema=name` to keep the catalog in its own schema.
 */
export async function openCatalogStore(url: string): Promise<CatalogStore> {
  const store = await createCatalogStore(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new TesseraError(`cannot open the catalog at ${redactPassword(url)}: ${reason}`, {
      cause: error,
      code: 'unavailable',
    });
  }
  return store;
}

/**
 * Start loading the code of the store `url` names, touching no database: a caller that will open
 * the catalog after other work (loading the definitions) overlaps the two, since the store's
 * modules are a large share of a cold start. Never fails: `openCatalogStore` reports what is wrong.
 */
export function preloadCatalogStore(url: string): void {
  (isSqliteUrl(url)
    ? sqliteStoreModule()
    : isPostgresUrl(url)
      ? postgresStoreModule()
      : Promise.resolve()
  ).catch(() => {});
}

const sqliteStoreModule = () => import('./sqlite-catalog-store.ts');
const postgresStoreModule = () => import('./postgres-catalog-store.ts');
const isSqliteUrl = (url: string) => url.startsWith('sqlite:');
const isPostgresUrl = (url: string) => url.startsWith('postgres://') || url.startsWith('postgresql://');

/** Only the store the URL names is loaded: a SQLite catalog never loads pg, nor PostgreSQL better-sqlite3. */
async function createCatalogStore(url: string): Promise<CatalogStore> {
  if (isSqliteUrl(url)) {
    const { SqliteCatalogStore } = await sqliteStoreModule();
    let path = url.slice('sqlite:'.length);
    if (path === ':memory:') return new SqliteCatalogStore({ path });
    // `sqlite:///abs/path.db` is the spelling other tools use for an absolute path.
    if (path.startsWith('///')) path = path.slice(2);
    if (path === '') throw unsupportedUrl(url);
    path = resolve(path);
    try {
      // Folders it creates are private (0700), like the database file (see SqliteCatalogStore).
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new FileAccessError(
        `cannot create the folder ${dirname(path)} for the catalog: ${(error as Error).message}; remove what is in the way or set \`catalog:\` in tessera.yaml`,
        { cause: error },
      );
    }
    return new SqliteCatalogStore({ path });
  }
  if (isPostgresUrl(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new UsageError(`invalid catalog URL ${redactPassword(url)}: ${(error as Error).message}`);
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    // `schema` is ours, not libpq's: pg must not see it.
    parsed.searchParams.delete('schema');
    const { PostgresCatalogStore } = await postgresStoreModule();
    return new PostgresCatalogStore({ url: parsed.toString(), schema });
  }
  throw unsupportedUrl(url);
}

function unsupportedUrl(url: string): UsageError {
  return new UsageError(
    `unsupported catalog URL ${redactPassword(url)}: use sqlite:/path/to/catalog.db, sqlite::memory: or postgres://user@host:5432/db[?schema=name]`,
  );
}

/** Catalog URLs may carry a password; errors must not. */
function redactPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
