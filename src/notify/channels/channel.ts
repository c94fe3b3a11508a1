import type { ChannelDef } from '../../model/index.ts';
import type { NotificationMessage } from '../notification-message.ts';

/** One service that delivers messages (Slack, email, ...): one class per service. */
export interface Channel<Type extends ChannelDef['type'] = ChannelDef['type']> {
  readonly type: Type;
  /**
   * Resolve once the service accepted `message` for the owner's channel `definition`; throw a
   * `DeliveryError` (one line, no secret) otherwise. Never filters by `on:`: the caller decides.
   */
  send(message: NotificationMessage, definition: Extract<ChannelDef, { type: Type }>): Promise<void>;
  /** Release connections the channel keeps (the SMTP transporter); the default keeps none. */
  close?(): Promise<void>;
}

/** What every channel is given: how long one request may take. */
export interface ChannelOptions {
  /** Per HTTP request or SMTP send, in milliseconds. */
  timeoutMs: number;
}
