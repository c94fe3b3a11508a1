import { TesseraError } from '../diagnostics/index.ts';

/**
 * A validation that cannot be evaluated as written against this relation: an unknown column, a
 * bound whose type does not fit the column, a bad argument. It becomes a failed `CheckResult` with
 * `error` set; it never escapes `runChecks`.
 */
export class CheckCompileError extends TesseraError {}

/** The first paragraph of an engine error: DuckDB appends the SQL and a caret, noise in a result. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split(/\n\s*\n/)[0]!.trim();
}
