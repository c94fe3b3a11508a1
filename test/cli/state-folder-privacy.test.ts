// The state folder is the platform user's alone (directories 0700, files 0600) whatever the umask,
// and the quarantine keeps no raw sensitive value. Through the CLI's commands, run under umask 022.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import type { Orchestrator } from '../../src/orchestrator/orchestrator.ts';
import { ServerFileService } from '../../src/orchestrator/server-file.ts';
import { Platform } from '../../src/platform.ts';
import { TEAM_OWNER } from '../support/person-schema.ts';
import { writeRepo, type CliResult } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const HASH_KEY = 'state-folder-test-key';
const hmac = (value: string) => createHmac('sha256', HASH_KEY).update(value).digest('hex');

/** SSNs of the bad rows: none may appear raw in the quarantine. */
const BAD_AGE_SSN = '900-11-2233';
const BAD_BIRTH_SSN = '900-44-5566';
const MALFORMED_SSN = '900-77-8899';
const BAD_BIRTH_DATE = '1980-02-31';

const repoFiles: Record<string, string> = {
  'tessera.yaml': 'name: private-state\ngovernance:\n  hash_key: ${TESSERA_HASH_KEY}\n',
  'owners/team.yaml': TEAM_OWNER,
  'access/principals.yaml': 'kind: principal\nname: nobody@example.org\n',
  'schemas/people.proto': `syntax = "proto3";
package people;
import "tessera/options.proto";
import "google/type/date.proto";

// One person.
message Person {
  string person_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
  string name = 3 [(tessera.field) = { sensitivity: PHI, mask: REDACT }];
  google.type.Date birth_date = 4 [(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }];
  int32 age = 5;
  string state = 6;
}
`,
  'tables/people.yaml': `kind: table
name: people.raw
owner: team
schema: schemas/people.proto#people.Person
---
kind: table
name: people.by_state
owner: team
`,
  'tasks/people.yaml': `kind: task
name: ingest_people
type: ingestion
target: people.raw
source: { type: csv, uri: data/people.csv }
bad_rows: { action: quarantine, max_fraction: 0.5 }
---
kind: task
name: count_by_state
type: projection
target: people.by_state
sql: select state, count(*) as people from people.raw group by state
`,
  'data/people.csv': [
    'person_id,ssn,name,birth_date,age,state',
    'p1,111-11-1111,Alicia,1980-05-17,45,CA',
    'p2,222-22-2222,Bertrand,1975-11-02,50,NY',
    'p3,333-33-3333,Chen,1990-01-30,35,CA',
    `p4,${BAD_AGE_SSN},Dana,2001-07-04,forty,TX`,
    `p5,${BAD_BIRTH_SSN},Emil,${BAD_BIRTH_DATE},44,WA`,
    `p6,${MALFORMED_SSN},Fay,1970-03-03,55,OR,extra`,
    'p7,777-77-7777,Gus,1985-08-08,40,CA',
    '',
  ].join('\n'),
};

/** `tessera ARGS` (its `main()`, in this process) under umask 022, as on most machines. */
async function tesseraUnderUmask022(repo: string, args: string[]): Promise<CliResult> {
  const previous = process.umask(0o022);
  try {
    return await tesseraInProcess(args, {
      cwd: repo,
      env: { TESSERA_HASH_KEY: HASH_KEY, TESSERA_TOKEN: '' },
    });
  } finally {
    process.umask(previous);
  }
}

/** Every entry below `folder`, with its permission bits. */
async function walk(folder: string): Promise<{ path: string; directory: boolean; mode: number }[]> {
  const entries = [{ path: folder, directory: true, mode: (await stat(folder)).mode & 0o777 }];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) entries.push(...(await walk(path)));
    else entries.push({ path, directory: false, mode: (await stat(path)).mode & 0o777 });
  }
  return entries;
}

describe('the state folder and the quarantine', () => {
  let repo: string;
  const cli = async (args: string[]): Promise<CliResult> => {
    const result = await tesseraUnderUmask022(repo, args);
    assert.equal(result.code, 0, `tessera ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result;
  };

  before(async () => {
    repo = await writeRepo(repoFiles);
    await cli(['apply']);
    await cli(['run', '--all']);
    await cli(['query', 'select count(*) from people.raw']);
    await cli(['token', 'create', '--principal', 'nobody@example.org']);
  });

  after(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  test('under umask 022 every folder Tessera creates is 0700 and every file 0600', async () => {
    // While a process has the catalog open (its -wal and -shm exist) and `tessera serve` has
    // written its server file: both in this process, under umask 022.
    const previous = process.umask(0o022);
    const server = new ServerFileService(repo);
    const platform = await Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: HASH_KEY } });
    try {
      await server.start({ owner: { id: 'test-owner' } } as Orchestrator);
      await platform.query('select count(*) from people.by_state');
      const entries = await walk(join(repo, '.tessera'));
      const names = entries.map((entry) => relative(repo, entry.path));
      for (const expected of [
        /catalog\.db$/,
        /catalog\.db-wal$/,
        /catalog\.db-shm$/,
        /warehouse\/people\/raw\/.+\/part-0\.parquet$/,
      ]) {
        assert.ok(
          names.some((name) => expected.test(name)),
          `${expected} among ${names.join(', ')}`,
        );
      }
      assert.ok(
        names.some((name) => name.endsWith('part-0.quarantine.parquet')),
        'a quarantine file',
      );
      assert.ok(
        names.some((name) => name.includes('people/by_state')),
        'a projection version',
      );
      assert.ok(names.includes('.tessera/server.json'));
      const loose = entries
        .filter((entry) => entry.mode !== (entry.directory ? 0o700 : 0o600))
        .map((entry) => `${relative(repo, entry.path)} ${entry.mode.toString(8)}`);
      assert.deepEqual(loose, [], 'nothing in the state folder is readable by other users');
    } finally {
      await server.stop();
      await platform.close();
      process.umask(previous);
    }
  });

  test('quarantined rows keep sensitive values only as their keyed hash; the reason and other fields stay readable', async () => {
    const entries = await walk(join(repo, '.tessera', 'warehouse'));
    const quarantine = entries.find((entry) => entry.path.endsWith('.quarantine.parquet'));
    assert.ok(quarantine, 'the run quarantined its bad rows');
    const engine = await DuckdbEngine.create();
    const session = await engine.openSession();
    try {
      const rows = (
        await session.query(
          `SELECT line, "column", value, reason, source_record FROM read_parquet(${quoteLiteral(quarantine.path)}) ORDER BY line`,
        )
      ).rows;
      const everything = JSON.stringify(rows);
      for (const raw of [BAD_AGE_SSN, BAD_BIRTH_SSN, MALFORMED_SSN, BAD_BIRTH_DATE, 'Dana', 'Emil', 'Fay']) {
        assert.ok(!everything.includes(raw), `the quarantine holds no raw ${raw}`);
      }
      assert.equal(rows.length, 3);

      const [badAge, badBirth, malformed] = rows;
      // A bad non-sensitive value: readable, with its reason; the sensitive fields as keyed hashes.
      assert.equal(badAge!.column, 'age');
      assert.equal(badAge!.value, 'forty');
      assert.match(String(badAge!.reason), /value "forty" is not/);
      assert.deepEqual(JSON.parse(String(badAge!.source_record)), {
        person_id: 'p4',
        ssn: hmac(BAD_AGE_SSN),
        name: hmac('Dana'),
        birth_date: hmac('2001-07-04'),
        age: 'forty',
        state: 'TX',
      });
      // A bad sensitive value: hashed in `value` too, and never quoted in the reason.
      assert.equal(badBirth!.column, 'birth_date');
      assert.equal(badBirth!.value, hmac(BAD_BIRTH_DATE));
      assert.match(String(badBirth!.reason), /not shown: PHI/);
      assert.equal(JSON.parse(String(badBirth!.source_record)).ssn, hmac(BAD_BIRTH_SSN));
      assert.equal(JSON.parse(String(badBirth!.source_record)).state, 'WA');
      // A malformed line cannot be split into fields: kept as its keyed hash.
      assert.equal(malformed!.column, null);
      assert.match(String(malformed!.reason), /malformed CSV row/);
      assert.equal(malformed!.source_record, hmac(`p6,${MALFORMED_SSN},Fay,1970-03-03,55,OR,extra`));
    } finally {
      session.close();
      await engine.close();
    }
  });
});
