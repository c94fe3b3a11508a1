import allowedFunctions from './reference/allowed-functions.json' with { type: 'json' };

/**
 * Which functions user SQL may call. An allowlist, because DuckDB grows new functions every
 * release and any of them might read a file, a setting or the catalog: a function nobody reviewed
 * is refused. The list is generated from `duckdb_functions()` (see reference/README.md) and then
 * filtered by `DENIED_FUNCTION_RULES`, which is also checked at run time, so a bad regeneration
 * cannot re-admit a denied function.
 */

/** Table functions user SQL may use in FROM: they only generate values from their arguments. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['range', 'generate_series', 'unnest']);

/** Why a function is refused even though it is a scalar or aggregate function. */
export const DENIED_FUNCTION_RULES: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /^read_/, reason: 'reads files' },
  { pattern: /^(glob|sniff_csv|query|query_table)$/, reason: 'reads files or runs SQL text' },
  { pattern: /^parquet_/, reason: 'reads Parquet metadata from files' },
  { pattern: /^(duckdb_|pragma_)/, reason: 'reads engine metadata or settings' },
  { pattern: /^(pg_|has_.*_privilege$)/, reason: 'reads the engine catalog' },
  {
    pattern: /^(col_description|obj_description|shobj_description|format_pg_type|format_type|map_to_pg_oid)$/,
    reason: 'reads the engine catalog',
  },
  {
    pattern: /^(getenv|current_setting|getvariable|version|get_block_size)$/,
    reason: 'reads the environment or settings',
  },
  {
    pattern:
      /^(current_query|current_query_id|current_database|current_catalog|current_schema|current_schemas|current_role|current_user|session_user|user|in_search_path)$/,
    reason: 'reveals the rewritten query or engine session details',
  },
  {
    pattern: /^(current_connection_id|current_transaction_id|txid_current)$/,
    reason: 'reveals engine session details',
  },
  {
    pattern: /^(inet_client_addr|inet_client_port|inet_server_addr|inet_server_port)$/,
    reason: 'reveals the network',
  },
  { pattern: /^(nextval|currval)$/, reason: 'reads and changes engine sequences' },
  {
    pattern: /^json_(serialize_sql|deserialize_sql|serialize_plan|execute_serialized_sql)$/,
    reason: 'plans or runs SQL text',
  },
  { pattern: /^stats$/, reason: 'reveals storage statistics of rows the row filter removed' },
  {
    pattern: /^(sleep_ms|setseed|write_log|parse_duckdb_log_message)$/,
    reason: 'changes engine state or stalls it',
  },
  { pattern: /^__internal/, reason: 'engine internals' },
  {
    pattern: /^(principal_attr|principal_name)$/,
    reason: 'only role row filters may read principal attributes',
  },
];

/**
 * Cryptographic digests, refused in any query that reads a column the principal sees as a keyed
 * hash (HASH mask, or a `deidentified` version's stored HASH values). HASH is HMAC-SHA256 under the
 * project key, and `sha256` is the one step DuckDB offers that SQL would need to recompute it: with
 * a guessed key (a weak or leaked `hash_key`) a query could hash a generated range of candidates and
 * join them against the column at engine speed. The other digests cannot rebuild HMAC-SHA256 but
 * serve nothing on a hashed value either, so the family goes together. `hash` (DuckDB's keyless
 * 64-bit hash) and the building blocks (`xor`, `unhex`, `encode`) stay: useless without `sha256`.
 * See the governance README (Decisions: "Hash recomputation") for what remains visible.
 */
export const KEYED_HASH_RECOMPUTE_FUNCTIONS: ReadonlySet<string> = new Set([
  'sha256',
  'sha1',
  'md5',
  'md5_number',
  'md5_number_lower',
  'md5_number_upper',
]);

const allowed: ReadonlySet<string> = new Set(allowedFunctions.functions);

/** The deny rule a function name falls under, if any. */
export function deniedFunctionReason(name: string): string | undefined {
  const lowered = name.toLowerCase();
  return DENIED_FUNCTION_RULES.find((rule) => rule.pattern.test(lowered))?.reason;
}

/** True when a name falls under a deny rule. */
export function isDeniedFunctionName(name: string): boolean {
  return deniedFunctionReason(name) !== undefined;
}

/** True when user SQL may call this scalar, aggregate or window function. */
export function isAllowedFunction(name: string): boolean {
  const lowered = name.toLowerCase();
  return allowed.has(lowered) && !isDeniedFunctionName(lowered);
}

/** Every allowed function name, sorted (for docs and tests). */
export function allowedFunctionNames(): string[] {
  return [...allowed].filter((name) => !isDeniedFunctionName(name)).sort();
}
