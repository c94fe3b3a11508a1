/**
 * Who is asking, and what it may see. Every `/api/v1` route but the push webhook and the signed
 * file downloads needs `Authorization: Bearer tsr_…`; the principal's view of the catalog
 * (`Platform.visibleCatalog`) is computed once per request and filters every answer, so a table it
 * may not read is absent from lists and answers 404 exactly like an unknown one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, TesseraError } from '../../diagnostics/errors.ts';
import type { Platform, ServerHandle } from '../../platform.ts';
import type { VisibleTable } from '../../read-path/visible-catalog.ts';

/** An identified caller of one request. */
export interface Caller {
  /** The bearer token, passed to every platform read (never dev mode, never an administrator). */
  readonly token: string;
  /** The declared principal the token acts as. */
  readonly principal: string;
  /** The platform serving this request (Git sync may replace it between requests, never during one). */
  readonly platform: Platform;
  /** The tables the principal may read, with the columns it may see. */
  view(): Promise<VisibleTable[]>;
  /** One visible table; `NotFoundError`, worded like an unknown table's, when it is not visible. */
  table(name: string): Promise<VisibleTable>;
  /** Whether the principal may read this table. */
  sees(table: string): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on every authenticated route. */
    caller?: Caller;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The message of any table the caller may not see, whether it exists or not. */
export function tableNotFound(name: string): NotFoundError {
  return new NotFoundError(`table ${name} not found; GET /api/v1/tables lists the tables you may read`);
}

/** onRequest hook: identify the token's principal or answer 401. */
export function authenticate(handle: ServerHandle) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (!match) {
      throw new TesseraError(
        'this API needs a token: send `Authorization: Bearer TOKEN` (create one with `tessera token create --principal NAME`)',
        { code: 'unauthorized' },
      );
    }
    const token = match[1]!;
    const platform = handle.platform;
    const principal = await platform.verifyToken(token);
    if (!principal) {
      throw new TesseraError(
        'the token is unknown, expired or revoked; create a new one with `tessera token create --principal NAME`',
        { code: 'unauthorized' },
      );
    }
    request.caller = callerOf(platform, token, principal);
  };
}

function callerOf(platform: Platform, token: string, principal: string): Caller {
  let view: Promise<VisibleTable[]> | undefined;
  const caller: Caller = {
    token,
    principal,
    platform,
    view: () => (view ??= platform.visibleCatalog({ token })),
    async table(name) {
      const lowered = name.toLowerCase();
      const found = (await caller.view()).find((table) => table.name.toLowerCase() === lowered);
      if (!found) throw tableNotFound(name);
      return found;
    },
    async sees(name) {
      const lowered = name.toLowerCase();
      return (await caller.view()).some((table) => table.name.toLowerCase() === lowered);
    },
  };
  return caller;
}

/** The caller of an authenticated route (a bug if the hook did not run). */
export function requireCaller(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`route ${request.url} is served without authentication`);
  return request.caller;
}
