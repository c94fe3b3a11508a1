/**
 * Signed Parquet URLs (issue #14 part 4): a principal that may read a table whole asks for a
 * version's file list with expiring signed URLs (audited, one entry per URL), and anyone holding a
 * URL downloads the file until it expires — the signature is the credential, so Spark and other
 * readers need no token. Signing and checking are the platform's (`Platform.signedFiles`).
 */
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../../diagnostics/errors.ts';
import type { ServerHandle } from '../../../platform.ts';
import { requireCaller } from '../caller.ts';
import { authenticatedErrors, bearerSecurity, errorBodySchema } from '../schemas.ts';

export const signedFilesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/tables/:name/versions/:version/files',
    {
      schema: {
        summary: "A version's Parquet files with expiring signed URLs (principals that read the table whole)",
        tags: ['tables'],
        security: bearerSecurity,
        params: z.object({ name: z.string().min(1).max(256), version: z.coerce.number().int().min(1) }),
        querystring: z.object({
          ttl: z.coerce
            .number()
            .int()
            .min(1)
            .max(86_400)
            .default(900)
            .describe('seconds the URLs stay valid'),
        }),
        response: {
          200: z.object({
            table: z.string(),
            version: z.number().int(),
            rowCount: z.number(),
            files: z.array(
              z.object({
                key: z.string(),
                bytes: z.number().optional(),
                expires: z.number().int(),
                expiresAt: z.string(),
                signature: z.string(),
                url: z.string().describe('GET it without a token until it expires'),
              }),
            ),
          }),
          ...authenticatedErrors,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const caller = requireCaller(request);
      const signed = await caller.platform.signedFiles().issue({
        token: caller.token,
        table: request.params.name,
        version: request.params.version,
        ttlSeconds: request.query.ttl,
      });
      const origin = `${request.protocol}://${request.host}`;
      return {
        ...signed,
        files: signed.files.map((file) => ({
          ...file,
          url: `${origin}/api/v1/files/${file.key.split('/').map(encodeURIComponent).join('/')}?expires=${file.expires}&signature=${file.signature}`,
          expiresAt: new Date(file.expires * 1000).toISOString(),
        })),
      };
    },
  );
};

/** `GET /api/v1/files/<key>?expires=&signature=`: no token; a bad, altered or expired URL is 404. */
export function fileDownloadRoutes(handle: ServerHandle): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/files/*',
      {
        schema: {
          summary: 'Download a file through a signed URL',
          tags: ['tables'],
          querystring: z.object({ expires: z.coerce.number().int(), signature: z.string().max(128) }),
          response: { 404: errorBodySchema },
        },
      },
      async (request, reply) => {
        const key = (request.params as { '*': string })['*'];
        const { expires, signature } = request.query as { expires: number; signature: string };
        const { path } = await handle.platform.signedFiles().open({ key, expires, signature });
        const stream = createReadStream(path);
        await new Promise<void>((resolve, reject) => {
          stream.once('open', () => resolve());
          stream.once('error', (error: NodeJS.ErrnoException) =>
            // Retention deleted the file after the URL was issued: as gone as an unknown file.
            reject(error.code === 'ENOENT' ? new NotFoundError('file not found; ask for new URLs') : error),
          );
        });
        return reply
          .type('application/vnd.apache.parquet')
          .header('content-disposition', `attachment; filename="${key.split('/').pop()!.replace(/"/g, '')}"`)
          .send(stream);
      },
    );
  };
}
