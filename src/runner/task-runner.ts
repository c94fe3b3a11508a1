import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteIdentifier, quoteLiteral, type EngineSession } from '../engines/engine.ts';
import { RunFailedError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import { ingestFiles, sqlTypeOf } from '../ingest/index.ts';
import { runChecks } from '../quality/index.ts';
import { columnLineage, parseSql, referencedTables, rewriteTableReferences } from '../sql/index.ts';
import { inheritSensitivity } from '../governance/index.ts';
import type { CheckResult, FieldDef, Run, TableDef, TaskDef, VersionRef } from '../model/index.ts';
import type { RunContext } from './run-context.ts';
import { newRunId } from './run-id.ts';
import { RunLogger } from './run-logger.ts';
import { parquetRelation } from './table-relation.ts';
import { inferFields } from './inferred-schema.ts';
import { enforceRetention } from './retention.ts';

export interface RunOptions {
  /** Why the run happens: `manual` (default), `schedule`, `upstream:<table>@<version>`, `backfill`. */
  trigger?: string;
  /** Reuse an id (a queued run being started); default: a new id. */
  runId?: string;
  attempt?: number;
}

/** What a run computed before publication. */
interface StagedOutput {
  files: string[];
  rowCount: number;
  upstream: VersionRef[];
  checks: CheckResult[];
  fields?: FieldDef[];
  badRows?: number;
}

/**
 * One run of one task: stage → compute → conform → validate → publish. Never throws for a failure
 * of the work itself: the failure is recorded as a failed run (with its reason) and returned.
 */
export async function runTask(context: RunContext, taskName: string, options: RunOptions = {}): Promise<Run> {
  const task = context.definitions.tasks.find((candidate) => candidate.name === taskName);
  if (!task) throw new UsageError(`task ${taskName} is not defined in ${context.definitions.project.root}`);
  const table = context.definitions.tables.find((candidate) => candidate.name === task.target);
  if (!table) throw new UsageError(`task ${taskName}: target table ${task.target} is not defined`);
  const record = await context.store.getTable(table.name);
  if (!record) {
    throw new UsageError(`table ${table.name} is not registered in the catalog: run \`tessera apply\` first`);
  }

  const now = new Date().toISOString();
  const run: Run = {
    id: options.runId ?? newRunId(),
    task: task.name,
    status: 'running',
    attempt: options.attempt ?? 1,
    trigger: options.trigger ?? 'manual',
    queuedAt: now,
    startedAt: now,
  };
  if (options.runId && (await context.store.getRun(run.id))) {
    await context.store.updateRun(run.id, { status: 'running', startedAt: now, attempt: run.attempt });
  } else {
    await context.store.createRun(run);
  }
  const log = new RunLogger(context.store, run.id, context.onLog);
  log.info(`run ${run.id} of ${task.name} (${task.type} → ${table.name}), trigger ${run.trigger}`);

  // A retried run whose first attempt published before dying must not publish (or stage over) again.
  const alreadyPublished = (await context.store.listVersions(table.name)).find(
    (version) => version.runId === run.id,
  );
  if (alreadyPublished) {
    log.info(
      `run ${run.id} already published ${table.name} version ${alreadyPublished.version}; nothing to redo`,
    );
    return finishRun(context, log, run, {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      published: { table: table.name, version: alreadyPublished.version },
      rowsWritten: alreadyPublished.rowCount,
    });
  }

  const session = await context.engine.openSession();
  const stagingFolder = await context.storage.createStagingFolder(table.name, run.id);
  try {
    const staged =
      task.type === 'ingestion'
        ? await stageIngestion(context, session, task, table, stagingFolder, log)
        : await stageProjection(context, session, task, table, stagingFolder, log);
    const failures = staged.checks.filter((check) => !check.success && check.severity === 'error');
    for (const check of staged.checks.filter((check) => !check.success)) {
      (check.severity === 'error' ? log.error : log.warn).call(log, `check failed: ${describeCheck(check)}`);
    }
    if (failures.length > 0) {
      throw new RunFailedError(
        `validation failed for ${table.name}: ${failures.map(describeCheck).join('; ')}`,
        { task: task.name, runId: run.id, table: table.name },
      );
    }
    const version = await context.store.publishVersion({
      table: table.name,
      schemaVersion: record.schemaVersion,
      rowCount: staged.rowCount,
      bytes: await context.storage.sizeOf(staged.files),
      files: staged.files,
      runId: run.id,
      task: task.name,
      gitCommit: context.gitCommit,
      upstream: staged.upstream,
      checks: staged.checks,
      fields: staged.fields,
    });
    log.info(`published ${table.name} version ${version.version} (${version.rowCount} rows)`);
    await enforceRetention(context, table, log);
    Object.assign(run, {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      published: { table: table.name, version: version.version },
      rowsWritten: version.rowCount,
      badRows: staged.badRows,
    } satisfies Partial<Run>);
  } catch (error) {
    if (!(error instanceof TesseraError)) log.error(`unexpected error: ${(error as Error).stack ?? error}`);
    const message = error instanceof Error ? error.message : String(error);
    log.error(message);
    await context.storage.discardStaging(table.name, run.id);
    Object.assign(run, { status: 'failed', finishedAt: new Date().toISOString(), error: message });
  } finally {
    session.close();
  }
  return finishRun(context, log, run, {});
}

async function finishRun(context: RunContext, log: RunLogger, run: Run, outcome: Partial<Run>): Promise<Run> {
  Object.assign(run, outcome);
  await context.store.updateRun(run.id, {
    status: run.status,
    finishedAt: run.finishedAt,
    error: run.error,
    published: run.published,
    rowsWritten: run.rowsWritten,
    badRows: run.badRows,
  });
  await log.flush();
  return run;
}

async function stageIngestion(
  context: RunContext,
  session: EngineSession,
  task: TaskDef,
  table: TableDef,
  stagingFolder: string,
  log: RunLogger,
): Promise<StagedOutput> {
  const fields = table.schema?.fields;
  if (!fields) throw new RunFailedError(`table ${table.name} has no schema`, { task: task.name });
  const incomingFile = join(stagingFolder, task.mode === 'replace' ? 'part-0.parquet' : 'incoming.parquet');
  const result = await ingestFiles({
    session,
    task,
    fields,
    repoRoot: context.definitions.project.root,
    outputFile: incomingFile,
  });
  for (const line of result.log) log.info(line);
  if (result.badRowCount > 0) {
    log.warn(
      `${result.badRowCount} bad rows quarantined, e.g. ${result.badRows.slice(0, 3).map(formatBadRow).join('; ')}`,
    );
  }
  const badRowsCheck: CheckResult = {
    expectation: 'bad_rows',
    args: { action: task.badRows.action, max_fraction: task.badRows.maxFraction },
    severity: 'error',
    success: true,
    observedValue: result.badRowCount,
    elementCount: result.rowCount + result.badRowCount,
    unexpectedCount: result.badRowCount,
    unexpectedPercent: percent(result.badRowCount, result.rowCount + result.badRowCount),
  };

  const previous = await context.store.getCurrentVersion(table.name);
  let files: string[];
  const partFile = join(stagingFolder, 'part-0.parquet');
  if (task.mode === 'replace') {
    files = [await context.storage.commitFile(partFile)];
  } else if (task.mode === 'append') {
    // Appending never rewrites old data: the new version lists the previous files plus the new one.
    await rename(incomingFile, partFile);
    files = [...(previous?.files ?? []), await context.storage.commitFile(partFile)];
  } else {
    await mergeOnPrimaryKey(context, session, table, fields, previous?.files ?? [], incomingFile, partFile);
    await rm(incomingFile, { force: true });
    files = [await context.storage.commitFile(partFile)];
  }
  const relation = parquetRelation(context.storage, files);
  const rowCount = await countRows(session, relation);
  const checks = [badRowsCheck, ...(await runValidations(context, session, table, relation))];
  return { files, rowCount, upstream: [], checks, badRows: result.badRowCount };
}

/** Upsert: the incoming rows, plus every previous row whose key is not among them. */
async function mergeOnPrimaryKey(
  context: RunContext,
  session: EngineSession,
  table: TableDef,
  fields: FieldDef[],
  previousFiles: string[],
  incomingFile: string,
  outputFile: string,
): Promise<void> {
  const keys = fields.filter((field) => field.primaryKey).map((field) => quoteIdentifier(field.name));
  if (keys.length === 0) {
    throw new RunFailedError(
      `table ${table.name}: mode merge needs a primary key; mark one with \`(tessera.field) = { primary_key: true }\``,
      { task: table.name },
    );
  }
  const incoming = `read_parquet(${quoteLiteral(incomingFile)})`;
  const columns = fields.map((field) => quoteIdentifier(field.name)).join(', ');
  const merged =
    previousFiles.length === 0
      ? `SELECT ${columns} FROM ${incoming}`
      : `SELECT ${columns} FROM ${incoming} UNION ALL SELECT ${columns} FROM ${parquetRelation(context.storage, previousFiles)} AS old ` +
        `WHERE (${keys.join(', ')}) NOT IN (SELECT (${keys.join(', ')}) FROM ${incoming})`;
  await session.run(`COPY (${merged}) TO ${quoteLiteral(outputFile)} (FORMAT parquet)`);
}

async function stageProjection(
  context: RunContext,
  session: EngineSession,
  task: TaskDef,
  table: TableDef,
  stagingFolder: string,
  log: RunLogger,
): Promise<StagedOutput> {
  const sql = task.sql ?? '';
  const [statement] = await parseSql(sql);
  if (!statement) throw new RunFailedError(`task ${task.name} has no SQL`, { task: task.name });
  const readNames = new Set(referencedTables(statement.node).map((reference) => reference.name));
  for (const dependency of task.dependsOn) readNames.add(dependency);

  // Pin every upstream table to its current version for the whole run, and record what was read.
  const upstream: VersionRef[] = [];
  const relations = new Map<string, string>();
  for (const name of [...readNames].sort()) {
    if (!context.definitions.tables.some((candidate) => candidate.name === name)) continue;
    const version = await context.store.getCurrentVersion(name);
    if (!version) {
      throw new RunFailedError(
        `upstream table ${name} has no published version yet; run the task that produces it first`,
        {
          task: task.name,
        },
      );
    }
    upstream.push({ table: name, version: version.version });
    relations.set(name, `SELECT * FROM ${parquetRelation(context.storage, version.files)}`);
  }
  log.info(`reading ${upstream.map((ref) => `${ref.table}@${ref.version}`).join(', ') || 'no tables'}`);
  const rewritten = await rewriteTableReferences(statement.document, (reference) => {
    const relation = relations.get(reference.name);
    if (!relation)
      throw new RunFailedError(`task ${task.name} reads ${reference.name}, which is not a catalog table`, {
        task: task.name,
      });
    return relation;
  });

  const outputFile = join(stagingFolder, 'part-0.parquet');
  const declared = table.schema?.fields;
  const query = declared ? await conformToSchema(session, task, table, declared, rewritten) : rewritten;
  await session.run(`COPY (${query}) TO ${quoteLiteral(outputFile)} (FORMAT parquet)`);
  const files = [await context.storage.commitFile(outputFile)];
  const relation = parquetRelation(context.storage, files);
  const fields = declared
    ? undefined
    : await inferProjectionFields(context, task, await describe(session, `SELECT * FROM ${relation}`), log);
  const rowCount = await countRows(session, relation);
  const checks = await runValidations(context, session, table, relation);
  return { files, rowCount, upstream, checks, fields };
}

/**
 * The schema of an inferred projection: the engine's column types, and sensitivity inherited
 * through column lineage from the upstream columns each output derives from. Also refreshes the
 * task's column lineage in the catalog with the upstream columns as they now are.
 */
async function inferProjectionFields(
  context: RunContext,
  task: TaskDef,
  columns: { name: string; type: string; nullable: boolean }[],
  log: RunLogger,
): Promise<FieldDef[]> {
  const upstreamFields = new Map<string, FieldDef[]>();
  for (const record of await context.store.listTables()) upstreamFields.set(record.name, record.fields);
  const lineage = await columnLineage(task.sql ?? '', (table) =>
    upstreamFields.get(table)?.map((field) => field.name),
  );
  const { fields, inherited } = inheritSensitivity(inferFields(columns), lineage, (table, column) =>
    upstreamFields.get(table)?.find((field) => field.name.toLowerCase() === column.toLowerCase()),
  );
  for (const item of inherited) {
    log.info(`column ${item.field} inherits ${item.sensitivity} (mask ${item.mask}) from ${item.from}`);
  }
  const tableEdges = [...new Set(lineage.flatMap((column) => column.sources.map((source) => source.table)))];
  await context.store.replaceTaskLineage(task.name, [
    ...tableEdges.map((table) => ({ fromTable: table, toTable: task.target, task: task.name })),
    ...lineage.flatMap((column) =>
      column.sources
        .filter((source) => source.column !== '*')
        .map((source) => ({
          fromTable: source.table,
          fromColumn: source.column,
          toTable: task.target,
          toColumn: column.name,
          task: task.name,
        })),
    ),
  ]);
  return fields;
}

/** Cast a projection's output to the declared schema; a missing required column fails the run. */
async function conformToSchema(
  session: EngineSession,
  task: TaskDef,
  table: TableDef,
  fields: FieldDef[],
  query: string,
): Promise<string> {
  const produced = new Map(
    (await describe(session, query)).map((column) => [column.name.toLowerCase(), column.name]),
  );
  const missing = fields.filter((field) => !field.nullable && !produced.has(field.name.toLowerCase()));
  if (missing.length > 0) {
    throw new RunFailedError(
      `task ${task.name}: the SQL does not produce required column(s) ${missing.map((field) => field.name).join(', ')} of ${table.name} ` +
        `(it produces ${[...produced.values()].join(', ')})`,
      { task: task.name },
    );
  }
  const selectList = fields.map((field) => {
    const source = produced.get(field.name.toLowerCase());
    const value = source ? quoteIdentifier(source) : 'NULL';
    return `CAST(${value} AS ${sqlTypeOf(field.type)}) AS ${quoteIdentifier(field.name)}`;
  });
  return `SELECT ${selectList.join(', ')} FROM (${query})`;
}

async function runValidations(
  context: RunContext,
  session: EngineSession,
  table: TableDef,
  relation: string,
): Promise<CheckResult[]> {
  if (table.validations.length === 0) return [];
  // Checks that compare with another table read its current version.
  const otherTables = new Map<string, string>();
  const mentioned = JSON.stringify(table.validations.map((validation) => validation.args));
  for (const other of context.definitions.tables) {
    if (other.name === table.name || !mentioned.includes(other.name)) continue;
    const version = await context.store.getCurrentVersion(other.name);
    if (version) otherTables.set(other.name, parquetRelation(context.storage, version.files));
  }
  return runChecks(session, relation, table.validations, {
    resolveTable: (name) => (name === table.name ? relation : otherTables.get(name)),
  });
}

async function describe(
  session: EngineSession,
  query: string,
): Promise<{ name: string; type: string; nullable: boolean }[]> {
  const result = await session.query(`DESCRIBE ${query}`);
  return result.rows.map((row) => ({
    name: String(row.column_name),
    type: String(row.column_type),
    nullable: row.null !== 'NO',
  }));
}

async function countRows(session: EngineSession, relation: string): Promise<number> {
  const result = await session.query(`SELECT count(*) AS n FROM ${relation}`);
  return Number(result.rows[0]?.n ?? 0);
}

function describeCheck(check: CheckResult): string {
  const column = typeof check.args.column === 'string' ? ` on ${check.args.column}` : '';
  if (check.error) return `${check.expectation}${column}: ${check.error}`;
  const unexpected =
    check.unexpectedCount !== undefined
      ? `${check.unexpectedCount} unexpected${check.unexpectedPercent !== undefined ? ` (${check.unexpectedPercent.toFixed(2)}%)` : ''}`
      : `observed ${JSON.stringify(check.observedValue)}`;
  return `${check.expectation}${column}: ${unexpected}`;
}

function formatBadRow(row: {
  file: string;
  line?: number;
  column?: string;
  value?: string;
  reason: string;
}): string {
  return `${row.file}${row.line ? `:${row.line}` : ''}${row.column ? ` column ${row.column}` : ''}: ${row.reason}`;
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : (100 * part) / whole;
}
