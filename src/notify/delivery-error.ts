import { TesseraError, type TesseraErrorOptions } from '../diagnostics/index.ts';

/**
 * A channel's service did not accept a message: it answered an error, could not be reached or did
 * not answer in time. The message is one line naming the service's host and its answer; it never
 * holds a secret (webhook URL path, routing key, signing secret, SMTP password).
 */
export class DeliveryError extends TesseraError {
  constructor(
    message: string,
    /** The channel type (`slack`, `email`, ...) and the host it tried, for the delivery record. */
    readonly context: { channel: string; host?: string },
    options?: TesseraErrorOptions,
  ) {
    super(message, options);
  }
}
