import { createHash, createHmac } from 'node:crypto';
import type { Dialect } from '../engines/dialect.ts';
import type { ProjectDef } from '../model/index.ts';
import { hashKeyLiteral } from './mask-compiler.ts';

/**
 * The project's hash key (HASH masks, precomputed hash columns) and how SQL reaches it without the
 * key ever appearing in SQL text: the key is set once per session as a variable, and mask SQL reads
 * the variable. Engine error messages and logs quote SQL text, so they never carry the key.
 */

/** The name of the hash key a catalog generates for itself (`CatalogStore.catalogKey`). */
export const CATALOG_HASH_KEY_NAME = 'hash';

/** The session variable holding the key as a BLOB. User SQL cannot read it: `getvariable` is refused by the guard. */
export const HASH_KEY_VARIABLE = 'tessera_hash_key';

/** Mask SQL for the key (`MaskContext.hashKeySql`): the session variable, as a BLOB. */
export const HASH_KEY_VARIABLE_SQL = `CAST(getvariable('${HASH_KEY_VARIABLE}') AS BLOB)`;

/**
 * The key a project hashes with: `governance.hash_key` when set; otherwise the random 256-bit key
 * its catalog generated on first use (`catalogKey(CATALOG_HASH_KEY_NAME)`), so no two catalogs
 * share a key and every process of one catalog hashes alike. Outside dev mode the definitions
 * already require `hash_key` wherever HASH is declared; the generated key then only serves
 * platform-internal masking (quarantined bad rows, check results). Never log the result.
 */
export async function projectHashKey(
  project: ProjectDef,
  catalogKey: (name: string) => Promise<string>,
): Promise<string> {
  return project.governance.hashKey || (await catalogKey(CATALOG_HASH_KEY_NAME));
}

/**
 * The statement that puts `key` in the session variable `HASH_KEY_VARIABLE_SQL` reads. Run it on a
 * session before any SQL that masks with HASH. The statement holds the key: never log it.
 */
export function setHashKeyVariableSql(key: string): string {
  return `SET VARIABLE ${HASH_KEY_VARIABLE} = ${hashKeyLiteral(key)}`;
}

/** Mask SQL for the key in a session of `dialect`'s engine (`HASH_KEY_VARIABLE_SQL` on DuckDB). */
export function hashKeySqlFor(dialect: Dialect): string {
  return dialect.sessionSecret(HASH_KEY_VARIABLE);
}

/** The statement that gives a session of `dialect`'s engine the key `hashKeySqlFor` reads. Never log it. */
export function setHashKeySqlFor(dialect: Dialect, key: string): string {
  return dialect.setSessionSecret(HASH_KEY_VARIABLE, Buffer.from(key, 'utf8'));
}

/**
 * A short, non-reversible name for a key: the first 8 hex digits of SHA-256(HMAC-SHA256(key,
 * 'tessera')). Stored beside precomputed hashes so a reader can tell whether they were made with
 * the key it holds (after a key rotation they were not, and must be recomputed).
 */
export function hashKeyFingerprint(key: string): string {
  const keyed = createHmac('sha256', key).update('tessera').digest();
  return createHash('sha256').update(keyed).digest('hex').slice(0, 8);
}
