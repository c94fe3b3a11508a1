/**
 * The UI's static files through the plugin the HTTP API registers: files from ui/dist, every other
 * non-/api path answered with index.html (the UI routes in the page), /api paths left to the API's
 * 404, traversal refused, and a 503 saying how to build when ui/dist is missing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fastify, { type FastifyInstance } from 'fastify';
import { uiStatic } from '../../src/server/http/ui-static.ts';

async function serverOver(root: string): Promise<FastifyInstance> {
  const app = fastify();
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.url}` } }),
  );
  app.get('/api/v1/tables', async () => ({ tables: [] }));
  await app.register(uiStatic, { root });
  await app.ready();
  return app;
}

describe('the web UI served at /', () => {
  let folder: string;
  let app: FastifyInstance;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tessera-ui-static-'));
    await mkdir(join(folder, 'dist', 'assets'), { recursive: true });
    await writeFile(
      join(folder, 'dist', 'index.html'),
      '<!doctype html><title>Tessera</title><div id="root"></div>',
    );
    await writeFile(join(folder, 'dist', 'assets', 'index-abc123.js'), 'console.log("ui")');
    await writeFile(join(folder, 'secret.txt'), 'outside the UI');
    app = await serverOver(join(folder, 'dist'));
  });
  after(async () => {
    await app.close();
    await rm(folder, { recursive: true, force: true });
  });

  test('/ answers index.html, not cached, with a content security policy', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /text\/html/);
    assert.match(response.body, /<div id="root">/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.match(response.headers['content-security-policy'] as string, /script-src 'self'/);
  });

  test('a hashed asset is served with a year-long immutable cache', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, 'console.log("ui")');
    assert.match(response.headers['cache-control'] as string, /max-age=31536000.*immutable/);
  });

  test('any other page path answers index.html, so reloaded and shared links work', async () => {
    for (const url of ['/tables/clinical.patients', '/query?sql=select%201', '/assets/missing.js']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.match(response.body, /<div id="root">/, url);
    }
  });

  test('an unknown /api path keeps the API JSON 404, and API routes still answer', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'not_found');
    const tables = await app.inject({ method: 'GET', url: '/api/v1/tables' });
    assert.deepEqual(tables.json(), { tables: [] });
  });

  test('a path climbing out of ui/dist never reads the file it names', async () => {
    for (const url of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      assert.doesNotMatch(response.body, /outside the UI/, url);
    }
  });

  test('without ui/dist, / answers 503 saying how to build it', async () => {
    const bare = await serverOver(join(folder, 'no-such-dist'));
    try {
      const response = await bare.inject({ method: 'GET', url: '/' });
      assert.equal(response.statusCode, 503);
      assert.match(response.body, /the web UI is not built; run npm run build:ui/);
      const api = await bare.inject({ method: 'GET', url: '/api/v1/unknown' });
      assert.equal(api.statusCode, 404);
    } finally {
      await bare.close();
    }
  });
});
