import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { duckdbDialect } from '../engines/dialect.ts';
import { quoteIdentifier, type EngineSession } from '../engines/engine.ts';
import { RunFailedError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import {
  ingestFiles,
  sourceReaderFor,
  sqlTypeOf,
  type IngestResult,
  type StagedSource,
} from '../ingest/index.ts';
import { runChecks } from '../quality/index.ts';
import { leaseResolved } from '../catalog/read-lease.ts';
import {
  columnLineage,
  parseSql,
  referencedTables,
  rewriteTableReferences,
  rewriteTableReferencesInAst,
  renderForPostgres,
  boundColumnsOf,
  ProjectionBinder,
  type AstNode,
  type ParsedStatement,
} from '../sql/index.ts';
import {
  HASH_KEY_VARIABLE,
  HASH_KEY_VARIABLE_SQL,
  hmacSha256Sql,
  inheritSensitivity,
  sanitizeEngineErrorMessage,
  setHashKeyVariableSql,
} from '../governance/index.ts';
import type {
  CheckResult,
  FieldDef,
  MaskKind,
  Run,
  RunLifecycleEvent,
  TableDef,
  TaskDef,
  Version,
  VersionRef,
} from '../model/index.ts';
import type { RunContext } from './run-context.ts';
import { newRunId } from './run-id.ts';
import { RunCancelledError } from './run-cancelled-error.ts';
import { RunSkippedError } from './run-skipped-error.ts';
import { RunLogger } from './run-logger.ts';
import { tableRelation, tableSelect } from './table-relation.ts';
import { VersionFileWriter } from './version-file-writer.ts';
import { redactSourceValues } from './raw-value-redaction.ts';
import { inferFields } from './inferred-schema.ts';
import { enforceRetention } from './retention.ts';
import { loadPublishedVersion } from './engine-versions.ts';
import { recordableChecks } from './check-result-masking.ts';
import { runOutcomeEvents } from '../notify/run-events.ts';

export interface RunOptions {
  /** Why the run happens: `manual` (default), `schedule`, `upstream:<table>@<version>`, `backfill`. */
  trigger?: string;
  /** Reuse an id (a queued run being started); default: a new id. */
  runId?: string;
  attempt?: number;
  /**
   * Aborting it stops the run before publication: the run ends `failed` with the abort reason's
   * message, or `cancelled` when the reason is a `RunCancelledError`. Default: never aborted.
   */
  signal?: AbortSignal;
  /**
   * A failure of this attempt will be retried (the dispatcher's `retries`): monitoring is told only
   * when the last attempt fails, as an Airflow failure callback fires after the retries.
   */
  willRetryOnFailure?: boolean;
  /**
   * Called once the version is published (also when a retried run finds its version already
   * published), before the run is recorded as succeeded. Must not throw; a throw is only logged.
   */
  onPublished?: (version: Version) => Promise<void>;
}

/** What monitoring is told with a run's outcome (see `runOutcomeEvents`). */
interface RunOutcomeFacts {
  failedChecks: CheckResult[];
  publishedVersion?: number;
  /** The version published and the fields it was written with (lineage observers are told them). */
  version?: Version;
  fields?: FieldDef[];
  willRetry: boolean;
}

/** What a run computed before publication. */
interface StagedOutput {
  files: string[];
  rowCount: number;
  upstream: VersionRef[];
  checks: CheckResult[];
  fields?: FieldDef[];
  badRows?: number;
  /** What every file of the version stores masked (`Version.storedMasks`). */
  storedMasks: Record<string, MaskKind>;
}

/** The source reader's part of a run (sources that are not local files): kept to settle it at the end. */
interface ReadSource {
  staged?: StagedSource;
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
  tellObserver(context, { type: 'started', run: { ...run } });
  log.info(`run ${run.id} of ${task.name} (${task.type} → ${table.name}), trigger ${run.trigger}`);

  // A retried run whose first attempt published before dying must not publish (or stage over) again.
  const alreadyPublished = (await context.store.listVersions(table.name)).find(
    (version) => version.runId === run.id,
  );
  if (alreadyPublished) {
    log.info(
      `run ${run.id} already published ${table.name} version ${alreadyPublished.version}; nothing to redo`,
    );
    await notifyPublished(options, alreadyPublished, log);
    return finishRun(
      context,
      log,
      run,
      {
        status: 'succeeded',
        finishedAt: new Date().toISOString(),
        published: { table: table.name, version: alreadyPublished.version },
        rowsWritten: alreadyPublished.rowCount,
      },
      {
        failedChecks: alreadyPublished.checks.filter((check) => !check.success),
        publishedVersion: alreadyPublished.version,
        version: alreadyPublished,
        willRetry: false,
      },
    );
  }

  // Setup (engine session, staging folder) happens inside the try: a setup that throws still
  // records the run as failed, never leaves it `running`.
  let session: EngineSession | undefined;
  // What monitoring is told with the outcome: the checks that failed and what got published.
  const outcome: RunOutcomeFacts = { failedChecks: [], willRetry: options.willRetryOnFailure === true };
  const source: ReadSource = {};
  try {
    session = await setUp(
      task,
      'open an engine session',
      "check the engine's settings in tessera.yaml and that the engine's files are writable",
      () => context.engine.openSession(),
    );
    const stagingFolder = await setUp(
      task,
      `create the staging folder of ${table.name}`,
      `check that the storage folder (${context.definitions.project.storage}) is a writable folder, with no file in the way`,
      () => context.storage.createStagingFolder(table.name, run.id),
    );
    const staging: Staging = {
      context,
      session,
      task,
      table,
      stagingFolder,
      log,
      source,
      signal: options.signal,
    };
    const staged = task.type === 'ingestion' ? await stageIngestion(staging) : await stageProjection(staging);
    // Recorded with the run whatever follows: a failed validation publishes no version.
    run.checks = staged.checks;
    const failures = staged.checks.filter((check) => !check.success && check.severity === 'error');
    for (const check of staged.checks.filter((check) => !check.success)) {
      (check.severity === 'error' ? log.error : log.warn).call(
        log,
        `check failed: ${describeCheck(check)}${sampleText(check, ': ', '; the first N: ')}`,
      );
    }
    if (failures.length > 0) {
      outcome.failedChecks = failures;
      // The values go on lines of their own: notifications quote only the first line.
      const samples = failures
        .filter((check) => check.sample?.length && !check.error)
        .map((check) => `\n  ${checkName(check)}${sampleText(check, ': ', ', the first N: ')}`);
      throw new RunFailedError(
        `validation failed for ${table.name}: ${failures.map(describeCheck).join('; ')}${samples.join('')}`,
        { task: task.name, runId: run.id, table: table.name },
      );
    }
    options.signal?.throwIfAborted();
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
      storedMasks: staged.storedMasks,
      ...(source.staged?.cursor !== undefined
        ? { sourceCursor: { task: task.name, cursor: source.staged.cursor } }
        : {}),
    });
    log.info(`published ${table.name} version ${version.version} (${version.rowCount} rows)`);
    const published = source.staged;
    source.staged = undefined;
    if (published?.afterPublish) {
      try {
        await published.afterPublish();
      } catch (error) {
        // Published with its cursor: what the source redelivers is recognised by the cursor (message
        // ids, offsets) and not published twice.
        log.warn(`after publication, acknowledging the source failed: ${errorText(error)}`);
      }
    }
    outcome.failedChecks = staged.checks.filter((check) => !check.success);
    outcome.publishedVersion = version.version;
    outcome.version = version;
    if (staged.fields) outcome.fields = staged.fields;
    await notifyPublished(options, version, log);
    try {
      await enforceRetention(context, table, log);
    } catch (error) {
      // The version is published; a retention hiccup must not fail the run (or discard its files).
      log.warn(`retention: ${error instanceof Error ? error.message : String(error)}`);
    }
    await loadPublishedVersion(context, table.name, version, log);
    Object.assign(run, {
      status: 'succeeded',
      finishedAt: new Date().toISOString(),
      published: { table: table.name, version: version.version },
      rowsWritten: version.rowCount,
      badRows: staged.badRows,
    } satisfies Partial<Run>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RunSkippedError) {
      log.info(message);
    } else {
      if (!(error instanceof TesseraError)) {
        // A bug. Run logs are read by owners through `tessera logs`: they say so in one line and
        // never carry a stack trace; TESSERA_DEBUG=1 prints it on this process's stderr.
        log.error(`unexpected error, a bug in Tessera (TESSERA_DEBUG=1 prints its stack trace): ${message}`);
        if (process.env.TESSERA_DEBUG === '1') console.error(error);
      } else {
        log.error(message);
      }
    }
    try {
      await source.staged?.abandon?.();
    } catch (abandonError) {
      log.warn(`cannot release the source: ${errorText(abandonError)}`);
    }
    try {
      await context.storage.discardStaging(table.name, run.id);
    } catch (discardError) {
      log.warn(`cannot delete the staging folder: ${errorText(discardError)}`);
    }
    const status =
      error instanceof RunSkippedError
        ? 'skipped'
        : error instanceof RunCancelledError
          ? 'cancelled'
          : 'failed';
    Object.assign(run, { status, finishedAt: new Date().toISOString(), error: message });
  } finally {
    session?.close();
  }
  return finishRun(context, log, run, {}, outcome);
}

/** A setup step of a run; what it throws becomes a failure that says which step failed and what to check. */
async function setUp<T>(task: TaskDef, step: string, hint: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw new RunFailedError(
      `task ${task.name}: cannot ${step}: ${errorText(error)}; ${hint}`,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function notifyPublished(options: RunOptions, version: Version, log: RunLogger): Promise<void> {
  try {
    await options.onPublished?.(version);
  } catch (error) {
    // The version is published: a failing observer must not turn the run into a failure.
    log.warn(`after publication: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Record the run's outcome, with the events it means to monitoring in the same transaction (a
 * failure, a warning, the recovery of an open incident), so no failure goes untold if the process
 * dies right after.
 */
async function finishRun(
  context: RunContext,
  log: RunLogger,
  run: Run,
  patch: Partial<Run>,
  outcome: RunOutcomeFacts,
): Promise<Run> {
  Object.assign(run, patch);
  const task = context.definitions.tasks.find((candidate) => candidate.name === run.task);
  const events = runOutcomeEvents({
    run,
    table: task?.target ?? run.published?.table ?? run.task,
    failedChecks: outcome.failedChecks,
    willRetry: outcome.willRetry,
    openIncidents:
      run.status === 'succeeded' ? await context.store.listIncidents({ status: 'open', task: run.task }) : [],
    ...(outcome.publishedVersion !== undefined ? { publishedVersion: outcome.publishedVersion } : {}),
    at: run.finishedAt ?? new Date().toISOString(),
  });
  await context.store.updateRun(
    run.id,
    {
      status: run.status,
      finishedAt: run.finishedAt,
      error: run.error,
      published: run.published,
      rowsWritten: run.rowsWritten,
      badRows: run.badRows,
      checks: run.checks,
    },
    events,
  );
  await log.flush();
  tellObserver(context, {
    type: 'finished',
    run: { ...run },
    ...(outcome.version ? { version: outcome.version } : {}),
    ...(outcome.fields ? { fields: outcome.fields } : {}),
  });
  return run;
}

/** Tell the run's observer (lineage out) without waiting on it; what it throws never fails the run. */
function tellObserver(context: RunContext, event: RunLifecycleEvent): void {
  try {
    context.onRunEvent?.(event);
  } catch {
    // An observer's bug is its own: the run's outcome is recorded already.
  }
}

/** What staging a run's output works with: the run's engine session, task, target and folder. */
interface Staging {
  context: RunContext;
  session: EngineSession;
  task: TaskDef;
  table: TableDef;
  stagingFolder: string;
  log: RunLogger;
  /** Where an ingestion's source reader, if any, leaves what it staged. */
  source: ReadSource;
  signal?: AbortSignal;
}

/** The task as the file pipeline reads it: itself, or the files its source reader staged. */
async function readSource(staging: Staging, fields: FieldDef[]): Promise<TaskDef> {
  const { context, session, task, stagingFolder, log } = staging;
  const reader = await sourceReaderFor(task);
  if (!reader) return task;
  const staged = await reader({
    task,
    fields,
    ...(staging.table.schema ? { schema: staging.table.schema } : {}),
    stagingFolder,
    repoRoot: context.definitions.project.root,
    project: context.definitions.project,
    cursor: await context.store.getSourceCursor(task.name),
    session,
    ...(staging.signal ? { signal: staging.signal } : {}),
    log: (message) => log.info(message),
  });
  staging.source.staged = staged;
  if (staged.nothingNew !== undefined) throw new RunSkippedError(staged.nothingNew);
  return staged.task;
}

async function stageIngestion(staging: Staging): Promise<StagedOutput> {
  const { context, session, table, stagingFolder, log } = staging;
  const fields = table.schema?.fields;
  if (!fields) throw new RunFailedError(`table ${table.name} has no schema`, { task: staging.task.name });
  // A source that is not local files (an object store, a database, a stream) is staged into files
  // first; the rest of the run reads those exactly as it reads files.
  const task = await readSource(staging, fields);
  const writer = versionFileWriter(context, table, fields);
  const deidentified = table.store === 'deidentified';
  // Ingestion writes the rows as stored (masked when de-identified, with precomputed hashes) in the
  // same pass that conforms them: straight into the version file, except for a merge, which combines
  // them with the previous version afterwards. A merge into a de-identified table still writes its
  // incoming rows masked, so raw values never land, not even in staging.
  const merge = task.mode === 'merge';
  const incomingFile = join(stagingFolder, merge ? 'incoming.parquet' : 'part-0.parquet');
  const writeAsStored = merge ? deidentified : writer.transformsRows;
  const scrub = (message: string) => (deidentified ? redactSourceValues(message) : message);
  let result: IngestResult;
  try {
    result = await ingestFiles({
      session,
      task,
      fields,
      repoRoot: context.definitions.project.root,
      ...(staging.source.staged?.fileLabels ? { fileLabels: staging.source.staged.fileLabels } : {}),
      outputFile: incomingFile,
      ...(writeAsStored
        ? {
            writeRows: (select: string, file: string) =>
              writer.write(session, writer.storedValues(`(${select})`), file),
          }
        : {}),
      // A de-identified table keeps no source record at all, not even with sensitive values hashed.
      keepBadRows: !deidentified,
      // Nor a UTF-8 copy of a source in another encoding.
      rawCopies: !deidentified,
      ...(staging.source.staged?.positions ? { positions: staging.source.staged.positions } : {}),
      sensitiveValueHashing: {
        sql: (text) => hmacSha256Sql(text, HASH_KEY_VARIABLE_SQL),
        // The key is in the session only while the quarantine is written: validations, whose SQL
        // comes from the repo, run on this session later.
        async around(write) {
          await session.run(setHashKeyVariableSql(context.hashKey));
          try {
            return await write();
          } finally {
            await session.run(`RESET VARIABLE ${HASH_KEY_VARIABLE}`);
          }
        },
      },
    });
  } catch (error) {
    if (deidentified && error instanceof RunFailedError) {
      throw new RunFailedError(scrub(error.message), error.context);
    }
    throw error;
  }
  if (result.quarantineFile) {
    // Beside the version's file, where retention looks for it (a merge stages `incoming.parquet`),
    // and private like it.
    const quarantineFile = join(stagingFolder, 'part-0.quarantine.parquet');
    if (result.quarantineFile !== quarantineFile) await rename(result.quarantineFile, quarantineFile);
    await context.storage.commitFile(quarantineFile);
  }
  for (const line of result.log) log.info(scrub(line));
  // The task as declared: a reader's staged file is no name a user knows the source by.
  if (result.rowCount + result.badRowCount === 0) await refuseEmptySource(context, staging.task, table);
  if (result.badRowCount > 0) {
    log.warn(
      scrub(
        `${result.badRowCount} bad rows quarantined, e.g. ${result.badRows.slice(0, 3).map(formatBadRow).join('; ')}`,
      ),
    );
  }
  if (deidentified && result.badRowCount > 0) {
    log.info('bad rows of a table stored de-identified are counted, not kept (they hold raw values)');
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
  // What the previous version's files store masked; a version published before the record is raw.
  const previousMasks = previous?.storedMasks ?? {};
  let storedMasks = writer.storedMasks;
  let files: string[];
  const partFile = join(stagingFolder, 'part-0.parquet');
  const incomingRelation = duckdbDialect.filesRelation!([incomingFile]);
  const incoming = writeAsStored
    ? `SELECT ${fields.map((field) => quoteIdentifier(field.name)).join(', ')} FROM ${incomingRelation}`
    : writer.storedValues(incomingRelation);
  if (task.mode === 'replace') {
    files = [await context.storage.commitFile(partFile)];
  } else if (task.mode === 'append') {
    // Appending never rewrites old data: the new version lists the previous files plus the new one.
    files = [...(previous?.files ?? []), await context.storage.commitFile(partFile)];
    // So it stores a field masked only if every earlier file does too, with the same mask. After
    // `store: deidentified` is added, the earlier files hold raw values: the version is recorded raw
    // for those fields and read masked (its new rows masked twice) until a replace or merge.
    if (previous) storedMasks = agreeingMasks(storedMasks, previousMasks);
  } else {
    // A merge rewrites every row: previous rows written raw are masked as the new rows are; those
    // stored masked stay as they are (there is no raw value to mask). A field they store with
    // another mask than the new rows (or masked where the new rows are raw) is recorded raw.
    await mergeOnPrimaryKey(
      context,
      session,
      table,
      fields,
      previous?.files ?? [],
      incoming,
      partFile,
      writer,
      new Set(Object.keys(previousMasks)),
    );
    if (previous) {
      storedMasks = agreeingMasks(storedMasks, { ...storedMasks, ...previousMasks });
    }
    files = [await context.storage.commitFile(partFile)];
  }
  if (incomingFile !== partFile) await rm(incomingFile, { force: true });
  // Append mode reads the previous version's files too: object storage may hold them only remotely.
  await context.storage.ensureLocal(files);
  const relation = tableRelation(context.storage, files, fields);
  const rowCount = await countRows(session, relation);
  const checks = [
    badRowsCheck,
    ...(await runValidations(context, session, table, relation, fields, storedMasks)),
  ];
  return { files, rowCount, upstream: [], checks, badRows: result.badRowCount, storedMasks };
}

/** The entries of `planned` that `previous` holds with the same mask. */
function agreeingMasks(
  planned: Record<string, MaskKind>,
  previous: Readonly<Record<string, MaskKind>>,
): Record<string, MaskKind> {
  return Object.fromEntries(Object.entries(planned).filter(([field, mask]) => previous[field] === mask));
}

/**
 * A source with no rows at all (a header-only CSV, an empty JSON array): `replace` would publish an
 * empty table, so the run fails (the current version stays) unless the task sets `allow_empty`;
 * for `append` and `merge` there is nothing new, and the run ends `skipped`.
 */
async function refuseEmptySource(context: RunContext, task: TaskDef, table: TableDef): Promise<void> {
  const source = `source ${task.source?.uri ?? task.source?.database?.table ?? task.source?.type ?? '(none)'} of task ${task.name}`;
  if (task.mode !== 'replace') {
    throw new RunSkippedError(
      `nothing new: the ${source} was empty (no rows); mode ${task.mode} has nothing to add to ${table.name}, so no version was published`,
    );
  }
  if (task.allowEmpty) return;
  const current = await context.store.getCurrentVersion(table.name);
  const kept = current
    ? `${table.name} version ${current.version} stays current`
    : `${table.name} has no version yet`;
  throw new RunFailedError(
    `the ${source} was empty (no rows), and mode replace would replace ${table.name} with nothing; ${kept}. ` +
      `If an empty table is expected, set allow_empty: true on task ${task.name} (${task.at.file})`,
    { task: task.name, table: table.name },
  );
}

/**
 * Upsert: the incoming rows, plus every previous row whose key is not among them. `incoming` is a
 * SELECT of the incoming rows as stored (masked when the table is stored de-identified); previous
 * rows are masked the same way except the fields in `storedMasked` (already stored masked), so keys
 * compare like with like, also on the first merge after `store: deidentified` is added.
 */
async function mergeOnPrimaryKey(
  context: RunContext,
  session: EngineSession,
  table: TableDef,
  fields: FieldDef[],
  previousFiles: string[],
  incoming: string,
  outputFile: string,
  writer: VersionFileWriter,
  storedMasked: ReadonlySet<string>,
): Promise<void> {
  const keys = fields.filter((field) => field.primaryKey).map((field) => quoteIdentifier(field.name));
  if (keys.length === 0) {
    throw new RunFailedError(
      `table ${table.name}: mode merge needs a primary key; mark one with \`(tessera.field) = { primary_key: true }\``,
      { task: table.name },
    );
  }
  await context.storage.ensureLocal(previousFiles);
  const merged =
    previousFiles.length === 0
      ? incoming
      : `${incoming} UNION ALL SELECT * FROM (${writer.storedValues(tableRelation(context.storage, previousFiles, fields), storedMasked)}) AS old ` +
        `WHERE (${keys.join(', ')}) NOT IN (SELECT (${keys.join(', ')}) FROM (${incoming}))`;
  await writer.write(session, merged, outputFile);
}

async function stageProjection(staging: Staging): Promise<StagedOutput> {
  const { context, task } = staging;
  const sql = task.sql ?? '';
  const [statement] = await parseSql(sql);
  if (!statement) throw new RunFailedError(`task ${task.name} has no SQL`, { task: task.name });
  const readNames = new Set(referencedTables(statement.node).map((reference) => reference.name));
  for (const dependency of task.dependsOn) readNames.add(dependency);

  // Pin every upstream table to its current version for the whole run, and record what was read.
  // The versions' files are leased until the run has staged and checked its output, so retention
  // (a run of an upstream task, here or in another process) leaves them in place.
  const resolveUpstream = async () => {
    const versions: VersionRef[] = [];
    const relations = new Map<string, string>();
    const upstreamFields = new Map<string, FieldDef[]>();
    let readsSensitive = false;
    for (const name of [...readNames].sort()) {
      if (!context.definitions.tables.some((candidate) => candidate.name === name)) continue;
      const version = await context.store.getCurrentVersion(name);
      if (!version) {
        throw new RunFailedError(
          `upstream table ${name} has no published version yet; run the task that produces it first`,
          { task: task.name },
        );
      }
      versions.push({ table: name, version: version.version });
      const fields = (await context.store.getTable(name))?.fields ?? [];
      readsSensitive ||= fields.some((field) => field.sensitivity);
      if (context.warehouse) {
        // The projection runs in the project's engine, over the versions loaded there.
        const relation = await context.warehouse.versions.relation(name, version, fields);
        const columns = fields.map((field) => context.warehouse!.engine.dialect.identifier(field.name));
        relations.set(name, `SELECT ${columns.join(', ')} FROM ${relation}`);
      } else {
        await context.storage.ensureLocal(version.files);
        relations.set(name, tableSelect(context.storage, version.files, fields));
      }
      upstreamFields.set(name, fields);
    }
    return { versions, relations, readsSensitive, upstreamFields };
  };
  const {
    resolved: { versions: upstream, relations, readsSensitive, upstreamFields },
    lease,
  } = await leaseResolved(context.store, resolveUpstream);
  try {
    return await stageProjectionOutput(staging, { statement, upstream, relations });
  } catch (error) {
    if (!(error instanceof TesseraError)) {
      // The engine's position points into the rewritten SQL: find it in the task's own text.
      const located = await locateInProjectionSql(task, upstreamFields);
      if (located) throw new RunFailedError(located, { task: task.name });
    }
    // The engine quotes the value a conversion failed on (`Could not convert string '123-45-6789'
    // to INT32`): from sensitive upstream data, that value must not reach run logs and errors.
    if (error instanceof TesseraError || !readsSensitive) throw error;
    throw new RunFailedError(
      `task ${task.name}: ${sanitizeEngineErrorMessage(error instanceof Error ? error.message : String(error))}`,
      { task: task.name },
    );
  } finally {
    await lease.release();
  }
}

/**
 * `task T: sql/file.sql:3:8: Binder Error: …` when the task's SQL, as written, fails to bind against
 * empty tables of what it read: the same problem at the place `tessera validate` would show. An
 * error that needs data (a conversion of some value) binds fine and is left as the engine said.
 */
async function locateInProjectionSql(
  task: TaskDef,
  upstreamFields: ReadonlyMap<string, FieldDef[]>,
): Promise<string | undefined> {
  let binder: ProjectionBinder | undefined;
  try {
    binder = await ProjectionBinder.open();
    await binder.defineTables([...upstreamFields].map(([name, fields]) => [name, boundColumnsOf(fields)]));
    const outcome = await binder.bind(task.sql ?? '');
    if (!('failure' in outcome) || outcome.failure.line === undefined) return undefined;
    const { line, column, message } = outcome.failure;
    // Inline SQL has no file of its own: its line and column within the task's `sql` value.
    const where =
      task.sqlFile !== undefined
        ? `${task.sqlFile}:${line}:${column ?? 1}`
        : `${task.at.file} (its \`sql\`, line ${line}, column ${column ?? 1})`;
    return `task ${task.name}: ${where}: ${message.split('\n')[0]}`;
  } catch {
    return undefined;
  } finally {
    binder?.close();
  }
}

/** The rest of `stageProjection`, once the upstream versions are pinned and leased. */
async function stageProjectionOutput(
  staging: Staging,
  input: { statement: ParsedStatement; upstream: VersionRef[]; relations: Map<string, string> },
): Promise<StagedOutput> {
  const { context, session, task, table, stagingFolder, log } = staging;
  const { statement, upstream, relations } = input;
  log.info(`reading ${upstream.map((ref) => `${ref.table}@${ref.version}`).join(', ') || 'no tables'}`);
  const replace = (reference: { name: string }) => {
    const relation = relations.get(reference.name);
    if (!relation)
      throw new RunFailedError(`task ${task.name} reads ${reference.name}, which is not a catalog table`, {
        task: task.name,
      });
    return relation;
  };
  const rewritten = context.warehouse
    ? await computeInWarehouse(staging, await rewriteTableReferencesInAst(statement.document, replace))
    : await rewriteTableReferences(statement.document, replace);

  const outputFile = join(stagingFolder, 'part-0.parquet');
  const declared = table.schema?.fields;
  const query = declared ? await conformToSchema(session, task, table, declared, rewritten) : rewritten;
  // A declared schema is authoritative (what it does not mark sensitive is a declassification that
  // `plan` lists). An inferred one inherits sensitivity through lineage, known before writing so the
  // file gets its precomputed hashes (or masked values, stored de-identified).
  const planned =
    declared ??
    (await inferProjectionFields(
      context,
      task,
      await describe(session, query),
      upstream.map((ref) => ref.table),
      log,
    ));
  const writer = versionFileWriter(context, table, planned);
  await writer.write(session, writer.storedValues(`(${query})`), outputFile);
  const files = [await context.storage.commitFile(outputFile)];
  // Types as stored: Parquet has no HUGEINT, so e.g. sum(BIGINT) is read back as DOUBLE.
  const fields = declared ?? fieldsAsWritten(planned, await describeFile(session, outputFile, writer));
  const relation = tableRelation(context.storage, files, fields);
  const rowCount = await countRows(session, relation);
  const storedMasks = writer.storedMasks;
  const checks = await runValidations(context, session, table, relation, fields, storedMasks);
  return { files, rowCount, upstream, checks, fields: declared ? undefined : fields, storedMasks };
}

/**
 * Run a projection in the project's engine (PostgreSQL) and bring its rows back to the staging
 * folder as CSV; returns the DuckDB query reading them, typed as the engine typed them, so
 * conforming, writing and checking the version go on in DuckDB as for any other.
 */
async function computeInWarehouse(staging: Staging, rewritten: AstNode): Promise<string> {
  const { engine } = staging.context.warehouse!;
  const sql = await renderForPostgres(rewritten);
  const file = join(staging.stagingFolder, 'computed.csv');
  const session = await engine.openSession();
  // A cancelled or timed-out run stops the statement in PostgreSQL too (DuckDB's sessions are
  // interrupted by the orchestrator's `AbortableEngine`).
  const interrupt = () => session.interrupt();
  staging.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    staging.signal?.throwIfAborted();
    const { duckdbRelation } = await engine.versionTables!.exportCsv(session, sql, file);
    return `SELECT * FROM ${duckdbRelation}`;
  } finally {
    staging.signal?.removeEventListener('abort', interrupt);
    session.close();
  }
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
  readTables: string[],
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
  // Every table the run read stays an upstream edge, also one no output column derives from
  // (`select count(*) from t`): health and lineage walk these edges.
  const tableEdges = [
    ...new Set([...readTables, ...lineage.flatMap((column) => column.sources.map((source) => source.table))]),
  ];
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
  fields: FieldDef[],
  storedMasks: Readonly<Record<string, MaskKind>>,
): Promise<CheckResult[]> {
  if (table.validations.length === 0) return [];
  // Checks that compare with another table read its current version, leased while they run.
  const mentioned = JSON.stringify(table.validations.map((validation) => validation.args));
  const {
    resolved: { otherTables },
    lease,
  } = await leaseResolved(context.store, async () => {
    const versions: VersionRef[] = [];
    const otherTables = new Map<string, string>();
    for (const other of context.definitions.tables) {
      if (other.name === table.name || !mentioned.includes(other.name)) continue;
      const version = await context.store.getCurrentVersion(other.name);
      const record = version && (await context.store.getTable(other.name));
      if (!version || !record) continue;
      versions.push({ table: other.name, version: version.version });
      await context.storage.ensureLocal(version.files);
      otherTables.set(other.name, tableRelation(context.storage, version.files, record.fields));
    }
    return { versions, otherTables };
  });
  try {
    const checks = await runChecks(session, relation, table.validations, {
      resolveTable: (name) => (name === table.name ? relation : otherTables.get(name)),
    });
    return await recordableChecks(context, session, storedMasks, fields, checks);
  } finally {
    await lease.release();
  }
}

/** The table's version file writer: masked values when stored de-identified, precomputed hashes otherwise. */
function versionFileWriter(context: RunContext, table: TableDef, fields: FieldDef[]): VersionFileWriter {
  return new VersionFileWriter(fields, {
    deidentified: table.store === 'deidentified',
    hashKey: context.hashKey,
  });
}

/** The columns of a written version file, without the precomputed hash columns and digests. */
async function describeFile(
  session: EngineSession,
  file: string,
  writer: VersionFileWriter,
): Promise<{ name: string; type: string; nullable: boolean }[]> {
  const added = new Set(writer.addedColumns);
  const columns = await describe(session, `SELECT * FROM ${duckdbDialect.filesRelation!([file])}`);
  return columns.filter((column) => !added.has(column.name));
}

/** Inferred fields with the types the file holds; sensitivity and masks as planned. */
function fieldsAsWritten(
  planned: FieldDef[],
  written: { name: string; type: string; nullable: boolean }[],
): FieldDef[] {
  return inferFields(written).map((field) => {
    const plan = planned.find((candidate) => candidate.name === field.name);
    return plan?.sensitivity ? { ...field, sensitivity: plan.sensitivity, mask: plan.mask } : field;
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

/** `expect_column_values_to_be_in_set on status: 2 unexpected (20.00%)`. */
function describeCheck(check: CheckResult): string {
  if (check.error) return `${checkName(check)}: ${check.error}`;
  const unexpected =
    check.unexpectedCount !== undefined
      ? `${check.unexpectedCount} unexpected${check.unexpectedPercent !== undefined ? ` (${check.unexpectedPercent.toFixed(2)}%)` : ''}`
      : `observed ${JSON.stringify(check.observedValue)}`;
  return `${checkName(check)}: ${unexpected}`;
}

/** `expect_column_values_to_be_in_set on status`. */
function checkName(check: CheckResult): string {
  return `${check.expectation}${typeof check.args.column === 'string' ? ` on ${check.args.column}` : ''}`;
}

/**
 * The sampled unexpected values as JSON after `all` (`: "NY", "TX"`), or after `some` with N the
 * sample's size when the check found more than it holds. Values are as recorded (masked).
 */
function sampleText(check: CheckResult, all: string, some: string): string {
  const sample = check.sample ?? [];
  if (sample.length === 0 || check.error || check.expectation === 'bad_rows') return '';
  const values = sample.map((value) => JSON.stringify(value) ?? 'null').join(', ');
  const complete = check.unexpectedCount === undefined || check.unexpectedCount <= sample.length;
  return `${complete ? all : some.replace('N', String(sample.length))}${values}`;
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
