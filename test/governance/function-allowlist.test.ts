import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import {
  ALLOWED_TABLE_FUNCTIONS,
  KEYED_HASH_RECOMPUTE_FUNCTIONS,
  allowedFunctionNames,
  deniedFunctionReason,
  isAllowedFunction,
} from '../../src/governance/index.ts';
import allowedFunctions from '../../src/governance/reference/allowed-functions.json' with { type: 'json' };

describe('function allowlist', () => {
  test('refuses every function that reads files, settings, the environment, the catalog or the query text', () => {
    for (const name of [
      'read_text',
      'read_blob',
      'read_parquet',
      'read_csv_auto',
      'glob',
      'sniff_csv',
      'parquet_metadata',
      'parquet_schema',
      'parquet_file_metadata',
      'parquet_kv_metadata',
      'query',
      'query_table',
      'getenv',
      'current_setting',
      'getvariable',
      'current_query',
      'duckdb_settings',
      'duckdb_functions',
      'pragma_table_info',
      'pg_get_viewdef',
      'has_table_privilege',
      'json_execute_serialized_sql',
      'json_serialize_plan',
      'stats',
      'nextval',
      'write_log',
      'sleep_ms',
      'principal_attr',
      'version',
    ]) {
      assert.equal(isAllowedFunction(name), false, name);
      assert.equal(isAllowedFunction(name.toUpperCase()), false, name);
    }
  });

  test('allows ordinary scalar, aggregate, window functions and operators', () => {
    for (const name of [
      'upper',
      'sum',
      'count_star',
      'row_number',
      'lag',
      'string_agg',
      'make_timestamp',
      'sha256',
      'unnest',
      '+',
      '||',
      '~~',
      'list_value',
      'date_part',
      'regexp_matches',
    ]) {
      assert.equal(isAllowedFunction(name), true, name);
    }
    assert.deepEqual([...ALLOWED_TABLE_FUNCTIONS].sort(), ['generate_series', 'range', 'unnest']);
  });

  test('every allowed cryptographic digest is refused beside keyed hashes', () => {
    const digests = allowedFunctionNames().filter((name) => /sha|md5|blake|hmac|ripemd|crc/.test(name));
    assert.deepEqual(
      digests.filter((name) => !KEYED_HASH_RECOMPUTE_FUNCTIONS.has(name)),
      [],
    );
    for (const name of KEYED_HASH_RECOMPUTE_FUNCTIONS) assert.equal(isAllowedFunction(name), true, name);
  });

  test('no committed name falls under a deny rule', () => {
    const denied = allowedFunctions.functions.filter((name) => deniedFunctionReason(name) !== undefined);
    assert.deepEqual(denied, []);
    assert.equal(allowedFunctionNames().length, allowedFunctions.functions.length);
  });

  test('every committed name is a scalar, aggregate or macro function of the DuckDB in use', async () => {
    const engine = await DuckdbEngine.create({ threads: 1 });
    try {
      const session = await engine.openSession();
      const result = await session.query(
        "SELECT DISTINCT lower(function_name) AS name FROM duckdb_functions() WHERE schema_name = 'main' AND function_type IN ('scalar', 'aggregate', 'macro')",
      );
      session.close();
      const known = new Set(result.rows.map((row) => String(row.name)));
      const extra = new Set(allowedFunctions.extra);
      const unknown = allowedFunctions.functions.filter((name) => !known.has(name) && !extra.has(name));
      assert.deepEqual(unknown, [], 'regenerate reference/allowed-functions.json (see reference/README.md)');
    } finally {
      await engine.close();
    }
  });
});
