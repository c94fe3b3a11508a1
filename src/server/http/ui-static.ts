/**
 * The web UI at `/`: the files `npm run build:ui` writes to ui/dist, served with @fastify/static.
 * Any other GET path outside `/api` answers ui/dist/index.html (the UI routes in the page), so a
 * reloaded or shared link works; `/api/...` paths no route matched keep the API's JSON 404. When
 * ui/dist is missing, `/` answers 503 saying how to build it. The UI reads data only through the
 * API with the signed-in principal's token: nothing here touches the platform.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
// `schema.hide` (keep the UI's catch-all out of the OpenAPI document) is @fastify/swagger's.
import type {} from '@fastify/swagger';

/** Where `npm run build:ui` writes: <repo>/ui/dist, from src/server/http or dist/server/http alike. */
export const DEFAULT_UI_ROOT = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

export interface UiStaticOptions {
  /** The built UI. Default: ui/dist of this checkout or package. */
  root?: string;
}

const NOT_BUILT = 'the web UI is not built; run npm run build:ui (then restart tessera serve)\n';

// The UI loads only its own scripts; React Flow and CodeMirror set inline styles.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const uiStatic: FastifyPluginAsync<UiStaticOptions> = async (app, options) => {
  const root = resolve(options.root ?? DEFAULT_UI_ROOT);
  // Only `reply.sendFile`: the catch-all route below picks the file, so a missing one can fall back
  // to index.html instead of the API's 404.
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true, index: false });

  const fileFor = async (urlPath: string): Promise<string | undefined> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    const path = resolve(root, '.' + decoded);
    const inside = relative(root, path);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
    const found = await stat(path).catch(() => undefined);
    return found?.isFile() ? inside.split('\\').join('/') : undefined;
  };

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/api' || path.startsWith('/api/')) return reply.callNotFound();
    const hasIndex = (await stat(join(root, 'index.html')).catch(() => undefined))?.isFile() ?? false;
    if (!hasIndex) return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    void reply.header('X-Content-Type-Options', 'nosniff');
    const file = await fileFor(path);
    if (file && file !== 'index.html') {
      // Vite names every asset by its content hash: a changed file gets a new name.
      const immutable = file.startsWith('assets/');
      return reply.sendFile(file, { maxAge: immutable ? '365d' : 0, immutable, cacheControl: true });
    }
    void reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    return reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
  };
  app.get('/', { schema: { hide: true } }, serve);
  app.get('/*', { schema: { hide: true } }, serve);
};
