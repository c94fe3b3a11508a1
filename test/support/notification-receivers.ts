/**
 * Real receivers for notification tests on 127.0.0.1 (HTTP servers standing in for Slack,
 * PagerDuty and webhook endpoints, each a real server speaking HTTP), and validators of the
 * payloads those services document.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A real HTTP server on 127.0.0.1 that records each request and answers with `answer`. */
export async function startReceiver(answer: (request: ReceivedRequest) => { status: number; body?: string }) {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on loopback that nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Block Kit, checked against the reference (https://api.slack.com/reference/block-kit/blocks)

export type Json = Record<string, unknown>;

function assertTextObject(value: unknown, where: string, maxLength = 3000, types = ['mrkdwn', 'plain_text']) {
  const text = value as Json;
  assert.ok(types.includes(text.type as string), `${where}: text type ${String(text.type)}`);
  assert.equal(typeof text.text, 'string', `${where}: text`);
  assert.ok(
    (text.text as string).length >= 1 && (text.text as string).length <= maxLength,
    `${where}: length`,
  );
}

export function assertValidBlocks(blocks: unknown): void {
  assert.ok(Array.isArray(blocks) && blocks.length > 0 && blocks.length <= 50, 'blocks: 1 to 50');
  blocks.forEach((raw, index) => {
    const block = raw as Json;
    const where = `blocks[${index}] (${String(block.type)})`;
    switch (block.type) {
      case 'header':
        assertTextObject(block.text, where, 150, ['plain_text']);
        break;
      case 'section': {
        assert.ok(block.text !== undefined || block.fields !== undefined, `${where}: text or fields`);
        if (block.text !== undefined) assertTextObject(block.text, where);
        if (block.fields !== undefined) {
          const fields = block.fields as unknown[];
          assert.ok(fields.length >= 1 && fields.length <= 10, `${where}: 1 to 10 fields`);
          fields.forEach((field, i) => assertTextObject(field, `${where}.fields[${i}]`, 2000));
        }
        break;
      }
      case 'actions': {
        const elements = block.elements as Json[];
        assert.ok(elements.length >= 1 && elements.length <= 25, `${where}: elements`);
        for (const element of elements) {
          assert.equal(element.type, 'button', where);
          assertTextObject(element.text, `${where} button`, 75, ['plain_text']);
          assert.match(element.url as string, /^https?:\/\//, `${where}: button url`);
        }
        break;
      }
      case 'context': {
        const elements = block.elements as unknown[];
        assert.ok(elements.length >= 1 && elements.length <= 10, `${where}: elements`);
        elements.forEach((element, i) => assertTextObject(element, `${where}.elements[${i}]`));
        break;
      }
      case 'divider':
        break;
      default:
        assert.fail(`${where}: unknown block type`);
    }
  });
}

/** Every mrkdwn text in the blocks, however deep. */
export function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Json;
  const own = object.type === 'mrkdwn' && typeof object.text === 'string' ? [object.text] : [];
  return [...own, ...Object.values(object).flatMap(mrkdwnTexts)];
}

/** PagerDuty Events API v2: the fields a trigger or resolve must carry (developer.pagerduty.com). */
export function assertValidPagerDutyEvent(event: Json): void {
  assert.equal(typeof event.routing_key, 'string', 'routing_key');
  assert.ok(['trigger', 'acknowledge', 'resolve'].includes(event.event_action as string), 'event_action');
  assert.equal(typeof event.dedup_key, 'string', 'dedup_key');
  assert.ok((event.dedup_key as string).length <= 255, 'dedup_key ≤ 255 characters');
  if (event.event_action !== 'trigger') return;
  const payload = event.payload as Json;
  assert.ok(
    typeof payload.summary === 'string' && payload.summary.length >= 1 && payload.summary.length <= 1024,
  );
  assert.ok(typeof payload.source === 'string' && payload.source.length >= 1, 'payload.source');
  assert.ok(
    ['critical', 'error', 'warning', 'info'].includes(payload.severity as string),
    'payload.severity',
  );
}
