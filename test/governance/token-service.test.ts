import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { NotFoundError, UsageError } from '../../src/diagnostics/errors.ts';
import { TokenService, tokenHash } from '../../src/governance/index.ts';

const DAY = 86_400_000;

describe('TokenService', () => {
  let store: CatalogStore;
  let now: Date;
  let declared: Set<string>;
  let tokens: TokenService;

  beforeEach(async () => {
    store = await openCatalogStore('sqlite::memory:');
    now = new Date('2026-11-01T00:00:00.000Z');
    declared = new Set(['bob@example.org', 'carol@example.org']);
    tokens = new TokenService(store, { isDeclaredPrincipal: (name) => declared.has(name), now: () => now });
  });
  afterEach(async () => {
    await store.close();
  });

  test('a created token verifies as its principal; the store keeps only its hash', async () => {
    const { token, info } = await tokens.create('bob@example.org', 30 * DAY);
    assert.match(token, /^tsr_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(info, {
      id: info.id,
      principal: 'bob@example.org',
      createdAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-12-01T00:00:00.000Z',
      status: 'active',
    });
    assert.equal(await tokens.verifyToken(token), 'bob@example.org');
    const [stored] = await store.listAccessTokens();
    assert.equal(stored!.tokenHash, tokenHash(token));
    assert.ok(!JSON.stringify(stored).includes(token.slice(4)), 'the token itself is not stored');
  });

  test('unknown, altered and unprefixed tokens do not verify', async () => {
    const { token } = await tokens.create('bob@example.org');
    assert.equal(await tokens.verifyToken(`${token}x`), undefined);
    assert.equal(await tokens.verifyToken(token.slice(4)), undefined);
    assert.equal(await tokens.verifyToken('tsr_nothing'), undefined);
    assert.equal(await tokens.verifyToken(''), undefined);
  });

  test('a token stops verifying when it expires, is revoked, or its principal is no longer declared', async () => {
    const expiring = await tokens.create('bob@example.org', DAY);
    now = new Date(now.getTime() + DAY - 1);
    assert.equal(await tokens.verifyToken(expiring.token), 'bob@example.org');
    now = new Date(now.getTime() + 1);
    assert.equal(await tokens.verifyToken(expiring.token), undefined, 'expired at its expiry instant');

    const revoked = await tokens.create('carol@example.org');
    await tokens.revoke(revoked.info.id);
    assert.equal(await tokens.verifyToken(revoked.token), undefined);

    const orphan = await tokens.create('carol@example.org');
    declared.delete('carol@example.org');
    assert.equal(await tokens.verifyToken(orphan.token), undefined);

    const statuses = Object.fromEntries((await tokens.list()).map((info) => [info.id, info.status]));
    assert.deepEqual(statuses, {
      [expiring.info.id]: 'expired',
      [revoked.info.id]: 'revoked',
      [orphan.info.id]: 'active',
    });
    assert.ok(
      (await tokens.list()).every((info) => !('tokenHash' in info)),
      'list shows no hashes',
    );
  });

  test('tokens are only made for declared principals, with a positive lifetime; unknown ids are not revoked', async () => {
    await assert.rejects(tokens.create('mallory@example.org'), UsageError);
    await assert.rejects(tokens.create('bob@example.org', 0), UsageError);
    await assert.rejects(tokens.revoke('no-such-id'), NotFoundError);
    const { info } = await tokens.create('bob@example.org');
    assert.equal(info.expiresAt, undefined, 'no lifetime: never expires');
  });
});
