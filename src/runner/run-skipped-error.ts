import { TesseraError } from '../diagnostics/errors.ts';

/**
 * A run found nothing to do (an `append` or `merge` whose source was empty): it ends `skipped`
 * with this message as its reason, publishes nothing and triggers nothing downstream.
 */
export class RunSkippedError extends TesseraError {}
