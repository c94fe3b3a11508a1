import { formatDiagnostic, type Diagnostic } from './diagnostic.ts';

/**
 * The stable codes of the errors Tessera reports (`error[CODE]: …` on the CLI, `{"error": {"code"}}`
 * in JSON). A code names a kind of failure, never one message: messages may change, codes do not.
 */
export const ERROR_CODES = {
  /** A flag, argument or request that does not make sense (bad value, missing argument). */
  usage: 2,
  /** The catalog repo has errors (every diagnostic is listed). */
  definitions: 2,
  /** A table, task, run or token that does not exist. */
  not_found: 2,
  /** `apply` refused a change, e.g. a breaking schema change without a `schema_version` bump. */
  apply_refused: 1,
  /** A task run failed. */
  run_failed: 1,
  /** A run was stopped on request before it published. */
  run_cancelled: 1,
  /** Governance refused a query before it ran (SQL it may not run, an unknown table, a bad token). */
  query_refused: 1,
  /** The engine failed while running a query. */
  query_failed: 1,
  /** A query ran longer than its time limit and was interrupted. */
  query_timeout: 1,
  /** The client went away or cancelled while its query ran; the engine statement was interrupted. */
  query_cancelled: 1,
  /** A network face was asked without a valid token (missing, unknown, expired or revoked). */
  unauthorized: 1,
  /** A valid principal asked for something only another may have (e.g. the audit log, signed file URLs). */
  forbidden: 1,
  /** A validation could not be evaluated as written. */
  check_failed: 1,
  /** The catalog database or the storage cannot be opened or reached. */
  unavailable: 1,
  /** A file or folder Tessera must read or write cannot be (missing, not a folder, no permission). */
  io: 1,
  /** A state file under `.tessera/` is corrupt. */
  state: 1,
  /** The work failed for a reason no narrower code names. */
  failed: 1,
  /** A bug in Tessera: an error it does not expect. */
  internal: 1,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TesseraErrorOptions {
  cause?: unknown;
  /** Overrides the class's default code. */
  code?: ErrorCode;
}

/** Root of every error Tessera reports to a user. Broken invariants stay plain `Error`s: they are bugs. */
export class TesseraError extends Error {
  /** The code a subclass reports unless its constructor is given another. */
  static readonly defaultCode: ErrorCode = 'failed';
  /** A stable code for scripts and the HTTP/pgwire faces; see `ERROR_CODES`. */
  readonly code: ErrorCode;

  constructor(message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? (new.target as typeof TesseraError).defaultCode;
  }

  /** CLI exit code, from the code: 1 = the work failed, 2 = bad usage or invalid definitions. */
  get exitCode(): number {
    return ERROR_CODES[this.code];
  }
}

/** The catalog repo has errors; carries every diagnostic. */
export class DefinitionError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'definitions';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** The user asked for something that does not make sense (bad flag, bad value). */
export class UsageError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'usage';
}

/** A table, task, run or token that does not exist. */
export class NotFoundError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'not_found';
}

/** A file or folder that cannot be read or written; the message names it and the system's reason. */
export class FileAccessError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'io';
}

/** A task run failed: source unreadable, conform failure, validation gate, SQL error. */
export class RunFailedError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'run_failed';
  constructor(
    message: string,
    readonly context: { task: string; runId?: string; table?: string },
    options?: TesseraErrorOptions,
  ) {
    super(message, options);
  }
}

/** SQL the platform refuses to run (guard; code `query_refused`) or that the engine rejected (`query_failed`). */
export class QueryError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'query_refused';
  constructor(
    message: string,
    readonly sql?: string,
    options?: TesseraErrorOptions,
  ) {
    super(message, options);
  }
}

/** A query ran longer than its time limit; the engine statement was interrupted. */
export class QueryTimeoutError extends QueryError {
  static override readonly defaultCode: ErrorCode = 'query_timeout';
}

/** `apply` refused: e.g. a breaking schema change without a `schema_version` bump. */
export class ApplyRefusedError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'apply_refused';
  constructor(readonly reasons: string[]) {
    super(reasons.join('\n'));
  }
}

/**
 * The text form of an error for a user: one line `error[CODE]: message` (an engine message's
 * extra lines joined); errors that list problems keep one a line: apply refusals after the
 * heading, definitions as a heading line followed by each `path:line:col: error CODE: message`.
 */
export function formatError(error: TesseraError): string {
  if (error instanceof DefinitionError) {
    // The diagnostics already say `error CODE`: a heading line, then each in the form editors read.
    const errors = error.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    const heading = `error[${error.code}]: the catalog repo has ${errors === 1 ? '1 error' : `${errors} errors`}; fix ${errors === 1 ? 'it' : 'them'} and run the command again:`;
    return [heading, ...error.diagnostics.map(formatDiagnostic)].join('\n');
  }
  const message =
    error instanceof ApplyRefusedError ? error.message : error.message.replace(/\s*\n\s*/g, ' ').trim();
  return `error[${error.code}]: ${message}`;
}
