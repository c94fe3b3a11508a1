import { randomBytes } from 'node:crypto';

/** Run ids sort by creation time and are safe as folder names: `20261126T081500123Z-3f9a1c`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
