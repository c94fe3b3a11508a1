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
 * The push webhook on its own port, until the HTTP API exists and takes the route over. Answers
 * 401 to anything unsigned or wrongly signed, 202 to a signed push of the branch (the fetch runs
 * after the answer, so the sender never waits on validation), 200 to pings and other refs.
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
  const signature = request.headers['x-hub-signature-256'];
  if (!verifyGithubSignature(body, Array.isArray(signature) ? signature[0] : signature, options.secret)) {
    answer(response, 401, {
      error: {
        code: 'unauthorized',
        message: 'X-Hub-Signature-256 is missing or does not sign the body with git.webhook_secret',
      },
    });
    return;
  }
  if (request.headers['x-github-event'] === 'ping') {
    answer(response, 200, { ok: true });
    return;
  }
  const ref = pushedRef(body);
  if (ref !== undefined && ref !== `refs/heads/${options.branch}`) {
    answer(response, 200, { ignored: `push to ${ref}; watching refs/heads/${options.branch}` });
    return;
  }
  answer(response, 202, { accepted: true });
  options.onPush();
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
