import { DeliveryError } from '../delivery-error.ts';

/** What a service answered to a POST that reached it. */
export interface PostAnswer {
  status: number;
  /** The answer's body as text, as much as was sent. */
  body: string;
}

/** One JSON POST: the URL, the exact body bytes, extra headers, and what to keep out of errors. */
export interface JsonPost {
  /** `slack`, `pagerduty`, `webhook`: names the channel in a `DeliveryError`. */
  channel: string;
  url: string;
  body: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Values that must never appear in an error (routing key, secret); the URL's path and query never do. */
  secrets?: readonly string[];
}

/** Longest part of a service's answer quoted in an error: enough to read, short enough for one line. */
const QUOTED_ANSWER_LENGTH = 300;

/**
 * POST `body` and return the answer. Redirects are not followed (a redirect could carry the body
 * elsewhere): the caller sees the 3xx and reports it. Throws `DeliveryError` naming only the host when
 * the service cannot be reached or does not answer within `timeoutMs`.
 */
export async function postJson(post: JsonPost): Promise<PostAnswer> {
  const host = hostOf(post.url);
  try {
    const response = await fetch(post.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Tessera', ...post.headers },
      body: post.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(post.timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    throw new DeliveryError(unreachableMessage(host, error, post.timeoutMs), { channel: post.channel, host });
  }
}

/** The host (and port) of a URL, the only part of it an error may show; `?` when it does not parse. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || '?';
  } catch {
    return '?';
  }
}

/** "cannot reach HOST: ECONNREFUSED", or "HOST did not answer within 10 s". */
export function unreachableMessage(host: string, error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `${host} did not answer within ${formatSeconds(timeoutMs)}`;
  }
  return `cannot reach ${host}: ${systemReason(error)}`;
}

/** The system error code behind a failed request (`ECONNREFUSED`, `ENOTFOUND`), never its URL. */
function systemReason(error: unknown): string {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  // undici puts the socket error in `cause`; without one, the plain message is generic ("fetch failed").
  return error instanceof Error ? error.message : String(error);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** A service's answer as one short line with every secret replaced by `***`. */
export function quoteAnswer(body: string, secrets: readonly string[] = []): string {
  let text = body.replace(/\s+/g, ' ').trim();
  for (const secret of secrets) if (secret) text = text.split(secret).join('***');
  return text.length > QUOTED_ANSWER_LENGTH ? `${text.slice(0, QUOTED_ANSWER_LENGTH)}…` : text;
}
