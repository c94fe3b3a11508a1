// A query has a time limit (`tessera query --timeout`, `governance.query_timeout`, default 5m):
// when it passes, the engine statement is interrupted, the query is audited as failed, and the user
// is told how to raise the limit. The queries below would run for hours if not interrupted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { QueryTimeoutError } from '../../src/diagnostics/index.ts';
import { Platform } from '../../src/platform.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

/** Ten trillion rows to sum: far beyond any limit a test sets. */
const ENDLESS_SQL = 'select sum(a.range * b.range) as total from range(100000000) a, range(100000) b';
/** Without this, a broken interrupt hangs the suite instead of failing it. */
const HANG_GUARD = { timeout: 120_000 };

describe('the query time limit', () => {
  let repo: string;
  let limited: string;

  before(async () => {
    repo = await writeRepo({
      'tessera.yaml': 'name: timeout-test\n',
      'owners/o.yaml': 'kind: owner\nname: o\n',
    });
    limited = await writeRepo({
      'tessera.yaml': 'name: limited\ngovernance:\n  query_timeout: 200ms\n',
      'owners/o.yaml': 'kind: owner\nname: o\n',
    });
  });

  after(async () => {
    await rm(repo, { recursive: true, force: true });
    await rm(limited, { recursive: true, force: true });
  });

  test(
    '--timeout 200ms interrupts a long query: error[query_timeout], exit 1, audited as failed',
    HANG_GUARD,
    async () => {
      const result = await tesseraInProcess(['--repo', repo, 'query', '--timeout', '200ms', ENDLESS_SQL]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr.trim(),
        'error[query_timeout]: the query ran longer than 200ms and was stopped; raise --timeout or governance.query_timeout in tessera.yaml, or narrow the query',
      );

      const audit = await tesseraInProcess(['--repo', repo, '--json', 'audit', '--limit', '1']);
      const [entry] = JSON.parse(audit.stdout) as { sql: string; outcome: string; reason?: string }[];
      assert.equal(entry?.sql, ENDLESS_SQL);
      assert.equal(entry?.outcome, 'failed');
      assert.equal(entry?.reason, 'timed out after 200ms');
    },
  );

  test('with --json the timeout is {"error": {"code": "query_timeout"}} on stdout', HANG_GUARD, async () => {
    const result = await tesseraInProcess([
      '--repo',
      repo,
      '--json',
      'query',
      '--timeout',
      '200ms',
      ENDLESS_SQL,
    ]);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'query_timeout');
    assert.match(body.error.message, /ran longer than 200ms/);
  });

  test('governance.query_timeout is the default limit, and --timeout overrides it', HANG_GUARD, async () => {
    const result = await tesseraInProcess(['--repo', limited, 'query', ENDLESS_SQL]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error\[query_timeout\]: the query ran longer than 200ms/);

    const raised = await tesseraInProcess([
      '--repo',
      limited,
      '--json',
      'query',
      '--timeout',
      '10m',
      'select 42 as answer',
    ]);
    assert.equal(raised.code, 0, raised.stdout + raised.stderr);
    assert.deepEqual(JSON.parse(raised.stdout), [{ answer: 42 }]);
  });

  test(
    'Platform.query({timeoutMs}) stops the statement and the engine answers the next query',
    HANG_GUARD,
    async () => {
      const platform = await Platform.open({ repo });
      try {
        await assert.rejects(
          platform.query(ENDLESS_SQL, { timeoutMs: 200 }),
          (error: unknown) =>
            error instanceof QueryTimeoutError && error.code === 'query_timeout' && error.exitCode === 1,
        );
        const next = await platform.query('select 1 as one', { timeoutMs: 60_000 });
        assert.deepEqual(next.rows, [{ one: 1 }]);
        const [entry] = await platform.auditLog({ limit: 2 });
        assert.equal(entry?.outcome, 'allowed');
      } finally {
        await platform.close();
      }
    },
  );

  for (const value of ['0s', 'soon', '30']) {
    test(`--timeout ${value} is a usage error`, async () => {
      const result = await tesseraInProcess(['--repo', repo, 'query', '--timeout', value, 'select 1']);
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr.trim(),
        `error[usage]: --timeout must be a duration like 500ms, 30s, 15m, 26h, 2d, 1w or 1h30m, longer than zero; not ${value}`,
      );
    });
  }
});
