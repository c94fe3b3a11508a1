// What governance writes with the data and how the query path reads it, through the Platform API on
// a small repo: precomputed keyed hashes (and their fall-back after a key rotation), `store:
// deidentified` with every ingestion mode and for an inferred projection, and the audit log.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';

const KEY_A = 'storage-test-key-a';
const KEY_B = 'storage-test-key-b';
const hmac = (value: string, key: string) => createHmac('sha256', key).update(value).digest('hex');
/** HASH read from the stored digest halves, not computed per row. */
const REBUILT_FROM_HALVES =
  /hex\(\(CAST\(ssn__hash_hi AS BLOB\) \|\| CAST\(ssn__hash_lo AS BLOB\)\)\)\) AS ssn/;

const PEOPLE_CSV = `person_id,ssn,name,birth_date,state
p1,111-11-1111,Alicia,1980-05-17,CA
p2,222-22-2222,Bertrand,1975-11-02,CA
p3,333-33-3333,Chen,1990-01-30,NY
`;
const MORE_PEOPLE_CSV = `person_id,ssn,name,birth_date,state
p3,333-33-3333,Chen,1990-01-30,TX
p4,444-44-4444,Dana,2001-07-04,CA
`;

const ingestion = (name: string, target: string, mode: string, uri = 'data/people.csv') => `kind: task
name: ${name}
type: ingestion
target: ${target}
source: { type: csv, uri: ${uri} }
mode: ${mode}
`;

/** Five fields: the column-count validations prove internal reads see no hash columns. */
const repoFiles: Record<string, string> = {
  'tessera.yaml': 'name: storage-test\ngovernance:\n  hash_key: ${TESSERA_HASH_KEY}\n',
  'owners/team.yaml': TEAM_OWNER,
  'schemas/people.proto': personSchema(),
  'tables/people.yaml': ['raw', 'appended', 'legacy', 'deid_replace', 'deid_append', 'deid_merge']
    .map(
      (name) => `kind: table
name: people.${name}
owner: team
schema: schemas/people.proto#people.Person
${name.startsWith('deid') ? 'store: deidentified\n' : ''}validations:
  - expect_table_column_count_to_equal: { value: 5 }
`,
    )
    .concat(
      `kind: table
name: people.copy
owner: team
validations:
  - expect_table_column_count_to_equal: { value: 5 }
`,
      `kind: table
name: people.deid_copy
owner: team
store: deidentified
`,
    )
    .join('---\n'),
  'tasks/tasks.yaml': [
    ingestion('ingest_raw', 'people.raw', 'replace'),
    ingestion('ingest_appended', 'people.appended', 'append'),
    ingestion('ingest_legacy', 'people.legacy', 'append'),
    ingestion('ingest_deid_replace', 'people.deid_replace', 'replace'),
    ingestion('ingest_deid_append', 'people.deid_append', 'append'),
    ingestion('ingest_deid_merge', 'people.deid_merge', 'merge'),
    `kind: task
name: build_copy
type: projection
target: people.copy
sql: select * from people.raw
`,
    `kind: task
name: build_deid_copy
type: projection
target: people.deid_copy
sql: select person_id, ssn, lower(name) as name, state from people.raw
`,
  ].join('---\n'),
  'access/access.yaml': `kind: role
name: analyst
members: [group:analytics]
grants: [{ tables: ['people.*'] }]
---
kind: principal
name: ana@example.org
groups: [analytics]
`,
  'data/people.csv': PEOPLE_CSV,
};

describe('governed storage', async () => {
  const repo = await writeRepo(repoFiles);
  after(() => rm(repo, { recursive: true, force: true }));
  const open = (key: string, devMode = true) =>
    Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: key }, devMode });
  const asAna = { principal: 'ana@example.org' };

  const first = await open(KEY_A);
  await first.apply();
  const firstRuns = await first.run({ tasks: [], all: true });
  await first.close();

  test('every run succeeds, and validations count the fields only', () => {
    assert.deepEqual(
      firstRuns
        .map((run) => [run.task, run.status, run.error])
        .filter(([, status]) => status !== 'succeeded'),
      [],
    );
  });

  test('answered queries, allowed or failed, leave no read lease behind once the platform closes', async () => {
    const platform = await open(KEY_A);
    const answers = await Promise.allSettled([
      platform.query('select count(*) as n from people.raw', asAna),
      platform.query('select person_id, ssn from people.appended', asAna),
      platform.query('select cast(name as integer) from people.raw', asAna),
    ]);
    assert.deepEqual(
      answers.map((answer) => answer.status),
      ['fulfilled', 'fulfilled', 'rejected'],
    );
    await platform.close();
    const reopened = await open(KEY_A);
    try {
      assert.deepEqual([...(await internalsOf(reopened).store.leasedFiles(new Date().toISOString()))], []);
    } finally {
      await reopened.close();
    }
  });

  test('tessera check reads the fields only, not the hash columns stored beside them', async () => {
    const platform = await open(KEY_A);
    try {
      const { checks } = await platform.check('people.raw');
      assert.deepEqual(
        checks.map((check) => [check.expectation, check.success, check.observedValue]),
        [['expect_table_column_count_to_equal', true, 5]],
      );
    } finally {
      await platform.close();
    }
  });

  test('a HASH field is stored with its keyed hash beside it, as the digest halves governed reads rebuild it from', async () => {
    const platform = await open(KEY_A);
    try {
      const result = await platform.query('select person_id, ssn from people.raw order by person_id', asAna);
      assert.match(result.guarded.sql, REBUILT_FROM_HALVES);
      assert.deepEqual(
        result.rows.map((row) => row.ssn),
        ['111-11-1111', '222-22-2222', '333-33-3333'].map((ssn) => hmac(ssn, KEY_A)),
      );
      const admin = await platform.query('select * from people.raw');
      assert.deepEqual(
        admin.columns.map((column) => column.name),
        ['person_id', 'ssn', 'name', 'birth_date', 'state'],
        'the hash column is not a column of the table, not even for the administrator',
      );
      const session = await (await internalsOf(platform).engine()).openSession();
      try {
        const version = (await internalsOf(platform).store.getCurrentVersion('people.raw'))!;
        const file = internalsOf(platform).storage.localPath(version.files[0]!);
        const stored = await session.query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
        assert.deepEqual(
          stored.rows.map((row) => row.column_name),
          ['person_id', 'ssn', 'name', 'birth_date', 'state', 'ssn__hash_hi', 'ssn__hash_lo'],
          'the halves alone: no 64-character hex column',
        );
      } finally {
        session.close();
      }
    } finally {
      await platform.close();
    }
  });

  test('an inferred projection inherits HASH, gets its own hash column, and never reads its input’s', async () => {
    const platform = await open(KEY_A);
    try {
      const copy = (await internalsOf(platform).store.getTable('people.copy'))!;
      assert.deepEqual(
        copy.fields.map((field) => `${field.name}:${field.mask ?? ''}`),
        ['person_id:', 'ssn:HASH', 'name:REDACT', 'birth_date:DATE_YEAR', 'state:'],
      );
      const result = await platform.query('select ssn from people.copy order by person_id limit 1', asAna);
      assert.match(result.guarded.sql, REBUILT_FROM_HALVES);
      assert.deepEqual(result.rows, [{ ssn: hmac('111-11-1111', KEY_A) }]);
    } finally {
      await platform.close();
    }
  });

  test('each stored hash comes with its digest halves, and a join on two hashed columns compares them', async () => {
    const platform = await open(KEY_A);
    try {
      const version = (await internalsOf(platform).store.getCurrentVersion('people.raw'))!;
      const session = await (await internalsOf(platform).engine()).openSession();
      try {
        const stored = await session.query(
          `SELECT typeof(ssn__hash_hi) AS type, replace(ssn__hash_hi::VARCHAR, '-', '') || replace(ssn__hash_lo::VARCHAR, '-', '') AS digest
           FROM read_parquet('${internalsOf(platform).storage.localPath(version.files[0]!)}') ORDER BY person_id LIMIT 1`,
        );
        // Exactly the digest's 256 bits, as two UUIDs (Parquet's 16-byte type).
        assert.deepEqual(stored.rows[0], { type: 'UUID', digest: hmac('111-11-1111', KEY_A) });
      } finally {
        session.close();
      }

      const join = `select r.person_id, count(distinct c.ssn) as people from people.raw r
        join people.copy c on c.ssn = r.ssn group by r.person_id order by r.person_id`;
      const result = await platform.query(join, asAna);
      assert.match(result.guarded.sql, /c\.ssn__hash_hi = r\.ssn__hash_hi/);
      assert.deepEqual(result.rows, [
        { person_id: 'p1', people: 1 },
        { person_id: 'p2', people: 1 },
        { person_id: 'p3', people: 1 },
      ]);
      const admin = await platform.query(join);
      assert.doesNotMatch(admin.guarded.sql, /__hash/, 'in clear, the values themselves are compared');
      assert.deepEqual(admin.rows, result.rows);
    } finally {
      await platform.close();
    }
  });

  test('a reader who sees HASH reaches neither the stored halves nor anything but the hex', async () => {
    const platform = await open(KEY_A);
    try {
      for (const column of ['ssn__hash_hi', 'ssn__hash_lo', 'ssn__hash']) {
        await assert.rejects(
          platform.query(`select ${column} from people.raw`, asAna),
          /not found|does not have a column|Referenced column/i,
          `${column} is not a column of the secure relation`,
        );
        // A join on the hashed column makes the guard compare the halves; naming them still fails.
        await assert.rejects(
          platform.query(`select r.${column} from people.raw r join people.copy c on c.ssn = r.ssn`, asAna),
          /not found|does not have a column|Referenced column|not allowed/i,
          `${column} stays out of reach when the halves are compared`,
        );
      }
      const shown = await platform.query(
        'select ssn, typeof(ssn) as type, length(ssn) as length from people.raw order by person_id',
        asAna,
      );
      assert.deepEqual(
        shown.rows.map((row) => [row.ssn, row.type, row.length]),
        ['111-11-1111', '222-22-2222', '333-33-3333'].map((ssn) => [hmac(ssn, KEY_A), 'VARCHAR', 64]),
        'the hex, as HASH shows it everywhere',
      );
      const all = await platform.query(
        'select * from people.raw r join people.copy c on c.ssn = r.ssn',
        asAna,
      );
      assert.ok(
        all.columns.every((column) => !column.name.includes('__hash')),
        '* lists the fields only, even with a digest join',
      );
    } finally {
      await platform.close();
    }
  });

  test('a version written with the hex hash beside its halves reads the hex; appending a halves-only file rebuilds it for every file', async () => {
    const platform = await open(KEY_A);
    const session = await (await internalsOf(platform).engine()).openSession();
    try {
      // Rewrite the first file as versions were written before the halves alone were stored: the
      // hex column too, listed in `tessera.hash_columns`, with the same key's fingerprint.
      const [first] = (await internalsOf(platform).store.getCurrentVersion('people.legacy'))!.files;
      const file = internalsOf(platform).storage.localPath(first!);
      const fingerprint = String(
        (
          await session.query(
            `SELECT decode(value) AS value FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'tessera.hash_key_fingerprint'`,
          )
        ).rows[0]!.value,
      );
      await session.run(
        `COPY (SELECT person_id, ssn, name, birth_date, state, 'legacy:' || ssn AS ssn__hash, ssn__hash_hi, ssn__hash_lo FROM read_parquet('${file}')) ` +
          `TO '${file}.old' (FORMAT parquet, KV_METADATA {'tessera.hash_key_fingerprint': '${fingerprint}', ` +
          `'tessera.hash_columns': '{"ssn":"ssn__hash"}', 'tessera.hash_digest_columns': '{"ssn":["ssn__hash_hi","ssn__hash_lo"]}'})`,
      );
      await rename(`${file}.old`, file);

      const legacy = await platform.query(
        'select person_id, ssn from people.legacy order by person_id',
        asAna,
      );
      assert.match(legacy.guarded.sql, /ssn__hash AS ssn/, 'the stored hex is read as it is');
      assert.deepEqual(
        legacy.rows.map((row) => row.ssn),
        ['legacy:111-11-1111', 'legacy:222-22-2222', 'legacy:333-33-3333'],
      );
      const join = await platform.query(
        'select count(*) as pairs from people.legacy l join people.raw r on r.ssn = l.ssn',
        asAna,
      );
      assert.match(join.guarded.sql, /r\.ssn__hash_hi = l\.ssn__hash_hi|l\.ssn__hash_hi = r\.ssn__hash_hi/);
      assert.deepEqual(join.rows, [{ pairs: 3 }], 'joins compare the halves, which every file holds');

      const [appended] = await platform.run({ tasks: ['ingest_legacy'], downstream: false });
      assert.equal(appended!.status, 'succeeded', appended!.error);
      const mixed = await platform.query('select ssn from people.legacy order by person_id', asAna);
      assert.match(mixed.guarded.sql, REBUILT_FROM_HALVES);
      assert.deepEqual(
        mixed.rows.map((row) => row.ssn),
        ['111-11-1111', '111-11-1111', '222-22-2222', '222-22-2222', '333-33-3333', '333-33-3333'].map(
          (ssn) => hmac(ssn, KEY_A),
        ),
        'the new file holds no hex column: both files are read through their halves',
      );
    } finally {
      session.close();
      await platform.close();
    }
  });

  test('after a key rotation the stored hashes are not trusted: HASH is computed with the current key', async () => {
    const rotated = await open(KEY_B);
    try {
      const before = await rotated.query('select ssn from people.appended order by person_id limit 1', asAna);
      assert.doesNotMatch(before.guarded.sql, /__hash/);
      assert.deepEqual(before.rows, [{ ssn: hmac('111-11-1111', KEY_B) }]);

      // An append under the new key: old files carry key A's hashes, the new one key B's.
      const [appended] = await rotated.run({ tasks: ['ingest_appended'], downstream: false });
      assert.equal(appended!.status, 'succeeded', appended!.error);
      const mixed = await rotated.query('select ssn from people.appended order by person_id', asAna);
      assert.equal(mixed.rows.length, 6);
      assert.doesNotMatch(mixed.guarded.sql, /__hash/, 'files disagree on the key: hash at read time');
      assert.deepEqual(
        mixed.rows.map((row) => row.ssn),
        ['111-11-1111', '111-11-1111', '222-22-2222', '222-22-2222', '333-33-3333', '333-33-3333'].map(
          (ssn) => hmac(ssn, KEY_B),
        ),
      );

      // A replace writes the whole version with the new key: the stored hashes are used again.
      await rotated.run({ tasks: ['ingest_raw'], downstream: false });
      const rewritten = await rotated.query('select ssn from people.raw order by person_id limit 1', asAna);
      assert.match(rewritten.guarded.sql, REBUILT_FROM_HALVES);
      assert.deepEqual(rewritten.rows, [{ ssn: hmac('111-11-1111', KEY_B) }]);
    } finally {
      await rotated.close();
    }
  });

  test('store: deidentified stores masked values in every mode, and readers are not masked twice', async () => {
    await writeFiles(repo, { 'data/people.csv': MORE_PEOPLE_CSV });
    const platform = await open(KEY_A);
    // What the run's staging folder holds when its version file is committed: for a merge, the
    // incoming rows are still there beside the merged file.
    const staged: string[] = [];
    const storage = internalsOf(platform).storage as { commitFile(path: string): Promise<string> };
    const commit = storage.commitFile.bind(storage);
    storage.commitFile = async (path) => {
      const session = await (await internalsOf(platform).engine()).openSession();
      try {
        for (const name of (await readdir(dirname(path))).filter((file) => file.endsWith('.parquet'))) {
          const rows = await session.query(`SELECT * FROM read_parquet('${join(dirname(path), name)}')`);
          staged.push(`${name}: ${JSON.stringify(rows.rows)}`);
        }
      } finally {
        session.close();
      }
      return commit(path);
    };
    try {
      const runs = await platform.run({
        tasks: ['ingest_deid_replace', 'ingest_deid_append', 'ingest_deid_merge'],
        downstream: false,
      });
      assert.deepEqual(
        runs.map((run) => run.status),
        ['succeeded', 'succeeded', 'succeeded'],
      );
      const expected = {
        'people.deid_replace': ['p3:TX', 'p4:CA'],
        'people.deid_append': ['p1:CA', 'p2:CA', 'p3:NY', 'p3:TX', 'p4:CA'],
        'people.deid_merge': ['p1:CA', 'p2:CA', 'p3:TX', 'p4:CA'],
      };
      const raw = [...PEOPLE_CSV.split('\n'), ...MORE_PEOPLE_CSV.split('\n')].filter((line) =>
        /^p\d/.test(line),
      );
      assert.ok(
        staged.some((file) => file.startsWith('incoming.parquet')),
        'the merge staging was seen',
      );
      for (const file of staged) {
        for (const line of raw) {
          const [, ssn, name] = line.split(',');
          assert.ok(!file.includes(ssn!) && !file.includes(name!), `raw values in staging: ${file}`);
        }
      }
      for (const [table, rows] of Object.entries(expected)) {
        const session = await (await internalsOf(platform).engine()).openSession();
        try {
          const version = (await internalsOf(platform).store.getCurrentVersion(table))!;
          const files = version.files
            .map((file) => `'${internalsOf(platform).storage.localPath(file)}'`)
            .join(', ');
          const stored = await session.query(
            `SELECT * FROM read_parquet([${files}]) ORDER BY person_id, state`,
          );
          assert.deepEqual(
            stored.rows.map((row) => `${String(row.person_id)}:${String(row.state)}`),
            rows,
            `${table}: rows as the mode gives them`,
          );
          const text = JSON.stringify(stored.rows);
          for (const line of raw) {
            const [, ssn, name, birth] = line.split(',');
            assert.ok(
              !text.includes(ssn!) && !text.includes(name!) && !text.includes(birth!),
              `${table}: ${line}`,
            );
          }
          assert.ok(
            stored.rows.every(
              (row) => row.name === '[REDACTED]' && String(row.birth_date).endsWith('-01-01'),
            ),
          );
          assert.deepEqual(Object.keys(stored.rows[0]!), ['person_id', 'ssn', 'name', 'birth_date', 'state']);
        } finally {
          session.close();
        }
        const admin = await platform.query(`select ssn from ${table} where person_id = 'p4'`);
        assert.deepEqual(
          admin.rows,
          [{ ssn: hmac('444-44-4444', KEY_A) }],
          `${table}: masked once, for everyone`,
        );
      }

      const copy = await platform.query(
        `select person_id, ssn, name from people.deid_copy order by person_id`,
      );
      assert.deepEqual(copy.rows[0], {
        person_id: 'p1',
        ssn: hmac('111-11-1111', KEY_A),
        name: '[REDACTED]',
      });
    } finally {
      await platform.close();
    }
  });

  test('outside dev mode a query needs a token; every attempt is audited', async () => {
    const platform = await open(KEY_A, false);
    try {
      await assert.rejects(platform.query('select 1 as one'), /a token is required outside dev mode/);
      await assert.rejects(platform.query('select 1 as one', asAna), /a token is required outside dev mode/);
      const { token } = await platform.tokens.create('ana@example.org');
      const answered = await platform.query('select count(*) as n from people.raw', { token });
      assert.deepEqual(answered.rows, [{ n: 3 }]);
      assert.equal(await platform.verifyToken(token), 'ana@example.org');

      const [allowed, asName, anonymous] = await platform.auditLog({ limit: 3 });
      assert.equal(allowed!.principal, 'ana@example.org');
      assert.ok(allowed!.tokenId, 'the token that authenticated is recorded');
      assert.equal(allowed!.outcome, 'allowed');
      assert.equal(allowed!.rowsReturned, 1);
      assert.deepEqual([asName!.principal, asName!.outcome], ['ana@example.org', 'refused']);
      assert.deepEqual([anonymous!.principal, anonymous!.outcome], ['(none)', 'refused']);
    } finally {
      await platform.close();
    }
  });

  // It removes a version's local file: on object storage (test/storage/s3-storage-suites.test.ts)
  // that is a cold cache, fetched again, not a failure, so the test is not registered there
  // (s3-storage.test.ts covers a failed read from a bucket instead).
  const onObjectStorage = process.env.TESSERA_STORAGE_URL?.startsWith('s3://') ?? false;
  if (!onObjectStorage)
    test('an engine failure is audited as failed, without the storage path it names', async () => {
      const platform = await open(KEY_A);
      try {
        const version = (await internalsOf(platform).store.getCurrentVersion('people.copy'))!;
        await rm(internalsOf(platform).storage.localPath(version.files[0]!));
        const failure = await platform
          .query('select * from people.copy', asAna)
          .catch((error: unknown) => error);
        assert.ok(failure instanceof QueryError);
        assert.ok(!failure.message.includes(join(repo, '.tessera')), failure.message);
        const [entry] = await platform.auditLog({ limit: 1 });
        assert.equal(entry!.outcome, 'failed');
        assert.match(entry!.reason!, /<storage>/);
        assert.ok(!entry!.reason!.includes(repo), entry!.reason);
      } finally {
        await platform.close();
      }
    });
});
