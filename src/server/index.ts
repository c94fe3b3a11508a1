/**
 * The network faces of `tessera serve`: the HTTP API (and the web UI it serves) and the PostgreSQL
 * wire protocol. Each reads through the platform serving now (`ServerHandle.platform`), so a commit
 * Git sync applies is served without restarting them.
 */
import { readFile } from 'node:fs/promises';
import { FileAccessError, UsageError } from '../diagnostics/errors.ts';
import type { ServerHandle } from '../platform.ts';
import { startHttpApi } from './http/index.ts';
import { startPgServer } from './pgwire/index.ts';

export interface FaceSettings {
  /** Where both listen. */
  host: string;
  /** The HTTP API's port; 0 picks a free one. */
  port: number;
  /** The PostgreSQL port; absent: no PostgreSQL face. 0 picks a free one. */
  pgPort?: number;
  /** PEM files for PostgreSQL clients' TLS (required when `host` is beyond loopback). */
  pgTls?: { certFile: string; keyFile: string };
  log?: (message: string) => void;
}

export interface Faces {
  /** One line per face saying where it listens, for the operator. */
  addresses: string[];
  httpPort: number;
  pgPort?: number;
  /** Stop listening and end open connections. */
  close(): Promise<void>;
}

export async function startFaces(handle: ServerHandle, settings: FaceSettings): Promise<Faces> {
  const log = settings.log ?? (() => {});
  const tls = settings.pgTls ? await readTls(settings.pgTls) : undefined;
  const http = await listening('--port', settings.host, settings.port, () =>
    startHttpApi(handle, { host: settings.host, port: settings.port, log }),
  );
  let pg: { port: number; close(): Promise<void> } | undefined;
  try {
    if (settings.pgPort !== undefined) {
      const pgPort = settings.pgPort;
      pg = await listening('--pg-port', settings.host, pgPort, () =>
        startPgServer(handle, { host: settings.host, port: pgPort, ...(tls ? { tls } : {}), log }),
      );
    }
  } catch (error) {
    await http.close();
    throw error;
  }
  const shown = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const addresses = [
    `HTTP API: http://${shown}:${http.port}/api/v1 (OpenAPI: /api/openapi.json; Authorization: Bearer <token>)`,
  ];
  if (pg) {
    addresses.push(
      `PostgreSQL: postgresql://${shown}:${pg.port}/tessera (user = principal, password = token${tls ? ', TLS' : ''})`,
    );
  }
  return {
    addresses,
    httpPort: http.port,
    ...(pg ? { pgPort: pg.port } : {}),
    close: async () => {
      await Promise.all([http.close(), pg?.close()]);
    },
  };
}

/** Start a listener; a port taken or not allowed is the operator's to fix, said in words. */
async function listening<T>(flag: string, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new UsageError(
        `port ${port} on ${host} is already in use (another tessera serve?); stop what listens there or choose another with ${flag}`,
        { cause: error },
      );
    }
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UsageError(`cannot listen on ${host}:${port} (${code}); choose another --host or ${flag}`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function readTls(files: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (flag: string, file: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new FileAccessError(
        `cannot read ${flag} ${file}: ${(error as Error).message}; give a readable PEM file`,
        { cause: error },
      );
    }
  };
  return {
    cert: await read('--pg-tls-cert', files.certFile),
    key: await read('--pg-tls-key', files.keyFile),
  };
}
