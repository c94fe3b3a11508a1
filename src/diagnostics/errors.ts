import { formatDiagnostic, type Diagnostic } from './diagnostic.ts';

/** Root of every error Tessera reports to a user. Broken invariants stay plain `Error`s: they are bugs. */
export class TesseraError extends Error {
  /** CLI exit code: 1 = the work failed, 2 = bad usage or invalid definitions. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The catalog repo has errors; carries every diagnostic. */
export class DefinitionError extends TesseraError {
  override readonly exitCode = 2;
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** The user asked for something that does not make sense (unknown table, bad flag). */
export class UsageError extends TesseraError {
  override readonly exitCode = 2;
}

export class NotFoundError extends TesseraError {
  override readonly exitCode = 2;
}

/** A task run failed: source unreadable, conform failure, validation gate, SQL error. */
export class RunFailedError extends TesseraError {
  constructor(
    message: string,
    readonly context: { task: string; runId?: string; table?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SQL the platform refuses to run (guard) or that the engine rejected. */
export class QueryError extends TesseraError {
  constructor(
    message: string,
    readonly sql?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `apply` refused: e.g. a breaking schema change without a `schema_version` bump. */
export class ApplyRefusedError extends TesseraError {
  constructor(readonly reasons: string[]) {
    super(reasons.join('\n'));
  }
}
