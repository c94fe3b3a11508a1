import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyGithubSignature } from './webhook-signature.ts';

/** Where GitHub (or any sender of its push format) posts. */
export const GIT_HOOK_PATH = '/api/v1/hooks/git';

/** A push body larger than this is refused (GitHub caps its payloads at 25 MB; pushes are far smaller). */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface WebhookServerOptions {
  host: string;
  /** `0`: any free port (see `port` on the result). */
  port: number;
  /** `git.webhook_secret`: what `X-Hub-Signature-256` must be signed with. */
  secret: string;
  /** The branch watched: pushes to other refs are acknowledged and ignored. */
  branch: string;
  /** A signed push to the branch arrived: fetch now. */
  onPush(): void;
  log?: (message: string) => void;
}

export interface WebhookServer {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The push webhook on a port of its own (`serve --webhook-port`), for a serve whose HTTP API is
 * not reachable from the Git host; the HTTP API answers the same route (`judgePush`).
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.log?.(`git webhook: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent)
        answer(response, 500, { error: { code: 'internal', message: 'internal error' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: WebhookServerOptions) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== GIT_HOOK_PATH) {
    answer(response, 404, {
      error: { code: 'not_found', message: `no route ${path}; POST ${GIT_HOOK_PATH}` },
    });
    return;
  }
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST');
    answer(response, 405, { error: { code: 'usage', message: `${GIT_HOOK_PATH} takes POST` } });
    return;
  }
  const body = await readBody(request);
  if (body === undefined) {
    answer(response, 413, {
      error: { code: 'usage', message: `a push body is at most ${MAX_BODY_BYTES} bytes` },
    });
    return;
  }
  const verdict = judgePush({ headers: request.headers, body }, options);
  answer(response, verdict.status, verdict.body);
  if (verdict.push) options.onPush();
}

/** A push delivery as any HTTP server received it. */
export interface PushDelivery {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The answer to a push delivery; `push` says the branch should be fetched now (after answering). */
export interface PushVerdict {
  status: number;
  body: unknown;
  push: boolean;
}

/**
 * Judge one delivery: 401 to anything unsigned or wrongly signed, 202 to a signed push of the
 * branch (fetched after the answer, so the sender never waits on validation), 200 to pings and
 * pushes to other refs. Shared by this server and the HTTP API's route.
 */
export function judgePush(delivery: PushDelivery, options: { secret: string; branch: string }): PushVerdict {
  const header = (name: string) => {
    const value = delivery.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  if (!verifyGithubSignature(delivery.body, header('x-hub-signature-256'), options.secret)) {
    return {
      status: 401,
      push: false,
      body: {
        error: {
          code: 'unauthorized',
          message: 'X-Hub-Signature-256 is missing or does not sign the body with git.webhook_secret',
        },
      },
    };
  }
  if (header('x-github-event') === 'ping') return { status: 200, body: { ok: true }, push: false };
  const ref = pushedRef(delivery.body);
  if (ref !== undefined && ref !== `refs/heads/${options.branch}`) {
    return {
      status: 200,
      body: { ignored: `push to ${ref}; watching refs/heads/${options.branch}` },
      push: false,
    };
  }
  return { status: 202, body: { accepted: true }, push: true };
}

/** The raw body, or `undefined` once it outgrows the limit. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A push payload's `ref`; `undefined` when the body is not such JSON (then the branch is fetched anyway). */
function pushedRef(body: Buffer): string | undefined {
  try {
    const ref = (JSON.parse(body.toString('utf8')) as { ref?: unknown }).ref;
    return typeof ref === 'string' ? ref : undefined;
  } catch {
    return undefined;
  }
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
