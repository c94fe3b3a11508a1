import type { ChannelDef } from '../../model/index.ts';
import { messageText, type NotificationMessage } from '../notification-message.ts';
import type { Channel } from './channel.ts';

/** Prints the message on the delivering process's output, between two rules: the demo's channel. */
export class ConsoleChannel implements Channel<'console'> {
  readonly type = 'console';

  constructor(private readonly write: (text: string) => void) {}

  async send(
    message: NotificationMessage,
    _definition: Extract<ChannelDef, { type: 'console' }>,
  ): Promise<void> {
    this.write(frameForTerminal(`notification for ${message.recipient}`, messageText(message)));
  }
}

/** The text between a top rule that carries `heading` and a bottom rule, each line indented. */
export function frameForTerminal(heading: string, text: string): string {
  const lines = text.split('\n');
  const width = Math.min(100, Math.max(40, heading.length + 6, ...lines.map((line) => line.length + 4)));
  const top = `┌─ ${heading} `.padEnd(width, '─');
  const bottom = '└'.padEnd(width, '─');
  return [top, ...lines.map((line) => `│ ${line}`.trimEnd()), bottom, ''].join('\n');
}
