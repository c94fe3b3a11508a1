import { hostname } from 'node:os';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError, UsageError } from '../diagnostics/errors.ts';
import type { Orchestrator, OrchestratorService } from './orchestrator.ts';
import { processExists } from './run-owner.ts';

/** What `.tessera/server.json` says about the server running on a catalog repo. */
export interface ServerInfo {
  pid: number;
  host: string;
  /** The orchestrator's run-owner id. */
  owner: string;
  startedAt: string;
  /** The HTTP API's port once it listens (a later service); absent until then. */
  port?: number;
}

/** `<repo>/.tessera/server.json`. */
export function serverFilePath(repo: string): string {
  return join(repo, '.tessera', 'server.json');
}

/**
 * The server running on `repo`, if any: its `server.json` exists and names a live process on this
 * host. A file left by a server that died (kill -9) is ignored.
 */
export async function findRunningServer(repo: string): Promise<ServerInfo | undefined> {
  const info = await readServerFile(repo);
  if (!info || info.host !== hostname() || !processExists(info.pid)) return undefined;
  return info;
}

/**
 * The content of `server.json`; `undefined` when there is none. A file that cannot be read or is
 * not what a server writes is an error naming the file: guessing "no server" could run tasks beside
 * a live server, guessing "a server" would queue runs nobody takes.
 */
async function readServerFile(repo: string): Promise<ServerInfo | undefined> {
  const path = serverFilePath(repo);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TesseraError(`cannot read ${path}: ${(error as Error).message}`, {
      code: 'io',
      cause: error,
    });
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error) {
    throw corruptServerFile(path, (error as Error).message);
  }
  if (!isServerInfo(info)) throw corruptServerFile(path, 'it does not name a pid and host');
  return info;
}

function isServerInfo(value: unknown): value is ServerInfo {
  if (value === null || typeof value !== 'object') return false;
  const info = value as Partial<ServerInfo>;
  return Number.isInteger(info.pid) && typeof info.host === 'string';
}

function corruptServerFile(path: string, reason: string): TesseraError {
  return new TesseraError(
    `${path} is corrupt (${reason}); it announces a running \`tessera serve\`: stop that server if one runs, or delete the file if none does`,
    { code: 'state' },
  );
}

/**
 * Announces the server on its repo: writes `.tessera/server.json` when the orchestrator starts (so
 * `tessera run` enqueues instead of running in-process) and removes it when it stops. Refuses to
 * start when another live server already announced itself on the same repo.
 */
export class ServerFileService implements OrchestratorService {
  readonly name = 'server-file';
  private owner?: string;

  constructor(
    private readonly repo: string,
    private readonly details: { port?: number } = {},
  ) {}

  async start(orchestrator: Orchestrator): Promise<void> {
    const running = await findRunningServer(this.repo);
    if (running && running.pid !== process.pid) {
      throw new UsageError(
        `a server is already running on ${this.repo} (pid ${running.pid}, since ${running.startedAt}); stop it first`,
      );
    }
    const info: ServerInfo = {
      pid: process.pid,
      host: hostname(),
      owner: orchestrator.owner.id,
      startedAt: new Date().toISOString(),
      ...(this.details.port !== undefined ? { port: this.details.port } : {}),
    };
    const path = serverFilePath(this.repo);
    // The state folder and its files are the platform user's alone (0700 / 0600), whatever the umask.
    const stateFolder = join(this.repo, '.tessera');
    await mkdir(stateFolder, { recursive: true, mode: 0o700 });
    await chmod(stateFolder, 0o700);
    // Write then rename: a reader never sees half a file.
    const written = `${path}.${process.pid}.tmp`;
    await writeFile(written, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    await chmod(written, 0o600); // `mode` applies only when the file is new.
    await rename(written, path);
    this.owner = info.owner;
  }

  async stop(): Promise<void> {
    const path = serverFilePath(this.repo);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // Already gone.
      throw error;
    }
    // Another server may have replaced a file we left behind; only ever remove our own (ours is
    // written whole, so one that does not parse is not ours).
    if (parsesAsOwnedBy(text, this.owner)) await rm(path, { force: true });
  }
}

function parsesAsOwnedBy(text: string, owner: string | undefined): boolean {
  try {
    return (JSON.parse(text) as Partial<ServerInfo> | null)?.owner === owner;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
    throw error;
  }
}
