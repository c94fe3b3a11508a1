import type { Kysely } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogAccessTokens, AccessTokenRecord } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { toAccessToken, optionalTimestamp } from './catalog-rows.ts';

/** Access tokens, by the SHA-256 of the token (never the token). */
export class KyselyAccessTokenStore implements CatalogAccessTokens {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async createAccessToken(token: AccessTokenRecord): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({
        id: token.id,
        principal: token.principal,
        token_hash: token.tokenHash,
        created_at: toIsoTimestamp(token.createdAt),
        expires_at: optionalTimestamp(token.expiresAt),
        revoked_at: optionalTimestamp(token.revokedAt),
      })
      .execute();
  }

  async findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('access_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row && toAccessToken(row);
  }

  async listAccessTokens(): Promise<AccessTokenRecord[]> {
    const rows = await this.db
      .selectFrom('access_tokens')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAccessToken);
  }

  async revokeAccessToken(id: string, revokedAt: string): Promise<boolean> {
    const exists = await this.db
      .selectFrom('access_tokens')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) return false;
    await this.db
      .updateTable('access_tokens')
      .set({ revoked_at: toIsoTimestamp(revokedAt) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    return true;
  }
}
