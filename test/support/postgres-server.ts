/**
 * The local PostgreSQL server the engine, source and catalog tests use (127.0.0.1:5432, trust
 * auth), and the databases of their own they create and drop there.
 */
import pg from 'pg';
import { requireService, type ServiceAvailability } from './services.ts';

/** The server's URL without a database: append `/<database>`. */
export const POSTGRES_SERVER = 'postgres://postgres@127.0.0.1:5432';

/** Run one statement as the server's administrator, in `database` (default `test`). */
export async function adminQuery(sql: string, database = 'test'): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/${database}` });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Whether PostgreSQL's tests run here (a failure under CI=true, a skip elsewhere). */
export function requirePostgres(): Promise<ServiceAvailability> {
  return requireService('PostgreSQL at 127.0.0.1:5432', async () => void (await adminQuery('SELECT 1')));
}

/** Create an empty database (a name unique to the test file and process) and return its URL. */
export async function createScratchDatabase(name: string): Promise<string> {
  await adminQuery(`CREATE DATABASE ${name}`);
  return `${POSTGRES_SERVER}/${name}`;
}

/** Drop a database created by `createScratchDatabase`, whoever is still connected to it. */
export async function dropScratchDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
