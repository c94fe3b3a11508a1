/**
 * Every error the HTTP API answers, mapped to a status in ONE place (`sendError`, installed as
 * fastify's error handler). Bodies are always `{"error": {"code", "message"}}`; an unexpected error
 * answers 500 `internal` with a fixed message: no stack, no path, no SQL.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { TesseraError, type ErrorCode } from '../../diagnostics/errors.ts';

/**
 * TesseraError codes → HTTP statuses. A refused query is 400, not 403: "table x not found" is how
 * governance refuses an ungranted table, and it must read the same as an unknown one.
 */
const STATUS_OF_CODE: Record<ErrorCode, number> = {
  usage: 400,
  definitions: 400,
  not_found: 404,
  apply_refused: 409,
  run_failed: 500,
  run_cancelled: 409,
  query_refused: 400,
  query_failed: 400,
  query_timeout: 504,
  // The client went away: nobody reads this answer, but the access log should say what happened.
  query_cancelled: 499,
  unauthorized: 401,
  forbidden: 403,
  check_failed: 400,
  unavailable: 503,
  io: 500,
  state: 500,
  failed: 500,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string };
}

/** The status and body for any thrown value. */
export function errorAnswer(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof TesseraError) {
    const code = error.code;
    const status = STATUS_OF_CODE[code] ?? 500;
    const message =
      status >= 500 && code !== 'query_timeout' && code !== 'unavailable'
        ? 'internal error; the server log has the details'
        : error.message;
    return { status, body: { error: { code: status === 500 ? 'internal' : code, message } } };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const problems = error.validation
      .map(
        (issue) =>
          `${error.validationContext ?? 'request'}${issue.instancePath.replaceAll('/', '.')}: ${issue.message}`,
      )
      .join('; ');
    return { status: 400, body: { error: { code: 'usage', message: `invalid request: ${problems}` } } };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    // fastify's own refusals: a body that is not JSON, too large, an unsupported media type.
    const message = fastifyError.message ?? 'bad request';
    return { status: fastifyError.statusCode, body: { error: { code: 'usage', message } } };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error; the server log has the details' } },
  };
}

/** fastify's error handler: log what is unexpected, answer the mapped status and body. */
export function sendError(
  log: (message: string) => void,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const { status, body } = errorAnswer(error);
    if (status >= 500) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${request.method} ${request.url.split('?')[0]}: ${status} ${detail}`);
    }
    void reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}
