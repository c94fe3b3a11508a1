import { quoteLiteral, type EngineSession } from '../engines/engine.ts';
import {
  BAD_COLUMN,
  BAD_REASON,
  BAD_RECORD,
  BAD_VALUE,
  CHECK_COLUMN,
  NEWLINES_COLUMN,
  POSITION_COLUMN,
  locatingSelect,
  type ConformPlan,
} from './conform-plan.ts';
import { FILE_COLUMN, ORDINAL_COLUMN } from './file-source.ts';

/** The slow path's temporary tables: every row with its verdict, and the bad rows with positions. */
export interface LocatedRows {
  /** The session holding the temporary tables. */
  session: EngineSession;
  /** Every readable row: file, ordinal, converted values, and the first failing check (NULL = good). */
  rowsTable: string;
  /** Bad rows ordered by file and position: file (as labelled), line, column, value, reason, source_record. */
  badTable: string;
  goodCount: number;
  badCount: number;
  /** Drops every temporary table made here. */
  drop(): Promise<void>;
}

/**
 * Finds every bad row and where it is: reads the source again with every column as text (so the
 * reader refuses only malformed rows, which it records instead of failing), checks each row in
 * SQL, and keeps the result in temporary tables. Only run when the fast path refused the source.
 *
 * Positions: the reader numbers rows across all files; a row's ordinal within its file is its
 * number minus the file's first. For CSV, rows the reader rejected are not numbered, and a value
 * quoted across lines takes several physical lines: both are added back from small side tables.
 */
export async function locateBadRows(
  session: EngineSession,
  plan: ConformPlan,
  fileLabels: Map<string, string>,
  tablePrefix: string,
): Promise<LocatedRows> {
  const source = plan.source;
  const positioned = plan.positionColumn !== undefined;
  const names = {
    rows: `${tablePrefix}_rows`,
    starts: `${tablePrefix}_file_starts`,
    errors: `${tablePrefix}_reject_errors`,
    scans: `${tablePrefix}_reject_scans`,
    rejected: `${tablePrefix}_rejected`,
    multiline: `${tablePrefix}_multiline`,
    bad: `${tablePrefix}_bad`,
  };
  const drop = async (): Promise<void> => {
    for (const table of Object.values(names)) await session.run(`DROP TABLE IF EXISTS ${table}`);
  };
  try {
    const recordsRejects = source.recordsMalformedRows;
    const rejects = recordsRejects ? { errorsTable: names.errors, scansTable: names.scans } : undefined;
    await session.run(`CREATE TEMP TABLE ${names.rows} AS ${locatingSelect(plan, rejects)}`);
    await session.run(
      `CREATE TEMP TABLE ${names.starts} AS SELECT ${FILE_COLUMN} AS file, min(${ORDINAL_COLUMN}) AS first_ordinal ` +
        `FROM ${names.rows} GROUP BY ALL`,
    );
    const offsets = `(VALUES ${source.files
      .map(
        (file) =>
          `(${quoteLiteral(file)}, ${quoteLiteral(fileLabels.get(file) ?? file)}, ${positioned ? 0 : source.positionOffset(file)})`,
      )
      .join(', ')}) AS labels(file, label, position_offset)`;
    // Bad rows found by the checks, with their 1-based ordinal within their file (or their stream position).
    const ordinal = positioned ? `r.${POSITION_COLUMN}` : `r.${ORDINAL_COLUMN} - s.first_ordinal + 1`;
    const checked =
      `SELECT r.${FILE_COLUMN} AS file, ${ordinal} AS ordinal, r.* ` +
      `FROM ${names.rows} r JOIN ${names.starts} s ON s.file = r.${FILE_COLUMN} WHERE r.${CHECK_COLUMN} IS NOT NULL`;

    // `line` below counts records (or rows) from 1 within the file; the file's offset is added last.
    let badSelect: string;
    if (recordsRejects) {
      const header = source.headerLines;
      // One entry per rejected record; `good_before` = readable rows of its file before it.
      await session.run(
        `CREATE TEMP TABLE ${names.rejected} AS SELECT *, record - row_number() OVER (PARTITION BY file ORDER BY record) AS good_before ` +
          `FROM (SELECT s.file_path AS file, e.line - ${header} AS record, ` +
          `arg_min(e.error_message, e.column_idx) AS message, arg_min(e.csv_line, e.column_idx) AS csv_line ` +
          `FROM ${names.errors} e JOIN ${names.scans} s ON s.scan_id = e.scan_id AND s.file_id = e.file_id GROUP BY ALL)`,
      );
      await session.run(
        `CREATE TEMP TABLE ${names.multiline} AS SELECT r.${FILE_COLUMN} AS file, r.${ORDINAL_COLUMN} - s.first_ordinal + 1 AS ordinal, ` +
          `r.${NEWLINES_COLUMN} AS newlines FROM ${names.rows} r JOIN ${names.starts} s ON s.file = r.${FILE_COLUMN} ` +
          `WHERE r.${NEWLINES_COLUMN} > 0`,
      );
      const hasRejects = (await count(session, names.rejected)) > 0;
      const hasMultiline = (await count(session, names.multiline)) > 0;
      const rejectedBefore = hasRejects
        ? ` + (SELECT count(*) FROM ${names.rejected} x WHERE x.file = b.file AND x.good_before < b.ordinal)`
        : '';
      const newlinesBefore = (ordinal: string, comparison: string): string =>
        hasMultiline
          ? ` + coalesce((SELECT sum(m.newlines) FROM ${names.multiline} m WHERE m.file = b.file AND m.ordinal ${comparison} ${ordinal}), 0)`
          : '';
      badSelect =
        `SELECT b.file, b.ordinal${rejectedBefore}${newlinesBefore('b.ordinal', '<')} AS line, ` +
        `b.${BAD_COLUMN} AS "column", b.${BAD_VALUE} AS value, b.${BAD_REASON} AS reason, b.${BAD_RECORD} AS source_record ` +
        `FROM (${checked}) b` +
        (hasRejects
          ? ` UNION ALL SELECT b.file, b.record${newlinesBefore('b.good_before', '<=')} AS line, NULL, ` +
            `NULL, 'malformed CSV row: ' || b.message, b.csv_line FROM ${names.rejected} b`
          : '');
    } else {
      badSelect =
        `SELECT b.file, b.ordinal AS line, b.${BAD_COLUMN} AS "column", b.${BAD_VALUE} AS value, ` +
        `b.${BAD_REASON} AS reason, b.${BAD_RECORD} AS source_record FROM (${checked}) b`;
    }
    await session.run(
      `CREATE TEMP TABLE ${names.bad} AS SELECT labels.label AS file, CAST(bad.line + labels.position_offset AS BIGINT) AS line, ` +
        `bad."column", bad.value, bad.reason, bad.source_record FROM (${badSelect}) bad JOIN ${offsets} ON labels.file = bad.file ` +
        `ORDER BY labels.label, line`,
    );
    const counts = await session.query(
      `SELECT (SELECT count(*) FROM ${names.rows} WHERE ${CHECK_COLUMN} IS NULL) AS good, (SELECT count(*) FROM ${names.bad}) AS bad`,
    );
    return {
      session,
      rowsTable: names.rows,
      badTable: names.bad,
      goodCount: Number(counts.rows[0]!.good),
      badCount: Number(counts.rows[0]!.bad),
      drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

async function count(session: EngineSession, table: string): Promise<number> {
  const result = await session.query(`SELECT count(*) AS n FROM ${table}`);
  return Number(result.rows[0]!.n);
}
