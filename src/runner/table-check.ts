import { NotFoundError, UsageError } from '../diagnostics/errors.ts';
import { leaseResolved } from '../catalog/read-lease.ts';
import type { CheckResult, Version, VersionRef } from '../model/index.ts';
import { runChecks } from '../quality/index.ts';
import type { RunContext } from './run-context.ts';
import { tableRelation } from './table-relation.ts';
import { recordableChecks } from './check-result-masking.ts';

/**
 * `tessera check TABLE`: run the table's validations against its current version and report,
 * without publishing or recording anything.
 */
export async function checkCurrentVersion(
  context: RunContext,
  tableName: string,
): Promise<{ version: Version; checks: CheckResult[] }> {
  const table = context.definitions.tables.find((candidate) => candidate.name === tableName);
  if (!table) throw new NotFoundError(`table ${tableName} is not defined in the catalog repo`);
  // Fields by name, as in a run: precomputed hash columns stored beside them are not the table's.
  const relationOf = async (name: string, files: string[]) => {
    await context.storage.ensureLocal(files);
    return tableRelation(context.storage, files, (await context.store.getTable(name))?.fields ?? []);
  };
  // The versions read are leased while the checks run, so retention leaves their files in place.
  const {
    resolved: { version, others },
    lease,
  } = await leaseResolved(context.store, async () => {
    const version = await context.store.getCurrentVersion(tableName);
    if (!version) throw new UsageError(`table ${tableName} has no published version to check yet`);
    const versions: VersionRef[] = [];
    const others = new Map<string, string>();
    for (const other of context.definitions.tables) {
      const current = other.name === tableName ? version : await context.store.getCurrentVersion(other.name);
      if (!current) continue;
      versions.push({ table: other.name, version: current.version });
      others.set(other.name, await relationOf(other.name, current.files));
    }
    return { version, versions, others };
  });
  const session = await context.engine.openSession();
  try {
    const checks = await runChecks(session, others.get(tableName)!, table.validations, {
      resolveTable: (name) => others.get(name),
    });
    const fields = (await context.store.getTable(tableName))?.fields ?? [];
    return { version, checks: await recordableChecks(context, session, version.storedMasks, fields, checks) };
  } finally {
    session.close();
    await lease.release();
  }
}
