// Masking follows how each version was written, as recorded in the catalog at publication, never the
// current YAML: a table written raw that gains `store: deidentified` (before `apply`, after `apply`
// with a failing next run, after a successful run, and through append and merge chains) never
// shows a raw value to a principal who does not unmask, neither as the current version nor
// through time travel.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';

const KEY = 'version-storage-test-key';
const hmac = (value: string) => createHmac('sha256', KEY).update(value).digest('hex');

const PEOPLE_CSV = `person_id,ssn,name,birth_date,state
p1,111-11-1111,Alicia,1980-05-17,CA
p2,222-22-2222,Bertrand,1975-11-02,CA
`;
const MORE_PEOPLE_CSV = `person_id,ssn,name,birth_date,state
p2,222-22-2222,Bertrand,1975-11-02,NY
p3,333-33-3333,Chen,1990-01-30,TX
`;
const RAW = [
  ['111-11-1111', 'Alicia', '1980-05-17'],
  ['222-22-2222', 'Bertrand', '1975-11-02'],
  ['333-33-3333', 'Chen', '1990-01-30'],
];

const MODES = { replace: 'people.replaced', append: 'people.appended', merge: 'people.merged' };

const tables = (deidentified: boolean) =>
  Object.values(MODES)
    .map(
      (name) => `kind: table
name: ${name}
owner: team
schema: schemas/people.proto#people.Person
${deidentified ? 'store: deidentified\n' : ''}validations:
  - expect_column_values_to_be_in_set: { column: name, value_set: [Nobody] }
    severity: warn
`,
    )
    .join('---\n');

const repoFiles: Record<string, string> = {
  'tessera.yaml': 'name: version-storage-test\ngovernance:\n  hash_key: ${TESSERA_HASH_KEY}\n',
  'owners/team.yaml': TEAM_OWNER,
  'schemas/people.proto': personSchema(),
  'tables/people.yaml': tables(false),
  'tasks/tasks.yaml': Object.entries(MODES)
    .map(
      ([mode, target]) => `kind: task
name: ingest_${mode}
type: ingestion
target: ${target}
source: { type: csv, uri: data/people.csv }
mode: ${mode}
`,
    )
    .join('---\n'),
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

const asAna = { principal: 'ana@example.org' };

describe('masking follows how each version was written', async () => {
  const repo = await writeRepo(repoFiles);
  after(() => rm(repo, { recursive: true, force: true }));
  const open = () => Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: KEY }, devMode: true });
  const withPlatform = async <T>(work: (platform: Platform) => Promise<T>): Promise<T> => {
    const platform = await open();
    try {
      return await work(platform);
    } finally {
      await platform.close();
    }
  };
  const runAll = (platform: Platform) =>
    platform.run({ tasks: Object.keys(MODES).map((mode) => `ingest_${mode}`), downstream: false });

  /** What ana reads from `sql`: never a raw SSN, name or birth date, whatever else is asserted. */
  const readAsAna = async (platform: Platform, sql: string) => {
    const result = await platform.query(sql, asAna);
    const text = JSON.stringify(result.rows);
    for (const values of RAW) {
      for (const value of values)
        assert.ok(!text.includes(value), `raw ${value} shown to ana by ${sql}: ${text}`);
    }
    return result.rows;
  };

  /** Check results are catalog metadata: they never carry a raw value either. */
  const assertNoRawValue = (what: string, value: unknown) => {
    const text = JSON.stringify(value);
    for (const values of RAW) {
      for (const raw of values) assert.ok(!text.includes(raw), `raw ${raw} in ${what}: ${text}`);
    }
  };

  /** Ana reads every version of every table masked, and the SSN as the keyed hash of the raw value. */
  const assertMaskedForAna = async (platform: Platform, step: string) => {
    for (const table of Object.values(MODES)) {
      for (const at of ['', ' AT (VERSION => 1)']) {
        const rows = await readAsAna(
          platform,
          `select person_id, ssn, name from ${table}${at} order by person_id`,
        );
        assert.deepEqual(
          rows.slice(0, 2),
          [
            { person_id: 'p1', ssn: hmac('111-11-1111'), name: '[REDACTED]' },
            { person_id: 'p2', ssn: hmac('222-22-2222'), name: '[REDACTED]' },
          ],
          `${step}: ${table}${at}`,
        );
      }
    }
  };

  await withPlatform(async (platform) => {
    await platform.apply();
    const runs = await runAll(platform);
    assert.deepEqual(
      runs.map((run) => run.status),
      ['succeeded', 'succeeded', 'succeeded'],
    );
  });

  test('a version written raw records no stored mask', async () => {
    await withPlatform(async (platform) => {
      for (const table of Object.values(MODES)) {
        assert.deepEqual((await internalsOf(platform).store.getVersion(table, 1))?.storedMasks, {}, table);
      }
    });
  });

  test('the YAML gains store: deidentified, not applied: versions written raw are still masked', async () => {
    await writeFiles(repo, { 'tables/people.yaml': tables(true) });
    await withPlatform((platform) => assertMaskedForAna(platform, 'before apply'));
  });

  test('applied, and the next run fails: the current version, written raw, is still masked', async () => {
    await withPlatform(async (platform) => {
      await platform.apply();
      await rm(join(repo, 'data/people.csv'));
      const runs = await runAll(platform);
      assert.deepEqual(
        runs.map((run) => run.status),
        ['failed', 'failed', 'failed'],
      );
      await assertMaskedForAna(platform, 'after a failed run');
      // `tessera check` runs the validations on the current version, written raw.
      for (const table of Object.values(MODES)) {
        const { version, checks } = await platform.check(table);
        assert.equal(version.version, 1);
        assert.equal(checks[0]?.unexpectedCount, 2);
        assertNoRawValue(`tessera check ${table}`, checks);
      }
    });
  });

  test('after a successful run: the new version is stored masked and read once; version 1 is still masked', async () => {
    await writeFiles(repo, { 'data/people.csv': MORE_PEOPLE_CSV });
    await withPlatform(async (platform) => {
      const runs = await runAll(platform);
      assert.deepEqual(
        runs.map((run) => [run.status, run.error]),
        [
          ['succeeded', undefined],
          ['succeeded', undefined],
          ['succeeded', undefined],
        ],
      );
      for (const table of Object.values(MODES)) {
        const rows = await readAsAna(platform, `select person_id, ssn, name from ${table} AT (VERSION => 1)`);
        assert.equal(rows.length, 2, table);
      }
      const masked = { ssn: 'HASH', name: 'REDACT', birth_date: 'DATE_YEAR' };
      assert.deepEqual(
        (await internalsOf(platform).store.getCurrentVersion(MODES.replace))?.storedMasks,
        masked,
      );
      assert.deepEqual(
        (await internalsOf(platform).store.getCurrentVersion(MODES.merge))?.storedMasks,
        masked,
      );
      // The append's earlier file holds raw values: the version is recorded raw, so read masked.
      assert.deepEqual((await internalsOf(platform).store.getCurrentVersion(MODES.append))?.storedMasks, {});
      for (const table of Object.values(MODES)) {
        assertNoRawValue(
          `${table}'s recorded checks`,
          (await internalsOf(platform).store.getCurrentVersion(table))?.checks,
        );
      }

      const replaced = await readAsAna(platform, `select person_id, ssn, name, state from ${MODES.replace}`);
      assert.deepEqual(
        replaced.map((row) => row.ssn),
        [hmac('222-22-2222'), hmac('333-33-3333')],
        'stored hashes are not hashed again',
      );
      // A merge rewrites every row: the previous rows, written raw, are masked in the new file.
      const merged = await readAsAna(
        platform,
        `select person_id, ssn, name, state from ${MODES.merge} order by person_id`,
      );
      assert.deepEqual(merged, [
        { person_id: 'p1', ssn: hmac('111-11-1111'), name: '[REDACTED]', state: 'CA' },
        { person_id: 'p2', ssn: hmac('222-22-2222'), name: '[REDACTED]', state: 'NY' },
        { person_id: 'p3', ssn: hmac('333-33-3333'), name: '[REDACTED]', state: 'TX' },
      ]);
      // The administrator unmasks everything: what is stored masked is all there is.
      const admin = await platform.query(`select person_id, ssn from ${MODES.merge} order by person_id`);
      assert.deepEqual(
        admin.rows.map((row) => row.ssn),
        [hmac('111-11-1111'), hmac('222-22-2222'), hmac('333-33-3333')],
      );

      const appended = await readAsAna(
        platform,
        `select person_id, ssn, name, state from ${MODES.append} order by person_id, state`,
      );
      assert.deepEqual(
        appended.map((row) => `${String(row.person_id)}:${String(row.state)}:${String(row.name)}`),
        ['p1:CA:[REDACTED]', 'p2:CA:[REDACTED]', 'p2:NY:[REDACTED]', 'p3:TX:[REDACTED]'],
      );
      // The rows written raw read as their hash; the rows stored masked are masked again.
      assert.deepEqual(
        appended.map((row) => row.ssn),
        [hmac('111-11-1111'), hmac('222-22-2222'), hmac(hmac('222-22-2222')), hmac(hmac('333-33-3333'))],
      );
    });
  });

  test('back to raw: a merge keeps the rows stored masked and records the field raw; nothing fails', async () => {
    await writeFiles(repo, { 'tables/people.yaml': tables(false), 'data/people.csv': PEOPLE_CSV });
    await withPlatform(async (platform) => {
      await platform.apply();
      const runs = await runAll(platform);
      assert.deepEqual(
        runs.map((run) => [run.status, run.error]),
        [
          ['succeeded', undefined],
          ['succeeded', undefined],
          ['succeeded', undefined],
        ],
      );
      for (const table of Object.values(MODES)) {
        assert.deepEqual(
          (await internalsOf(platform).store.getCurrentVersion(table))?.storedMasks,
          {},
          table,
        );
      }
      const merged = await readAsAna(
        platform,
        `select person_id, ssn from ${MODES.merge} order by person_id`,
      );
      // p1 and p2 come in raw again; p3 was stored masked and is masked again.
      assert.deepEqual(
        merged.map((row) => row.ssn),
        [hmac('111-11-1111'), hmac('222-22-2222'), hmac(hmac('333-33-3333'))],
      );
      for (const table of Object.values(MODES)) {
        for (const version of [1, 2, 3]) {
          await readAsAna(platform, `select ssn, name from ${table} AT (VERSION => ${version})`);
        }
      }
    });
  });
});

describe('a version published before versions recorded their storage', async () => {
  const repo = await writeRepo({
    ...repoFiles,
    'schemas/people.proto': personSchema({ zip: true }),
    'data/people.csv': 'person_id,ssn,name,birth_date,zip,state\np1,111-11-1111,Alicia,1980-05-17,94110,CA\n',
    'tables/people.yaml': tables(true),
  });
  after(() => rm(repo, { recursive: true, force: true }));
  const open = () => Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: KEY }, devMode: true });

  const platform = await open();
  await platform.apply();
  const [run] = await platform.run({ tasks: ['ingest_replace'], downstream: false });
  await platform.close();
  // What a catalog migrated from before 0005_version_storage holds: a version with no record.
  const catalog = new Database(join(repo, '.tessera/catalog.db'));
  catalog.prepare('UPDATE versions SET stored_masks_json = NULL').run();
  catalog.close();

  test('is read as raw: a de-identified one is masked again, never failing, never shown in clear', async () => {
    assert.equal(run?.status, 'succeeded', run?.error);
    const reopened = await open();
    try {
      const version = await internalsOf(reopened).store.getCurrentVersion(MODES.replace);
      assert.equal(version?.storedMasks, undefined);
      const sql = `select ssn, name, cast(birth_date as varchar) as birth_date, zip from ${MODES.replace}`;
      const ana = await reopened.query(sql, asAna);
      assert.deepEqual(ana.rows, [
        // HASH of the stored hash; REDACT, DATE_YEAR and ZIP3 of their own output give it back.
        { ssn: hmac(hmac('111-11-1111')), name: '[REDACTED]', birth_date: '1980-01-01', zip: '941' },
      ]);
      // The administrator sees what is stored: masked once.
      const admin = await reopened.query(sql);
      assert.deepEqual(admin.rows, [
        { ssn: hmac('111-11-1111'), name: '[REDACTED]', birth_date: '1980-01-01', zip: '941' },
      ]);
    } finally {
      await reopened.close();
    }
  });
});
