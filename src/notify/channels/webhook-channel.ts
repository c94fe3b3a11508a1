import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelDef } from '../../model/index.ts';
import { DeliveryError } from '../delivery-error.ts';
import type { NotificationMessage } from '../notification-message.ts';
import type { Channel, ChannelOptions } from './channel.ts';
import { hostOf, postJson, quoteAnswer } from './json-poster.ts';

/** The header that carries `sha256=<hex HMAC-SHA256 of the body>` when the channel has a secret. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Tessera-Signature-256';

/** The JSON a webhook receives: the message plus what it is and which version of the format. */
export type WebhookBody = NotificationMessage & { type: 'tessera.notification'; version: 1 };

/** POSTs the message as JSON to any URL, signed with the channel's `secret` when it has one. */
export class WebhookChannel implements Channel<'webhook'> {
  readonly type = 'webhook';

  constructor(private readonly options: ChannelOptions) {}

  async send(
    message: NotificationMessage,
    definition: Extract<ChannelDef, { type: 'webhook' }>,
  ): Promise<void> {
    const body = JSON.stringify({
      type: 'tessera.notification',
      version: 1,
      ...message,
    } satisfies WebhookBody);
    const answer = await postJson({
      channel: 'webhook',
      url: definition.url,
      body,
      headers: definition.secret
        ? { [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(body, definition.secret) }
        : {},
      timeoutMs: this.options.timeoutMs,
      secrets: definition.secret ? [definition.secret] : [],
    });
    if (answer.status < 200 || answer.status > 299) {
      const quoted = quoteAnswer(answer.body, definition.secret ? [definition.secret] : []);
      throw new DeliveryError(
        `webhook at ${hostOf(definition.url)} answered ${answer.status}${quoted ? `: ${quoted}` : ''}`,
        { channel: 'webhook', host: hostOf(definition.url) },
      );
    }
  }
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes keyed with the secret>`. */
export function webhookSignature(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * For receivers: whether `header` (the `X-Tessera-Signature-256` value) signs `body`, the raw bytes
 * as received (before any JSON parsing). Compares in constant time.
 */
export function verifyWebhookSignature(
  body: string | Uint8Array,
  header: string | undefined,
  secret: string,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
