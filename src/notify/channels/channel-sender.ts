import type { ChannelDef, NotificationSettings } from '../../model/index.ts';
import type { NotificationMessage } from '../notification-message.ts';
import type { Channel } from './channel.ts';
import { ConsoleChannel } from './console-channel.ts';
import { EmailChannel } from './email-channel.ts';
import { PagerDutyChannel } from './pagerduty-channel.ts';
import { SlackChannel } from './slack-channel.ts';
import { WebhookChannel } from './webhook-channel.ts';

/** Sends one message through one owner's channel, whatever its type. */
export interface ChannelSender {
  /**
   * Resolve once the channel's service accepted the message; throw a `DeliveryError` (one line,
   * naming the host, never a secret) otherwise. Does not filter by the channel's `on:`.
   */
  send(message: NotificationMessage, channel: ChannelDef): Promise<void>;
}

export interface ChannelSenderOptions {
  /** Where the console channel writes; default: the process's standard output. */
  writeConsole?: (text: string) => void;
  /** How long one HTTP request or SMTP send may take, in milliseconds; default 10 s. */
  timeoutMs?: number;
}

export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;

/** A sender for every channel type, with the project's `notifications:` settings. `close()` when done. */
export function createChannelSender(
  settings: NotificationSettings,
  options: ChannelSenderOptions = {},
): ChannelSender & { close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
  const channels: { [Type in ChannelDef['type']]: Channel<Type> } = {
    slack: new SlackChannel({ timeoutMs }),
    email: new EmailChannel({ timeoutMs, smtp: settings.smtp }),
    pagerduty: new PagerDutyChannel({
      timeoutMs,
      eventsUrl: settings.pagerdutyEventsUrl,
      ...(settings.uiUrl ? { uiUrl: settings.uiUrl } : {}),
    }),
    webhook: new WebhookChannel({ timeoutMs }),
    console: new ConsoleChannel(options.writeConsole ?? ((text) => process.stdout.write(text))),
  };
  return {
    send(message, channel) {
      return (channels[channel.type] as Channel).send(message, channel as never);
    },
    async close() {
      await Promise.all(Object.values(channels).map((channel) => channel.close?.()));
    },
  };
}
