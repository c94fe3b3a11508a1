/** The HTTP API face of `tessera serve` (see README.md and docs/http-api.md). */
import type { ServerHandle } from '../../platform.ts';
import { buildHttpApi } from './http-api.ts';

export { buildHttpApi, type HttpApiOptions } from './http-api.ts';

export interface StartHttpApiOptions {
  /** Interface to listen on; serve's `--host` (default 127.0.0.1). */
  host: string;
  /** Port; serve's `--port` (default 4000; 0 picks a free one). */
  port: number;
  /** Server log lines. */
  log?: (message: string) => void;
}

/** Listen; `port` is the one bound (useful with 0), `close()` stops accepting and waits for answers in flight. */
export async function startHttpApi(
  handle: ServerHandle,
  options: StartHttpApiOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const app = await buildHttpApi(handle, options.log ? { log: options.log } : {});
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.log?.(`HTTP API listening on http://${options.host}:${port}/api/v1 (OpenAPI: /api/openapi.json)`);
  return { port, close: () => app.close() };
}
