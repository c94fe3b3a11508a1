import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, UsageError } from '../diagnostics/errors.ts';
import type { AccessTokenRecord } from '../model/index.ts';

/** The latest expiry a token may have: the end of the year 9999, the last ISO-8601 four-digit year. */
const LATEST_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * API and pgwire tokens (SPEC §1 Access: "Tokens are never in the repo"). A token is printed once
 * when created; only its SHA-256 is stored, so the catalog never holds anything that authenticates.
 */

/** Where tokens are kept: the catalog store provides these methods. */
export interface AccessTokenStore {
  /** Record a new token (its id and hash are new). */
  createAccessToken(token: AccessTokenRecord): Promise<void>;
  /** The token with this hash, revoked or expired included; `undefined` when none. */
  findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined>;
  /** Every token, newest first. */
  listAccessTokens(): Promise<AccessTokenRecord[]>;
  /** Mark a token revoked at `revokedAt`; false when no token has this id. Revoking twice keeps the first time. */
  revokeAccessToken(id: string, revokedAt: string): Promise<boolean>;
}

/** What `list` shows about a token: everything but its hash. */
export type AccessTokenInfo = Omit<AccessTokenRecord, 'tokenHash'> & {
  /** `active`, `expired` or `revoked`, at the time of listing. */
  status: 'active' | 'expired' | 'revoked';
};

/** A token just created: `token` is shown once and never again. */
export interface CreatedAccessToken {
  token: string;
  info: AccessTokenInfo;
}

/** Every token starts with this, so secret scanners and people recognise one. */
export const TOKEN_PREFIX = 'tsr_';

export interface TokenServiceOptions {
  /** Whether a principal is declared in the repo; tokens are only made for, and only verify as, declared principals. */
  isDeclaredPrincipal(name: string): boolean;
  /** The clock; default `() => new Date()`. */
  now?: () => Date;
}

/** Creates, verifies, lists and revokes tokens. */
export class TokenService {
  private readonly now: () => Date;

  constructor(
    private readonly store: AccessTokenStore,
    private readonly options: TokenServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Make a token for a declared principal. `expiresInMs` undefined means it never expires. The
   * returned `token` is the only copy: the store keeps its hash.
   */
  async create(principal: string, expiresInMs?: number): Promise<CreatedAccessToken> {
    if (!this.options.isDeclaredPrincipal(principal)) {
      throw new UsageError(
        `principal ${principal} is not declared; add a \`kind: principal\` document for it under access/ and apply`,
      );
    }
    if (expiresInMs !== undefined && !(expiresInMs > 0)) {
      throw new UsageError('a token must expire after a positive duration, e.g. --expires-in 30d');
    }
    const now = this.now();
    if (expiresInMs !== undefined && !(now.getTime() + expiresInMs <= LATEST_EXPIRY_MS)) {
      throw new UsageError(
        `a token's lifetime must end by the year 9999; ${Math.round(expiresInMs / 86_400_000)} days is too long: give a shorter duration such as 3650d, or \`never\` for a token that does not expire`,
      );
    }
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const stored: AccessTokenRecord = {
      id: randomBytes(6).toString('hex'),
      principal,
      tokenHash: tokenHash(token),
      createdAt: now.toISOString(),
      ...(expiresInMs !== undefined
        ? { expiresAt: new Date(now.getTime() + expiresInMs).toISOString() }
        : {}),
    };
    await this.store.createAccessToken(stored);
    return { token, info: this.info(stored) };
  }

  /**
   * The principal a token acts as, or `undefined` when the token is unknown, expired, revoked, or
   * names a principal that is no longer declared. Servers call this for every request.
   */
  async verifyToken(token: string): Promise<string | undefined> {
    return (await this.verify(token))?.principal;
  }

  /** Like `verifyToken`, with the token's public details (its id, for the audit log). */
  async verify(token: string): Promise<AccessTokenInfo | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const stored = await this.store.findAccessToken(tokenHash(token));
    if (!stored) return undefined;
    const info = this.info(stored);
    if (info.status !== 'active' || !this.options.isDeclaredPrincipal(stored.principal)) return undefined;
    return info;
  }

  /** Revoke a token by id; a revoked token is refused from then on. Throws `NotFoundError` for an unknown id. */
  async revoke(id: string): Promise<void> {
    if (!(await this.store.revokeAccessToken(id, this.now().toISOString()))) {
      throw new NotFoundError(`no token with id ${id}; \`tessera token list\` shows the ids`);
    }
  }

  /** Every token without its hash, newest first, with its status now. */
  async list(): Promise<AccessTokenInfo[]> {
    return (await this.store.listAccessTokens()).map((stored) => this.info(stored));
  }

  private info(stored: AccessTokenRecord): AccessTokenInfo {
    const { tokenHash: _hash, ...rest } = stored;
    const status = stored.revokedAt
      ? 'revoked'
      : stored.expiresAt && Date.parse(stored.expiresAt) <= this.now().getTime()
        ? 'expired'
        : 'active';
    return { ...rest, status };
  }
}

/** SHA-256 of a token, lowercase hex: what the store keeps and looks tokens up by. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
