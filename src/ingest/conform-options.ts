import { RunFailedError } from '../diagnostics/errors.ts';
import { SOURCE_ENCODINGS, type SourceEncoding, type TaskDef } from '../model/index.ts';

/** A file source's options, checked and with their defaults filled in. */
export interface ConformOptions {
  /** CSV field separator; default `,`. */
  delimiter: string;
  /** CSV quote and escape characters; default `"` for both. */
  quote: string;
  escape: string;
  /** Whether a CSV's first line names its columns; default true. */
  header: boolean;
  /** Raw values read as NULL; default `[""]` (an empty string is a missing value). */
  nullValues: string[];
  /** strptime formats for TIMESTAMPTZ fields; empty = ISO 8601. */
  timestampFormats: string[];
  /** strptime formats for DATE fields (also accepted by TIMESTAMPTZ fields); empty = ISO 8601. */
  dateFormats: string[];
  /** The files' text encoding (CSV, JSON, NDJSON); default `utf-8`. */
  encoding: SourceEncoding;
  /** Option names given but not understood: logged, not fatal. */
  ignored: string[];
}

const KNOWN_OPTIONS = new Set([
  'delimiter',
  'quote',
  'escape',
  'header',
  'null_values',
  'timestamp_formats',
  'date_formats',
  'encoding',
]);

/** Reads `task.source.options`; a wrongly typed option fails the run with a message naming it. */
export function readConformOptions(task: TaskDef): ConformOptions {
  const options = task.source?.options ?? {};
  const invalid = (name: string, expected: string): RunFailedError =>
    new RunFailedError(
      `task ${task.name}: source option \`${name}\` must be ${expected}, got ${JSON.stringify(options[name])}`,
      { task: task.name, table: task.target },
    );
  const text = (name: string, fallback: string): string => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'a non-empty string');
    return value;
  };
  const texts = (name: string, fallback: string[]): string[] => {
    const value = options[name] ?? fallback;
    // A single format is a common way to write it; accept it as a list of one.
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      throw invalid(name, 'a list of strings');
    }
    return list as string[];
  };
  const header = options.header ?? true;
  if (typeof header !== 'boolean') throw invalid('header', 'true or false');
  const encoding = options.encoding ?? 'utf-8';
  if (!SOURCE_ENCODINGS.includes(encoding as SourceEncoding)) {
    throw invalid('encoding', `one of ${SOURCE_ENCODINGS.join(', ')}`);
  }
  return {
    encoding: encoding as SourceEncoding,
    delimiter: text('delimiter', ','),
    quote: text('quote', '"'),
    escape: text('escape', '"'),
    header,
    nullValues: texts('null_values', ['']),
    timestampFormats: texts('timestamp_formats', []),
    dateFormats: texts('date_formats', []),
    ignored: Object.keys(options).filter((name) => !KNOWN_OPTIONS.has(name)),
  };
}
