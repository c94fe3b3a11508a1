// What a `source_change` schedule watches: the files a source uri matches, and a fingerprint that
// changes when any of them changes, appears or disappears.
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile, mkdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fingerprintSource, matchSourceFiles } from '../../src/orchestrator/index.ts';
import { globToRegExp } from '../../src/ingest/index.ts';

describe('source fingerprints', () => {
  test('globs match like the ingestion’s: * within a folder, ** across folders, ? and classes', () => {
    assert.ok(globToRegExp('*.csv').test('a.csv'));
    assert.ok(!globToRegExp('*.csv').test('sub/a.csv'));
    assert.ok(globToRegExp('**/*.csv').test('a.csv'));
    assert.ok(globToRegExp('**/*.csv').test('x/y/a.csv'));
    assert.ok(globToRegExp('part-?.csv').test('part-1.csv'));
    assert.ok(!globToRegExp('part-?.csv').test('part-12.csv'));
    assert.ok(globToRegExp('day-[0-9].csv').test('day-3.csv'));
    assert.ok(!globToRegExp('day-[!0-9].csv').test('day-3.csv'));
    assert.ok(!globToRegExp('a.csv').test('abcsv'), 'dots are literal');
  });

  test('the fingerprint changes when a file is touched, added or removed, and not otherwise', async (t) => {
    const repo = await mkdtemp(join(tmpdir(), 'tessera-fingerprint-'));
    t.after(() => rm(repo, { recursive: true, force: true }));
    await mkdir(join(repo, 'data', 'nested'), { recursive: true });
    await writeFile(join(repo, 'data', 'a.csv'), 'x\n1\n');
    await writeFile(join(repo, 'data', 'nested', 'b.csv'), 'x\n2\n');
    await writeFile(join(repo, 'data', 'notes.txt'), 'ignored');

    assert.deepEqual(await matchSourceFiles(repo, 'data/*.csv'), [join(repo, 'data', 'a.csv')]);
    assert.deepEqual(await matchSourceFiles(repo, 'data/**/*.csv'), [
      join(repo, 'data', 'a.csv'),
      join(repo, 'data', 'nested', 'b.csv'),
    ]);
    assert.deepEqual(await matchSourceFiles(repo, 'data/a.csv'), [join(repo, 'data', 'a.csv')]);
    assert.deepEqual(await matchSourceFiles(repo, 'missing/*.csv'), []);

    const first = await fingerprintSource(repo, 'data/**/*.csv');
    assert.equal((await fingerprintSource(repo, 'data/**/*.csv')).fingerprint, first.fingerprint, 'stable');
    await writeFile(join(repo, 'data', 'notes.txt'), 'still ignored');
    assert.equal((await fingerprintSource(repo, 'data/**/*.csv')).fingerprint, first.fingerprint);

    const later = new Date(Date.now() + 5000);
    await utimes(join(repo, 'data', 'nested', 'b.csv'), later, later);
    const touched = await fingerprintSource(repo, 'data/**/*.csv');
    assert.notEqual(touched.fingerprint, first.fingerprint, 'a touch counts as a change');

    await writeFile(join(repo, 'data', 'c.csv'), 'x\n3\n');
    const added = await fingerprintSource(repo, 'data/**/*.csv');
    assert.notEqual(added.fingerprint, touched.fingerprint);
    await unlink(join(repo, 'data', 'c.csv'));
    assert.equal((await fingerprintSource(repo, 'data/**/*.csv')).fingerprint, touched.fingerprint);
  });
});
