import type { TableDef } from '../model/index.ts';
import type { RunContext } from './run-context.ts';
import type { RunLogger } from './run-logger.ts';

/**
 * Keep the newest `keep_versions` versions. Files are deleted only when no remaining version
 * lists them (append mode shares files between versions).
 */
export async function enforceRetention(context: RunContext, table: TableDef, log: RunLogger): Promise<void> {
  const versions = await context.store.listVersions(table.name);
  const expired = versions.slice(table.retention.keepVersions).map((version) => version.version);
  if (expired.length === 0) return;
  const removed = await context.store.deleteVersions(table.name, expired);
  const stillListed = new Set(
    versions.slice(0, table.retention.keepVersions).flatMap((version) => version.files),
  );
  const unreferenced = [...new Set(removed.flatMap((version) => version.files))].filter(
    (file) => !stillListed.has(file),
  );
  // A run's quarantine file sits beside its data file and goes with it.
  const quarantines = unreferenced.map((file) => file.replace(/\.parquet$/, '.quarantine.parquet'));
  await context.storage.delete([...unreferenced, ...quarantines]);
  log.info(
    `retention: removed version(s) ${removed.map((version) => version.version).join(', ')} of ${table.name}`,
  );
}
