import { createTransport, type Transporter } from 'nodemailer';
import type { ChannelDef, NotificationSettings } from '../../model/index.ts';
import { DeliveryError } from '../delivery-error.ts';
import { messageHtml, messageText, messageTitle, type NotificationMessage } from '../notification-message.ts';
import type { Channel, ChannelOptions } from './channel.ts';
import { hostOf, quoteAnswer } from './json-poster.ts';

/** What nodemailer adds to an error: the SMTP reply and its code, or its own failure code. */
interface SmtpFailure {
  code?: string;
  response?: string;
  responseCode?: number;
  message?: string;
}

/**
 * Sends email through `notifications.smtp` with nodemailer: subject = the title, a text and an HTML
 * part. One transporter for the channel's life (created at the first email), closed by `close()`.
 */
export class EmailChannel implements Channel<'email'> {
  readonly type = 'email';
  private transporter: Transporter | undefined;

  constructor(private readonly options: ChannelOptions & { smtp: NotificationSettings['smtp'] }) {}

  async send(
    message: NotificationMessage,
    definition: Extract<ChannelDef, { type: 'email' }>,
  ): Promise<void> {
    const smtp = this.options.smtp;
    if (!smtp) {
      throw new DeliveryError(
        'email cannot be sent: no SMTP server is configured; set `notifications.smtp: { url, from }` in tessera.yaml',
        { channel: 'email' },
      );
    }
    this.transporter ??= createTransport({
      url: smtp.url,
      connectionTimeout: this.options.timeoutMs,
      greetingTimeout: this.options.timeoutMs,
      socketTimeout: this.options.timeoutMs,
    });
    try {
      await this.transporter.sendMail({
        from: smtp.from,
        to: definition.to,
        subject: messageTitle(message),
        text: messageText(message),
        html: messageHtml(message),
      });
    } catch (error) {
      throw new DeliveryError(describeSmtpFailure(error as SmtpFailure, smtp.url, this.options.timeoutMs), {
        channel: 'email',
        host: hostOf(smtp.url),
      });
    }
  }

  async close(): Promise<void> {
    this.transporter?.close();
    this.transporter = undefined;
  }
}

/** "SMTP server HOST answered 550 …", "cannot reach SMTP server HOST: ECONNREFUSED"; never the login. */
function describeSmtpFailure(error: SmtpFailure, url: string, timeoutMs: number): string {
  const host = hostOf(url);
  const secrets = credentialsOf(url);
  if (error.response) return `SMTP server ${host} answered ${quoteAnswer(error.response, secrets)}`;
  if (error.code === 'ETIMEDOUT') return `SMTP server ${host} did not answer within ${timeoutMs / 1000} s`;
  const text = error.message ?? String(error);
  const systemCode = /\bE[A-Z]{3,}\b/.exec(text)?.[0];
  if (error.code === 'ESOCKET' || error.code === 'ECONNECTION' || error.code === 'EDNS') {
    return `cannot reach SMTP server ${host}: ${systemCode ?? error.code}`;
  }
  return `SMTP server ${host}: ${quoteAnswer(text, secrets)}`;
}

/** The user name and password in an `smtp://user:pass@host` URL, raw and decoded, to keep out of errors. */
function credentialsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [parsed.password, parsed.username].flatMap((part) =>
      part ? [part, decodeURIComponent(part)] : [],
    );
  } catch {
    return [];
  }
}
