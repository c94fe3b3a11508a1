// The engine conformance suite on DuckDB: versions are Parquet files read in place.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import { engineConformanceSuite } from './engine-conformance.ts';

engineConformanceSuite('duckdb', async () => {
  const engine = await DuckdbEngine.create();
  const folder = await mkdtemp(join(tmpdir(), 'tessera-conformance-'));
  const file = (table: string, version: number) => join(folder, `${table}__v${version}.parquet`);
  return {
    engine,
    async writeVersion(session, table, version, selectSql) {
      await session.run(`COPY (${selectSql}) TO ${quoteLiteral(file(table, version))} (FORMAT parquet)`);
    },
    versionRelation: (table, version) => engine.dialect.filesRelation!([file(table, version)]),
    async close() {
      await engine.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
});
