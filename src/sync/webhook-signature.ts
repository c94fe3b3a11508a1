import { createHmac, timingSafeEqual } from 'node:crypto';

/** GitHub's push signature: `sha256=` and the hex HMAC-SHA256 of the raw body under the shared secret. */
export function githubSignature(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` (`X-Hub-Signature-256`) signs `body` with `secret`. Compared in constant time,
 * so an attacker learns nothing from how long a wrong guess takes.
 */
export function verifyGithubSignature(body: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(githubSignature(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
