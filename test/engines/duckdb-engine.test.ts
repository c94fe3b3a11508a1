import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';

test('a sandboxed session reads only its directories and leaves platform sessions unrestricted', async () => {
  const allowed = await mkdtemp(join(tmpdir(), 'tessera-allowed-'));
  const other = await mkdtemp(join(tmpdir(), 'tessera-other-'));
  await writeFile(join(allowed, 'a.csv'), 'x\n1\n');
  await writeFile(join(other, 'b.csv'), 'x\n2\n');
  const engine = await DuckdbEngine.create();
  try {
    const sandboxed = await engine.openSession({ sandbox: { allowedDirectories: [allowed] } });
    assert.deepEqual((await sandboxed.query(`select x from read_csv('${join(allowed, 'a.csv')}')`)).rows, [
      { x: 1 },
    ]);
    await assert.rejects(
      sandboxed.query(`select x from read_csv('${join(other, 'b.csv')}')`),
      /Permission Error/,
    );
    await assert.rejects(sandboxed.run('SET enable_external_access = true'), /lock|configuration/i);
    sandboxed.close();

    const platform = await engine.openSession();
    assert.deepEqual((await platform.query(`select x from read_csv('${join(other, 'b.csv')}')`)).rows, [
      { x: 2 },
    ]);
    await platform.run('SET threads = 1');
    platform.close();
  } finally {
    await engine.close();
  }
});

test('values cross the boundary as JSON-compatible numbers, strings and ISO timestamps', async () => {
  const engine = await DuckdbEngine.create();
  const session = await engine.openSession();
  const { rows, columns } = await session.query(
    `select 42::bigint as small, 9007199254740993::bigint as big, 12.50::decimal(18,2) as money, 100::decimal(10,0) as whole,
            timestamptz '2026-03-01 08:30:00+00' as at, date '2026-03-01' as day, [1, 2] as list`,
  );
  assert.deepEqual(rows, [
    {
      small: 42,
      big: '9007199254740993',
      money: 12.5,
      whole: 100,
      at: '2026-03-01T08:30:00Z',
      day: '2026-03-01',
      list: [1, 2],
    },
  ]);
  assert.equal(columns.find((column) => column.name === 'at')?.type, 'TIMESTAMP WITH TIME ZONE');
  session.close();
  await engine.close();
});

test('a reusable session hands its connection to the next one, unless it was interrupted', async () => {
  const allowed = await mkdtemp(join(tmpdir(), 'tessera-allowed-'));
  const engine = await DuckdbEngine.create();
  const sandbox = { allowedDirectories: [allowed] };
  // A variable set on a connection shows which connection a later session got.
  const marked = async (options: Parameters<DuckdbEngine['openSession']>[0]) => {
    const session = await engine.openSession(options);
    const { rows } = await session.query(`SELECT getvariable('mark') AS mark`);
    return { session, mark: rows[0]!.mark };
  };
  try {
    const first = await engine.openSession({ sandbox, reuse: true });
    await first.run(`SET VARIABLE mark = 'first'`);
    first.close();
    first.close(); // a second close must not leave the connection idle twice

    const reused = await marked({ sandbox, reuse: true });
    assert.equal(reused.mark, 'first');
    const meanwhile = await marked({ sandbox, reuse: true });
    assert.equal(meanwhile.mark, null, 'a connection in use is never shared');
    for (const [options, why] of [
      [{ sandbox }, 'a session that asks for no reuse gets its own'],
      [{ reuse: true }, 'platform sessions do not get sandboxed connections'],
    ] as const) {
      const other = await marked(options);
      assert.equal(other.mark, null, why);
      other.session.close();
    }

    meanwhile.session.close();
    // Closed last, it would be the next one handed out if it were kept.
    reused.session.interrupt();
    reused.session.close();
    const next = await marked({ sandbox, reuse: true });
    assert.equal(next.mark, null, 'the interrupted connection was closed, not kept');
    next.session.close();
  } finally {
    await engine.close();
  }
});
