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
  // Said even when every file stays (a newer version lists them: append, rollback).
  if (removed.length > 0) {
    log.info(
      `retention: removed version(s) ${removed.map((version) => version.version).join(', ')} of ${table.name}`,
    );
  }
  const stillListed = new Set(
    versions.slice(0, table.retention.keepVersions).flatMap((version) => version.files),
  );
  const unreferenced = [...new Set(removed.flatMap((version) => version.files))].filter(
    (file) => !stillListed.has(file),
  );
  const deferredBefore = await context.store.listDeferredDeletions(table.name);
  const candidates = [...new Set([...deferredBefore, ...unreferenced])];
  if (candidates.length === 0) return;

  const now = new Date().toISOString();
  const leased = await context.store.leasedFiles(now);
  const deletable = candidates.filter((file) => !leased.has(file));
  const deferred = unreferenced.filter((file) => leased.has(file));
  // A run's quarantine file sits beside its data file and goes with it.
  const quarantines = deletable.map((file) => file.replace(/\.parquet$/, '.quarantine.parquet'));
  await context.storage.delete([...deletable, ...quarantines]);
  await context.store.forgetDeferredDeletions(deletable.filter((file) => deferredBefore.includes(file)));
  await context.store.deferFileDeletions(table.name, deferred, now);

  const waiting = candidates.length - deletable.length;
  if (waiting > 0) log.info(`retention: ${waiting} file(s) still being read; deleted by a later run`);
}
