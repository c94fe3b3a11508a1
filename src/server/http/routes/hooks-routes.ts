/**
 * The Git push webhook (`serve --watch-git`): no token, GitHub's `X-Hub-Signature-256` over the raw
 * body is the credential, checked by Git sync. The body is kept as bytes for that check.
 */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../../diagnostics/errors.ts';
import type { ServerHandle } from '../../../platform.ts';

export function hooksRoutes(handle: ServerHandle): FastifyPluginAsync {
  return async (app) => {
    // Encapsulated: only this plugin reads bodies as raw bytes.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: 25 * 1024 * 1024 },
      (_request, body, done) => done(null, body),
    );
    app.post(
      '/hooks/git',
      {
        schema: {
          summary: 'GitHub push webhook for `serve --watch-git` (signed with git.webhook_secret)',
          tags: ['hooks'],
        },
      },
      async (request, reply) => {
        const sync = handle.sync;
        if (!sync?.receivePush) {
          throw new NotFoundError(
            'the Git push webhook is off: this server does not follow a branch; start it with `tessera serve --watch-git REMOTE[#BRANCH]`',
          );
        }
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const answer = await sync.receivePush({ headers: request.headers, body });
        return reply.code(answer.status).send(answer.body);
      },
    );
  };
}
