/**
 * A separate process publishing to a shared SQLite catalog, for the multi-process test.
 * Usage: sqlite-publisher.fixture.ts DB_PATH NAME COUNT
 */
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';

const [path, name, count] = process.argv.slice(2) as [string, string, string];
// Every process migrates too: concurrent migrations of one file must be safe.
const store = await openCatalogStore(`sqlite:${path}`);
for (let index = 0; index < Number(count); index++) {
  await store.publishVersion({
    table: 'clinical.patients',
    schemaVersion: 1,
    rowCount: index,
    bytes: 0,
    files: [],
    runId: `${name}-${index}`,
    task: 'ingest_patients',
    upstream: [],
    checks: [],
  });
}
await store.close();
