import { createHash, createHmac } from 'node:crypto';
import type { ProjectDef } from '../model/index.ts';
import { hashKeyLiteral } from './mask-compiler.ts';

/**
 * The project's hash key (HASH masks, precomputed hash columns) and how SQL reaches it without the
 * key ever appearing in SQL text: the key is set once per session as a variable, and mask SQL reads
 * the variable. Engine error messages and logs quote SQL text, so they never carry the key.
 */

/** The key dev mode hashes with when `governance.hash_key` is not set; `validate` warns about it. */
export const DEV_MODE_HASH_KEY = 'tessera-dev-mode-hash-key';

/** The session variable holding the key as a BLOB. User SQL cannot read it: `getvariable` is refused by the guard. */
export const HASH_KEY_VARIABLE = 'tessera_hash_key';

/** Mask SQL for the key (`MaskContext.hashKeySql`): the session variable, as a BLOB. */
export const HASH_KEY_VARIABLE_SQL = `CAST(getvariable('${HASH_KEY_VARIABLE}') AS BLOB)`;

/** The key a project hashes with: `governance.hash_key`, or the dev-mode key when it is not set. */
export function projectHashKey(project: ProjectDef): string {
  return project.governance.hashKey || DEV_MODE_HASH_KEY;
}

/**
 * The statement that puts `key` in the session variable `HASH_KEY_VARIABLE_SQL` reads. Run it on a
 * session before any SQL that masks with HASH. The statement holds the key: never log it.
 */
export function setHashKeyVariableSql(key: string): string {
  return `SET VARIABLE ${HASH_KEY_VARIABLE} = ${hashKeyLiteral(key)}`;
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
