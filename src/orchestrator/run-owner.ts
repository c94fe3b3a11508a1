import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who executes a run: `host:pid:nonce`. The host and pid let a restarted server on the same machine
 * tell at once that the previous owner is gone; the nonce keeps a reused pid from passing for it.
 */
export interface RunOwner {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

/** The owner identity of this process, new on every call (one per orchestrator). */
export function newRunOwner(): RunOwner {
  const host = hostname();
  const pid = process.pid;
  return { id: `${host}:${pid}:${randomBytes(4).toString('hex')}`, host, pid };
}

/** The host and pid of an owner id, or `undefined` when it is not one. */
export function parseRunOwner(id: string): { host: string; pid: number } | undefined {
  // Parse from the right: a host name may itself contain colons (IPv6 literals).
  const parts = id.split(':');
  if (parts.length < 3) return undefined;
  const pid = Number(parts[parts.length - 2]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { host: parts.slice(0, -2).join(':'), pid };
}

/**
 * False only when the owner certainly died: it ran on this host and its pid is gone. Owners on
 * other hosts are judged by their heartbeats instead.
 */
export function ownerMayBeAlive(id: string): boolean {
  const owner = parseRunOwner(id);
  if (!owner || owner.host !== hostname()) return true;
  return processExists(owner.pid);
}

/** Whether a process with this pid exists on this machine. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
