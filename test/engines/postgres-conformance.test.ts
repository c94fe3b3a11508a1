// The engine conformance suite on PostgreSQL, in a database of its own created and dropped here:
// versions are tables (`<table>__v<N>`).
import pg from 'pg';
import { PostgresEngine } from '../../src/engines/postgres/postgres-engine.ts';
import { requireService } from '../support/services.ts';
import { renderForPostgres } from '../../src/sql/index.ts';
import { engineConformanceSuite } from './engine-conformance.ts';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const DATABASE = `tessera_engine_conformance_${process.pid}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/test` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const availability = await requireService('PostgreSQL at 127.0.0.1:5432', () =>
  admin(async (client) => void (await client.query('SELECT 1'))),
);

engineConformanceSuite(
  'postgres',
  async () => {
    await admin((client) => client.query(`CREATE DATABASE ${DATABASE}`));
    const engine = await PostgresEngine.create(`${SERVER}/${DATABASE}`);
    const table = (name: string, version: number) => engine.dialect.identifier(`${name}__v${version}`);
    return {
      engine,
      async writeVersion(session, name, version, selectSql) {
        await session.run(`CREATE TABLE ${table(name, version)} AS ${selectSql}`);
      },
      versionRelation: table,
      render: renderForPostgres,
      async close() {
        await engine.close();
        await admin((client) => client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`));
      },
    };
  },
  { skip: availability.skip },
);
