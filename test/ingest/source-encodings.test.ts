// `options.encoding`: text in UTF-16, latin-1 or windows-1252 is read as what it says, and a file
// that is not what the source reads (UTF-16 or binary read as UTF-8) fails naming the file and the fix.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import { RunFailedError } from '../../src/diagnostics/errors.ts';
import { field, ingestFixture, ingestionTask, outputFileOf } from './ingest-fixture.ts';

const fixture = ingestFixture();

const fields = [field('id', 'INTEGER'), field('name', 'VARCHAR')];
const TEXT = 'id,name\n1,Zoë\n2,Renée\n3,François\n';
const NAMES = ['Zoë', 'Renée', 'François'];

async function namesWritten(repo: string): Promise<unknown[]> {
  return (await fixture.readParquet(outputFileOf(repo))).rows.map((row) => row.name);
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected the ingestion to fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RunFailedError, `expected RunFailedError, got ${String(error)}`);
  return error.message;
}

/** UTF-16 big-endian, which Node's Buffer does not write itself. */
function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

describe('source encodings', () => {
  const cases: [string, string, Buffer, string][] = [
    [
      'UTF-16 with a little-endian byte-order mark',
      'utf-16',
      Buffer.from(`\ufeff${TEXT}`, 'utf16le'),
      'UTF-16LE',
    ],
    ['UTF-16 with a big-endian byte-order mark', 'utf-16', utf16be(`\ufeff${TEXT}`), 'UTF-16BE'],
    ['UTF-16 big-endian without a byte-order mark', 'utf-16', utf16be(TEXT), 'UTF-16BE'],
    ['latin-1', 'latin-1', Buffer.from(TEXT, 'latin1'), 'latin-1'],
  ];
  for (const [name, encoding, bytes, readAs] of cases) {
    test(`${name} is converted while reading, and the copy is deleted`, async () => {
      const repo = await fixture.repo({ 'data/people.csv': bytes });
      const task = ingestionTask({ uri: 'data/people.csv', options: { encoding } });
      const result = await fixture.ingest(repo, task, fields);
      assert.equal(result.rowCount, 3);
      assert.deepEqual(await namesWritten(repo), NAMES);
      assert.ok(
        result.log.includes(`data/people.csv: read as ${readAs}, converted to UTF-8`),
        result.log.join('\n'),
      );
      assert.deepEqual(await readdir(dirname(outputFileOf(repo))), ['part-0.parquet']);
    });
  }

  test('windows-1252 reads € and curly quotes, which latin-1 does not have', async () => {
    const repo = await fixture.repo({
      // "€5 ‘ok’" in windows-1252: 0x80 is €, 0x91/0x92 are the single quotes.
      'data/people.csv': Buffer.concat([
        Buffer.from('id,name\n1,'),
        Buffer.from([0x80, 0x35, 0x20, 0x91, 0x6f, 0x6b, 0x92, 0x0a]),
      ]),
    });
    const task = ingestionTask({ uri: 'data/people.csv', options: { encoding: 'windows-1252' } });
    await fixture.ingest(repo, task, fields);
    assert.deepEqual(await namesWritten(repo), ['€5 ‘ok’']);
  });

  test('a bad row of a converted file is reported at its line in the original file', async () => {
    const repo = await fixture.repo({
      'data/people.csv': Buffer.from('\ufeffid,name\n1,Zoë\nx,Renée\n', 'utf16le'),
    });
    const task = ingestionTask(
      { uri: 'data/people.csv', options: { encoding: 'utf-16' } },
      { action: 'fail' },
    );
    assert.equal(
      await failure(fixture.ingest(repo, task, fields)),
      'task ingest_patients: 1 bad row of 2, and bad_rows.action is fail:\n' +
        '  data/people.csv:3: column id: value "x" is not a number',
    );
  });

  test('NDJSON in UTF-16 is converted too', async () => {
    const repo = await fixture.repo({
      'data/people.ndjson': Buffer.from(
        '\ufeff{"id": 1, "name": "Zoë"}\n{"id": 2, "name": "Renée"}\n',
        'utf16le',
      ),
    });
    const task = ingestionTask({
      type: 'ndjson',
      uri: 'data/people.ndjson',
      options: { encoding: 'utf-16' },
    });
    await fixture.ingest(repo, task, fields);
    assert.deepEqual(await namesWritten(repo), ['Zoë', 'Renée']);
  });

  test("the engine's errors over a converted file name the original", async () => {
    const repo = await fixture.repo({
      'data/people.json': Buffer.from('\ufeff[{"id": 1, "name": "Zoë"', 'utf16le'),
    });
    const task = ingestionTask({ type: 'json', uri: 'data/people.json', options: { encoding: 'utf-16' } });
    const message = await failure(fixture.ingest(repo, task, fields));
    assert.match(message, /^task ingest_patients: cannot read data\/people.json: /);
    assert.ok(!message.includes('__tessera_utf8') && !message.includes(repo), JSON.stringify(message));
  });

  test('a UTF-16 file read as UTF-8 fails, naming the file and the option to set', async () => {
    const repo = await fixture.repo({
      'data/bom.csv': Buffer.from(`\ufeff${TEXT}`, 'utf16le'),
      'data/nobom.csv': Buffer.from(TEXT, 'utf16le'),
    });
    assert.equal(
      await failure(fixture.ingest(repo, ingestionTask({ uri: 'data/bom.csv' }), fields)),
      'task ingest_patients: data/bom.csv is UTF-16 text (it starts with a UTF-16 byte-order mark), ' +
        "but the source is read as UTF-8; set `options: { encoding: utf-16 }` on the task's source",
    );
    assert.equal(
      await failure(fixture.ingest(repo, ingestionTask({ uri: 'data/nobom.csv' }), fields)),
      'task ingest_patients: data/nobom.csv looks like UTF-16 text without a byte-order mark (every other byte is NUL), ' +
        "but the source is read as UTF-8; set `options: { encoding: utf-16 }` on the task's source",
    );
  });

  test('a binary file, or a Parquet file given as CSV, fails saying what it is', async () => {
    const repo = await fixture.repo({
      'data/photo.csv': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
    });
    await fixture.run(`COPY (SELECT 1 AS id) TO '${repo}/data/table.csv' (FORMAT parquet)`);
    assert.equal(
      await failure(fixture.ingest(repo, ingestionTask({ uri: 'data/photo.csv' }), fields)),
      'task ingest_patients: data/photo.csv is not a text file: it holds a NUL byte at offset 8, as binary data does; ' +
        "check the source's uri, or set `options.encoding` (utf-8, utf-16, utf-16le, utf-16be, latin-1, windows-1252)",
    );
    assert.equal(
      await failure(fixture.ingest(repo, ingestionTask({ uri: 'data/table.csv' }), fields)),
      "task ingest_patients: data/table.csv is not a text file: it is a Parquet file; set `type: parquet` on the task's source",
    );
    const latin = ingestionTask({ uri: 'data/photo.csv', options: { encoding: 'latin-1' } });
    assert.match(
      await failure(fixture.ingest(repo, latin, fields)),
      /^task ingest_patients: data\/photo.csv is not latin-1 text: it holds a NUL byte at offset 8/,
    );
  });

  test('a UTF-8 file declared UTF-16 fails, saying to remove the option', async () => {
    const repo = await fixture.repo({ 'data/people.csv': TEXT });
    const task = ingestionTask({ uri: 'data/people.csv', options: { encoding: 'utf-16' } });
    assert.equal(
      await failure(fixture.ingest(repo, task, fields)),
      'task ingest_patients: data/people.csv does not look like UTF-16 text (no byte-order mark, and none of the ' +
        "NUL bytes UTF-16 gives ASCII characters); if it is UTF-8, remove `encoding` from the task's source options",
    );
  });

  test('an invalid UTF-16 file fails naming it; an unknown encoding fails listing the accepted ones', async () => {
    const repo = await fixture.repo({
      // A high surrogate followed by a letter: not UTF-16.
      'data/broken.csv': Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x0a, 0x00, 0x00, 0xd8, 0x61, 0x00]),
    });
    assert.match(
      await failure(
        fixture.ingest(
          repo,
          ingestionTask({ uri: 'data/broken.csv', options: { encoding: 'utf-16' } }),
          fields,
        ),
      ),
      /^task ingest_patients: data\/broken.csv is not valid UTF-16LE text \(.*\); check `options.encoding` of the task's source$/,
    );
    assert.equal(
      await failure(
        fixture.ingest(
          repo,
          ingestionTask({ uri: 'data/broken.csv', options: { encoding: 'ebcdic' } }),
          fields,
        ),
      ),
      'task ingest_patients: source option `encoding` must be one of utf-8, utf-16, utf-16le, utf-16be, latin-1, windows-1252, got "ebcdic"',
    );
    assert.deepEqual(await readdir(dirname(outputFileOf(repo))), [], 'no converted copy is left behind');
  });
});
