// The hash key when `governance.hash_key` is not set: a random key per catalog, kept in the
// catalog, the same for every process on it, never printed. Through the real CLI and the Platform.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Platform } from '../../src/platform.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { tessera, writeRepo, type CliResult } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

/** The key dev mode used to hash with when `hash_key` was unset: public, in the source. */
const OLD_PUBLIC_DEV_KEY = 'tessera-dev-mode-hash-key';
const ANALYST = 'bob@example.org';
const SSN = '111-11-1111';
const hmac = (value: string, key: string) => createHmac('sha256', key).update(value).digest('hex');

const repoFiles: Record<string, string> = {
  'tessera.yaml': 'name: keyless\n',
  'owners/team.yaml': TEAM_OWNER,
  'schemas/people.proto': personSchema(),
  'tables/people.yaml':
    'kind: table\nname: people.raw\nowner: team\nschema: schemas/people.proto#people.Person\n',
  'tasks/people.yaml':
    'kind: task\nname: ingest_people\ntype: ingestion\ntarget: people.raw\nsource: { type: csv, uri: data/people.csv }\n',
  'access/analyst.yaml': `kind: role
name: analyst
members: [user:${ANALYST}]
grants:
  - tables: ["people.*"]
---
kind: principal
name: ${ANALYST}
`,
  'data/people.csv': `person_id,ssn,name,birth_date,state\np1,${SSN},Alicia,1980-05-17,CA\np2,222-22-2222,Bertrand,1975-11-02,NY\n`,
};

/** Dev mode, with no hash key anywhere in the environment. */
const DEV_ENV = { TESSERA_HASH_KEY: '', TESSERA_MODE: '', TESSERA_TOKEN: '' };
type Cli = (repo: string, args: string[]) => Promise<CliResult>;
/** The CLI in this process (most checks) or as its own process (where processes must agree). */
const cli: Cli = (repo, args) => tesseraInProcess(args, { cwd: repo, env: DEV_ENV });
const cliProcess: Cli = (repo, args) => tessera(args, { cwd: repo, env: DEV_ENV });

function storedKey(repo: string): string {
  const database = new Database(join(repo, '.tessera', 'catalog.db'), { readonly: true });
  try {
    const row = database.prepare("select key_hex from catalog_keys where name = 'hash'").get() as
      { key_hex: string } | undefined;
    assert.ok(row, 'the catalog keeps a generated hash key');
    return row.key_hex;
  } finally {
    database.close();
  }
}

describe('a catalog without governance.hash_key', () => {
  const repos: string[] = [];
  const outputs: CliResult[] = [];
  const run = async (repo: string, args: string[], runner = cli): Promise<CliResult> => {
    const result = await runner(repo, args);
    outputs.push(result);
    assert.equal(result.code, 0, `tessera ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return result;
  };
  const analystSsn = async (repo: string, runner = cli): Promise<string> => {
    const result = await run(
      repo,
      ['query', `select ssn from people.raw where person_id = 'p1'`, '--as', ANALYST, '--format', 'json'],
      runner,
    );
    return String((JSON.parse(result.stdout) as { ssn: string }[])[0]!.ssn);
  };

  before(async () => {
    for (let index = 0; index < 2; index++) {
      const repo = await writeRepo(repoFiles);
      repos.push(repo);
      await run(repo, ['apply']);
      await run(repo, ['--json', 'run', '--all']);
    }
  });

  after(async () => {
    for (const repo of repos) await rm(repo, { recursive: true, force: true });
  });

  test('two fresh catalogs hash the same SSN differently, each with its own generated key', async () => {
    const [first, second] = [await analystSsn(repos[0]!), await analystSsn(repos[1]!)];
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.notEqual(first, second);
    assert.equal(first, hmac(SSN, storedKey(repos[0]!)));
    assert.equal(second, hmac(SSN, storedKey(repos[1]!)));
    assert.notEqual(storedKey(repos[0]!), storedKey(repos[1]!));
  });

  test('a governed query result cannot be rebuilt with the old public dev-mode key', async () => {
    const masked = await analystSsn(repos[0]!);
    assert.notEqual(masked, hmac(SSN, OLD_PUBLIC_DEV_KEY));
    // Nor with the same recipe inside SQL: an analyst brute-forcing candidates finds nothing.
    const result = await run(repos[0]!, [
      'query',
      `select count(*) as n from people.raw where ssn = '${hmac(SSN, OLD_PUBLIC_DEV_KEY)}'`,
      '--as',
      ANALYST,
      '--format',
      'json',
    ]);
    assert.equal(Number((JSON.parse(result.stdout) as { n: number }[])[0]!.n), 0);
  });

  test('every process on one catalog hashes alike: the CLI processes and two Platform instances', async () => {
    const repo = repos[0]!;
    const fromProcesses = await Promise.all([analystSsn(repo, cliProcess), analystSsn(repo, cliProcess)]);
    const platforms = [await Platform.open({ repo, env: {} }), await Platform.open({ repo, env: {} })];
    try {
      const fromPlatforms = await Promise.all(
        platforms.map(async (platform) => {
          const result = await platform.query(`select ssn from people.raw where person_id = 'p1'`, {
            principal: ANALYST,
          });
          return String(result.rows[0]!.ssn);
        }),
      );
      assert.deepEqual([...fromProcesses, ...fromPlatforms], Array(4).fill(fromProcesses[0]));
      assert.equal(fromProcesses[0], hmac(SSN, storedKey(repo)));
    } finally {
      await Promise.all(platforms.map((platform) => platform.close()));
    }
  });

  test('validate, plan and run warn once that hash_key should be set; no output ever holds the key', async () => {
    const repo = repos[0]!;
    const warning = /warning missing-hash-key: governance\.hash_key is not set/;
    for (const args of [['validate'], ['plan'], ['run', 'ingest_people']]) {
      const result = await run(repo, args);
      const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => warning.test(line));
      assert.equal(lines.length, 1, `tessera ${args.join(' ')} warns once: ${result.stdout}${result.stderr}`);
    }
    await run(repo, ['--json', 'audit', '--limit', '50']);
    const runs = JSON.parse((await run(repo, ['--json', 'runs'])).stdout) as { id: string }[];
    await run(repo, ['--json', 'logs', runs[0]!.id]);
    await run(repo, ['query', 'select * from people.raw', '--as', ANALYST, '--format', 'csv']);
    const refused = await cli(repo, ['query', "select getvariable('tessera_hash_key')"]);
    outputs.push(refused);
    assert.notEqual(refused.code, 0);

    for (const repoPath of repos) {
      const key = storedKey(repoPath);
      const printed = outputs.map((output) => output.stdout + output.stderr).join('\n');
      assert.ok(printed.length > 0);
      assert.ok(!printed.includes(key), 'the key never appears in CLI output');
      assert.ok(!printed.includes(Buffer.from(key, 'utf8').toString('hex')), 'nor as the hex of its bytes');
    }
  });
});
