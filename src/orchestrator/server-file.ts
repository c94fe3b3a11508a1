import { hostname } from 'node:os';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../diagnostics/errors.ts';
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
  let info: ServerInfo;
  try {
    info = JSON.parse(await readFile(serverFilePath(repo), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  if (info.host !== hostname() || !Number.isInteger(info.pid) || !processExists(info.pid)) return undefined;
  return info;
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
    try {
      const info = JSON.parse(await readFile(path, 'utf8')) as ServerInfo;
      // Another server may have replaced a file we left behind; only ever remove our own.
      if (info.owner === this.owner) await rm(path, { force: true });
    } catch {
      // Already gone.
    }
  }
}
