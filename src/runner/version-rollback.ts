import { NotFoundError, RunFailedError, UsageError } from '../diagnostics/errors.ts';
import type { Run, TableRecord, Version } from '../model/index.ts';
import type { RunContext } from './run-context.ts';
import { newRunId } from './run-id.ts';
import { RunLogger } from './run-logger.ts';
import { enforceRetention } from './retention.ts';
import { loadPublishedVersion } from './engine-versions.ts';
import { parquetRelation } from './table-relation.ts';

/** A rollback the catalog allows: the table as registered, its current version and the one to restore. */
export interface RollbackPlan {
  record: TableRecord;
  current: Version;
  target: Version;
}

/**
 * Check that `table` can go back to version `to`: it is registered, has a current version other
 * than `to`, still keeps `to` (retention may have removed it), and `to` was written with the
 * table's current schema version (and, for a table whose schema is inferred, has every column the
 * table has now). Throws `NotFoundError` or `UsageError` saying what to do instead.
 */
export async function planRollback(context: RunContext, table: string, to: number): Promise<RollbackPlan> {
  const record = await context.store.getTable(table);
  if (!record) {
    throw new UsageError(`table ${table} is not registered in the catalog: run \`tessera apply\` first`);
  }
  const current = await context.store.getCurrentVersion(table);
  if (!current) throw new NotFoundError(`table ${table} has no version yet; there is nothing to roll back`);
  const target = await context.store.getVersion(table, to);
  if (!target) {
    const kept = (await context.store.listVersions(table)).map((version) => version.version);
    throw new NotFoundError(
      `table ${table} has no version ${to} (kept: ${kept.join(', ')}); \`tessera versions ${table}\` lists them`,
    );
  }
  if (target.version === current.version) {
    throw new UsageError(`version ${to} is already the current version of ${table}; nothing to roll back`);
  }
  if (target.schemaVersion !== record.schemaVersion) {
    throw new UsageError(
      `cannot roll ${table} back to version ${to}: it was written with schema version ${target.schemaVersion} ` +
        `and the table now has schema version ${record.schemaVersion}; roll back to a version of schema ` +
        `version ${record.schemaVersion} (\`tessera versions ${table}\`), or revert the schema change and apply it`,
    );
  }
  const definition = context.definitions.tables.find((candidate) => candidate.name === table);
  if (definition && !definition.schemaRef) {
    // An inferred schema can change without a schema version: readers select today's columns by name.
    await context.storage.ensureLocal(target.files);
    const session = await context.engine.openSession();
    try {
      const described = await session.query(
        `DESCRIBE SELECT * FROM ${parquetRelation(context.storage, target.files)}`,
      );
      const columns = new Set(described.rows.map((row) => String(row.column_name).toLowerCase()));
      const missing = record.fields.filter((field) => !columns.has(field.name.toLowerCase()));
      if (missing.length > 0) {
        throw new UsageError(
          `cannot roll ${table} back to version ${to}: its files lack column(s) ${missing.map((field) => field.name).join(', ')} ` +
            `that the table has now (its schema is inferred from the projection's SQL); roll back to a newer version`,
        );
      }
    } finally {
      session.close();
    }
  }
  return { record, current, target };
}

/** Who is rolling back and how the run is recorded. */
export interface RollbackRun {
  /** The task the run is recorded under: the table's producer (the table's name when it has none). */
  task: string;
  /** Reuse an id (one a task lease was taken for); default: a new id. */
  runId?: string;
  /** Aborting it before publication fails the run with the reason's message (a lost task lease). */
  signal?: AbortSignal;
}

/**
 * Publish a new version of the plan's table whose files are the target version's (nothing is
 * copied or rewritten; every version stays in the history), recorded as a run with trigger
 * `rollback:TABLE@VERSION` and its log. Retention then runs as after any publication; it never
 * deletes the files, since the new version lists them. Returns the run and the version published.
 */
export async function publishRollback(
  context: RunContext,
  plan: RollbackPlan,
  how: RollbackRun,
): Promise<{ run: Run; version: Version }> {
  const { record, current, target } = plan;
  const now = new Date().toISOString();
  const run: Run = {
    id: how.runId ?? newRunId(),
    task: how.task,
    status: 'running',
    attempt: 1,
    trigger: `rollback:${record.name}@${target.version}`,
    queuedAt: now,
    startedAt: now,
  };
  await context.store.createRun(run);
  const log = new RunLogger(context.store, run.id, context.onLog);
  let version: Version | undefined;
  try {
    log.info(
      `rollback of ${record.name} from version ${current.version} to version ${target.version} ` +
        `(${target.rowCount} rows, published ${target.publishedAt} by run ${target.runId})`,
    );
    how.signal?.throwIfAborted();
    version = await context.store.publishVersion({
      table: record.name,
      schemaVersion: target.schemaVersion,
      rowCount: target.rowCount,
      bytes: target.bytes,
      files: target.files,
      runId: run.id,
      task: how.task,
      gitCommit: context.gitCommit,
      upstream: target.upstream,
      checks: target.checks,
      ...(target.storedMasks ? { storedMasks: target.storedMasks } : {}),
    });
    log.info(
      `published ${record.name} version ${version.version}: the files of version ${target.version}, nothing copied`,
    );
    const definition = context.definitions.tables.find((candidate) => candidate.name === record.name);
    if (definition) {
      try {
        await enforceRetention(context, definition, log);
      } catch (error) {
        log.warn(`retention: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await loadPublishedVersion(context, record.name, version, log);
    Object.assign(run, {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      published: { table: record.name, version: version.version },
      rowsWritten: version.rowCount,
    } satisfies Partial<Run>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(message);
    Object.assign(run, { status: 'failed', finishedAt: new Date().toISOString(), error: message });
  }
  await context.store.updateRun(run.id, {
    status: run.status,
    finishedAt: run.finishedAt,
    error: run.error,
    published: run.published,
    rowsWritten: run.rowsWritten,
  });
  await log.flush();
  if (!version) {
    throw new RunFailedError(`rollback of ${record.name} failed: ${run.error ?? 'unknown reason'}`, {
      task: how.task,
      runId: run.id,
      table: record.name,
    });
  }
  return { run, version };
}
