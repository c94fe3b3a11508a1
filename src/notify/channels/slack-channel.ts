import type { ChannelDef } from '../../model/index.ts';
import { DeliveryError } from '../delivery-error.ts';
import { messageFacts, messageTitle, type NotificationMessage } from '../notification-message.ts';
import type { Channel, ChannelOptions } from './channel.ts';
import { hostOf, postJson, quoteAnswer } from './json-poster.ts';

/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks): header text, section text. */
const HEADER_LENGTH = 150;
const SECTION_TEXT_LENGTH = 3000;
const FIELD_TEXT_LENGTH = 2000;

/** Posts to a Slack incoming webhook: Block Kit `blocks` plus the plain `text` fallback for notifications. */
export class SlackChannel implements Channel<'slack'> {
  readonly type = 'slack';

  constructor(private readonly options: ChannelOptions) {}

  async send(
    message: NotificationMessage,
    definition: Extract<ChannelDef, { type: 'slack' }>,
  ): Promise<void> {
    const answer = await postJson({
      channel: 'slack',
      url: definition.webhook,
      body: JSON.stringify(slackPayload(message)),
      timeoutMs: this.options.timeoutMs,
    });
    // Slack answers 200 `ok`; errors are a status and a short code such as `no_service`.
    if (answer.status < 200 || answer.status > 299) {
      throw new DeliveryError(
        `slack webhook at ${hostOf(definition.webhook)} answered ${answer.status}: ${quoteAnswer(answer.body, [definition.webhook]) || '(no body)'}`,
        { channel: 'slack', host: hostOf(definition.webhook) },
      );
    }
  }
}

/** The webhook's JSON body: `text` (shown in notifications and by clients without blocks) and `blocks`. */
export function slackPayload(message: NotificationMessage): { text: string; blocks: object[] } {
  const title = messageTitle(message);
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, HEADER_LENGTH), emoji: false } },
    {
      type: 'section',
      fields: messageFacts(message).map((fact) => ({
        type: 'mrkdwn',
        text: truncate(`*${fact.label}*\n${escapeMrkdwn(fact.value)}`, FIELD_TEXT_LENGTH),
      })),
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*Cause*\n${escapeMrkdwn(message.cause)}`, SECTION_TEXT_LENGTH),
      },
    },
  ];
  if (message.link) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: `Open ${truncate(message.table ?? 'Tessera', 60)}` },
          url: message.link,
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(
          escapeMrkdwn(`${message.project} · incident ${message.incidentId} · ${message.at}`),
          SECTION_TEXT_LENGTH,
        ),
      },
    ],
  });
  const text = message.link ? `${title}\n${message.link}` : title;
  return { text: truncate(escapeMrkdwn(text), SECTION_TEXT_LENGTH), blocks };
}

/** Slack's mrkdwn treats `&`, `<` and `>` as control characters (links, mentions): escape them. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
