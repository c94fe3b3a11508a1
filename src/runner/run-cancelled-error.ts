import { TesseraError, type ErrorCode } from '../diagnostics/errors.ts';

/**
 * A run was stopped on request (`tessera cancel`) before it published. Abort a run's
 * `RunOptions.signal` with one of these and the run ends `cancelled` instead of `failed`.
 */
export class RunCancelledError extends TesseraError {
  static override readonly defaultCode: ErrorCode = 'run_cancelled';
}
