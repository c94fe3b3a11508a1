import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RunFailedError, TesseraError } from '../diagnostics/errors.ts';
import { PRIVATE_DIRECTORY_MODE } from '../storage/index.ts';
import { quoteIdentifier, quoteLiteral, type EngineSession } from '../engines/engine.ts';
import { sqlTypeOf } from './sql-type.ts';
import type { TaskDef } from '../model/index.ts';
import { describeBadRow } from './bad-row-message.ts';
import { locateBadRows, type LocatedRows } from './bad-row-locator.ts';
import { matchColumns } from './column-matcher.ts';
import { readConformOptions, type ConformOptions } from './conform-options.ts';
import { conformedSelect, goodRowsSelect, planConform, type ConformPlan } from './conform-plan.ts';
import { CsvSource } from './csv-source.ts';
import type { FileSource } from './file-source.ts';
import type { BadRow, IngestRequest, IngestResult } from './ingest-request.ts';
import { JsonSource } from './json-source.ts';
import { quarantineRowsSelect } from './quarantine-rows.ts';
import { ParquetSource } from './parquet-source.ts';
import { readableSourceFiles } from './source-encoding.ts';
import { fileLabel, resolveSourceFiles } from './source-file-resolver.ts';

/** Bad rows kept in the result (the quarantine file has all of them). */
const BAD_ROW_SAMPLE = 1000;
/** Bad rows named in a failure message. */
const BAD_ROWS_IN_MESSAGE = 5;
/**
 * Parquet compression of written files. Measured on the 5M-row bench (bench/ingest.bench.ts):
 * snappy costs 2-3% less CPU than zstd, and zstd's files were 4.8x smaller (25.6 vs 124 MB) on
 * that repetitive synthetic data. Speed wins here; zstd is the alternative if storage matters more.
 */
const COMPRESSION = 'snappy';

let ingestionCounter = 0;

/**
 * Reads a task's source files, conforms every row to the table's schema and writes the good rows
 * to `outputFile` as Parquet (see README.md for the pipeline). Bad rows either fail the run or are
 * quarantined next to `outputFile`, per `task.badRows`. When the run fails, `outputFile` does not exist.
 */
export async function ingestFiles(request: IngestRequest): Promise<IngestResult> {
  const { session, task, repoRoot, outputFile } = request;
  const sourceType = task.source?.type;
  if (sourceType !== 'csv' && sourceType !== 'json' && sourceType !== 'ndjson' && sourceType !== 'parquet') {
    throw new RunFailedError(
      `task ${task.name}: source type ${sourceType ?? '(none)'} is not a file format (csv, json, ndjson, parquet)`,
      { task: task.name, table: task.target },
    );
  }
  const options = readConformOptions(task);
  const sourceFiles = await resolveSourceFiles(session, task, repoRoot);
  // Files staged by a source reader are named as the source names them (an object, a stream), not by their path.
  const sourceLabels = new Map(
    sourceFiles.map((file) => [
      file,
      request.fileLabels?.[file] ?? request.positions?.fileLabels[file] ?? fileLabel(file, repoRoot),
    ]),
  );
  const log: string[] = [
    `reading ${sourceFiles.length} ${sourceType} file${sourceFiles.length === 1 ? '' : 's'}: ${listed([...sourceLabels.values()])}`,
  ];
  if (options.ignored.length > 0) log.push(`ignored unknown source options: ${options.ignored.join(', ')}`);
  if (sourceType === 'parquet' && task.source?.options.encoding !== undefined) {
    log.push('ignored source option encoding: Parquet files store text as UTF-8');
  }
  await mkdir(dirname(outputFile), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  // Text in another encoding is read from a UTF-8 copy beside the output, deleted when done.
  const readable =
    sourceType === 'parquet'
      ? { files: sourceFiles, labels: sourceLabels, log: [], cleanup: async () => {} }
      : await readableSourceFiles(task, options.encoding, sourceFiles, sourceLabels, {
          stagingFolder: dirname(outputFile),
          rawCopies: request.rawCopies ?? true,
        });
  log.push(...readable.log);
  try {
    return await ingestReadable(
      request,
      sourceType,
      options,
      sourceFiles,
      readable.files,
      readable.labels,
      log,
    );
  } finally {
    await readable.cleanup();
  }
}

/** `ingestFiles` once the files read as UTF-8: `files` are read, `sourceFiles` are reported. */
async function ingestReadable(
  request: IngestRequest,
  sourceType: 'csv' | 'json' | 'ndjson' | 'parquet',
  options: ConformOptions,
  sourceFiles: string[],
  files: string[],
  labels: Map<string, string>,
  log: string[],
): Promise<IngestResult> {
  const { session, task, fields, outputFile, positions } = request;
  const firstLabel = labels.get(files[0]!)!;

  // The engine's messages name the files it read: a converted copy is named as its original.
  const converted = files === sourceFiles ? [] : files;
  // The excerpt of the engine's SQL after `LINE 1:` is cut where a copy's path may be cut short.
  const relabel = (message: string): string =>
    converted.reduce(
      (text, file) => text.split(file).join(labels.get(file) ?? file),
      converted.length > 0 ? message.replace(/\s*\nLINE \d+:[\s\S]*$/, '') : message,
    );
  const source = await withReadErrors(
    task,
    firstLabel,
    () => openSource(session, sourceType, files, options),
    undefined,
    relabel,
  );
  if (source.holdsNoRecords) {
    // Nothing to match columns against: an empty file with the schema's columns, and no rows.
    await mkdir(dirname(outputFile), { recursive: true });
    const writeRows =
      request.writeRows ?? ((select: string, file: string) => copyToParquet(session, select, file));
    const columns = fields.map(
      (field) => `CAST(NULL AS ${sqlTypeOf(field.type)}) AS ${quoteIdentifier(field.name)}`,
    );
    await writeRows(`SELECT ${columns.join(', ')} WHERE false`, outputFile);
    log.push(`${firstLabel}: no records`);
    return { sourceFiles, unmatchedSourceColumns: [], log, rowCount: 0, badRowCount: 0, badRows: [] };
  }
  // A stream's position column feeds no field: it names where a bad row came from.
  const sourceColumns = source.columns
    .map((column) => column.name)
    .filter((column) => column !== positions?.column);
  const matching = matchColumns(task, fields, sourceColumns, firstLabel);
  if (matching.unmatchedSourceColumns.length > 0) {
    log.push(
      `${firstLabel}: ignored source columns that match no field: ${matching.unmatchedSourceColumns.join(', ')}`,
    );
  }
  if (matching.missingOptionalFields.length > 0) {
    log.push(
      `${firstLabel}: optional fields with no source column (written as NULL): ${matching.missingOptionalFields.join(', ')}`,
    );
  }
  const formats = { timestamp: options.timestampFormats, date: options.dateFormats };
  const fileOfLabel = new Map([...labels].map(([file, label]) => [label, file]));
  const fieldOfColumn = (column: string): string | undefined =>
    matching.matches.find((match) => match.sourceColumn === column)?.field.name;
  const describe = (row: BadRow): string =>
    describeBadRow(
      row,
      positions ? 'line' : source.positionKind(fileOfLabel.get(row.file) ?? row.file),
      fieldOfColumn,
    );
  const outcome = { sourceFiles, unmatchedSourceColumns: matching.unmatchedSourceColumns, log };

  await mkdir(dirname(outputFile), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const writeRows =
    request.writeRows ?? ((select: string, file: string) => copyToParquet(session, select, file));
  const restoreTimeZone = await useUtc(session);
  try {
    // Fast path: one pass that converts and writes, and raises at the first value it cannot conform.
    let fastPlan = planConform(source, matching.matches, formats, source.castsWhileReading);
    if (files.length > 1 && !(await typedReadHolds(session, fastPlan).catch(() => false))) {
      fastPlan = planConform(source, matching.matches, formats, false);
    }
    const positionColumn = positions ? { positionColumn: positions.column } : {};
    let refusal: unknown;
    try {
      const rowCount = await writeRows(conformedSelect(fastPlan), outputFile);
      log.push(`conformed and wrote ${rowCount} rows`);
      return { ...outcome, rowCount, badRowCount: 0, badRows: [] };
    } catch (error) {
      refusal = error;
      await rm(outputFile, { force: true });
    }

    // Slow path: something was refused; read again tolerantly and find every bad row and its position.
    const slowPlan = { ...planConform(source, matching.matches, formats, false), ...positionColumn };
    const tablePrefix = `__tessera_ingest_${++ingestionCounter}`;
    const located = await withReadErrors(
      task,
      firstLabel,
      () => locateBadRows(session, slowPlan, labels, tablePrefix),
      refusal,
      relabel,
    );
    try {
      if (located.badCount === 0) {
        // The fast path's reader is stricter than the checks in a few places (e.g. ISO times without seconds).
        log.push(
          `the single-pass read refused the source (${firstLine(refusal)}); it was conformed in a second pass`,
        );
      } else {
        await enforceBadRowPolicy(task, located, describe);
      }
      const rowCount = await writeRows(goodRowsSelect(slowPlan, located.rowsTable), outputFile);
      log.push(`conformed and wrote ${rowCount} rows`);
      if (located.badCount === 0) return { ...outcome, rowCount, badRowCount: 0, badRows: [] };

      const badRows = await readBadRows(session, located.badTable, BAD_ROW_SAMPLE);
      const total = located.goodCount + located.badCount;
      const counted = `${plural(located.badCount, 'bad row')} of ${total} (${percent(located.badCount / total)})`;
      if (request.keepBadRows === false) {
        log.push(`set aside ${counted} without keeping them; first: ${describe(badRows[0]!)}`);
        return { ...outcome, rowCount, badRowCount: located.badCount, badRows };
      }
      const quarantineFile = quarantineFileFor(outputFile);
      const hashing = request.sensitiveValueHashing;
      const quarantined = quarantineRowsSelect(
        located.badTable,
        sourceColumns,
        matching.matches,
        hashing?.sql,
      );
      const write = () => copyToParquet(session, quarantined, quarantineFile);
      await (hashing ? hashing.around(write) : write());
      log.push(`quarantined ${counted} to ${quarantineFile}; first: ${describe(badRows[0]!)}`);
      return { ...outcome, rowCount, badRowCount: located.badCount, badRows, quarantineFile };
    } finally {
      await located.drop();
    }
  } catch (error) {
    await rm(outputFile, { force: true });
    await rm(quarantineFileFor(outputFile), { force: true });
    if (error instanceof TesseraError) throw error;
    throw new RunFailedError(
      `task ${task.name}: cannot write ${outputFile}: ${firstLine(error)}`,
      {
        task: task.name,
        table: task.target,
      },
      { cause: error },
    );
  } finally {
    await restoreTimeZone();
  }
}

/**
 * Whether the reader really produces the types the plan asked for. Given several files whose
 * columns come in different orders, DuckDB matches them by name but reads every column as VARCHAR.
 */
async function typedReadHolds(session: EngineSession, plan: ConformPlan): Promise<boolean> {
  if (plan.readTypes.size === 0) return true;
  const scan = plan.source.scan({ readTypes: plan.readTypes, readerFormats: plan.readerFormats });
  const described = await session.query(`DESCRIBE SELECT * FROM ${scan}`);
  const types = new Map(described.rows.map((row) => [String(row.column_name), String(row.column_type)]));
  return [...plan.readTypes].every(([column, type]) => types.get(column) === type);
}

/** `action: fail` refuses any bad row; `quarantine` refuses more than `max_fraction` of them. */
async function enforceBadRowPolicy(
  task: TaskDef,
  located: LocatedRows,
  describe: (row: BadRow) => string,
): Promise<void> {
  const total = located.goodCount + located.badCount;
  const fraction = located.badCount / total;
  const { action, maxFraction } = task.badRows;
  if (action === 'quarantine' && fraction <= maxFraction) return;

  const first = await readBadRows(located.session, located.badTable, BAD_ROWS_IN_MESSAGE);
  const lines = first.map((row) => `  ${describe(row)}`).join('\n');
  const more = located.badCount > first.length ? `\n  … and ${located.badCount - first.length} more` : '';
  const count = `${plural(located.badCount, 'bad row')} of ${total}`;
  const why =
    action === 'fail'
      ? `${count}, and bad_rows.action is fail`
      : `${count} (${percent(fraction)}) is more than bad_rows.max_fraction ${maxFraction} (${percent(maxFraction)})`;
  throw new RunFailedError(`task ${task.name}: ${why}:\n${lines}${more}`, {
    task: task.name,
    table: task.target,
  });
}

/** `…/part-0.parquet` → `…/part-0.quarantine.parquet`, beside the file it belongs to. */
function quarantineFileFor(outputFile: string): string {
  return outputFile.replace(/(\.parquet)?$/, '.quarantine.parquet');
}

function openSource(
  session: EngineSession,
  type: 'csv' | 'json' | 'ndjson' | 'parquet',
  files: string[],
  options: ConformOptions,
): Promise<FileSource> {
  switch (type) {
    case 'csv':
      return CsvSource.open(session, files, options);
    case 'json':
    case 'ndjson':
      return JsonSource.open(session, files, type, options);
    case 'parquet':
      return ParquetSource.open(session, files, options);
  }
}

/** Runs a statement that reads the source; an engine error becomes a failed run naming the source. */
async function withReadErrors<T>(
  task: TaskDef,
  label: string,
  read: () => Promise<T>,
  earlier?: unknown,
  relabel: (message: string) => string = (message) => message,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    const message = relabel(error instanceof Error ? error.message : String(error));
    throw new RunFailedError(
      `task ${task.name}: cannot read ${label}: ${message}`,
      { task: task.name, table: task.target },
      {
        cause: earlier ?? error,
      },
    );
  }
}

async function copyToParquet(session: EngineSession, select: string, file: string): Promise<number> {
  const result = await session.query(
    `COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION ${COMPRESSION})`,
  );
  return Number(result.rows[0]?.Count ?? 0);
}

async function readBadRows(session: EngineSession, table: string, limit: number): Promise<BadRow[]> {
  const result = await session.query(
    `SELECT file, line, "column", value, reason FROM ${table} LIMIT ${limit}`,
  );
  return result.rows.map((row) => {
    const badRow: BadRow = { file: String(row.file), reason: String(row.reason) };
    if (row.line !== null && row.line !== undefined) badRow.line = Number(row.line);
    if (row.column !== null && row.column !== undefined) badRow.column = String(row.column);
    if (row.value !== null && row.value !== undefined) badRow.value = String(row.value);
    return badRow;
  });
}

/**
 * Timestamps without an offset mean UTC: the session's TimeZone decides how DuckDB reads them, so
 * it is UTC for the run and put back afterwards.
 */
async function useUtc(session: EngineSession): Promise<() => Promise<void>> {
  const current = await session.query(`SELECT current_setting('TimeZone') AS zone`);
  const zone = String(current.rows[0]?.zone ?? 'UTC');
  await session.run(`SET TimeZone = 'UTC'`);
  return () => session.run(`SET TimeZone = ${quoteLiteral(zone)}`);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function listed(items: string[]): string {
  return items.length <= 5
    ? items.join(', ')
    : `${items.slice(0, 5).join(', ')}, … (${items.length - 5} more)`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(3))}%`;
}
