// The keyed hashes a version stores for HASH-masked fields, checked value for value against
// node:crypto's HMAC on a file large enough that a field whose values repeat is hashed once per
// distinct value (and joined back) while a field of distinct values is hashed per row.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeRepo } from '../support/cli.ts';

const KEY = 'keyed-hash-storage-key';
const ROWS = 20_000;
const hmac = (value: string) => createHmac('sha256', KEY).update(value).digest('hex');

/** Every SSN distinct; 40 plan codes (and some missing), so that field's values repeat. */
const ssnOf = (i: number) =>
  `${String(100 + (i % 800)).padStart(3, '0')}-${String(i % 97).padStart(2, '0')}-${String(i).padStart(5, '0')}`;
const planOf = (i: number) => (i % 11 === 0 ? '' : `PLAN-${i % 40}-é`);
const CSV =
  [
    'member_id,ssn,plan_code,state',
    ...Array.from({ length: ROWS }, (_, i) => `m${i},${ssnOf(i)},${planOf(i)},CA`),
  ].join('\n') + '\n';

const SCHEMA = `syntax = "proto3";
package members;
import "tessera/options.proto";

// One member.
message Member {
  string member_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
  optional string plan_code = 3 [(tessera.field) = { sensitivity: PII, mask: HASH }];
  string state = 4;
}
`;

const task = (name: string, target: string, mode: string) => `kind: task
name: ${name}
type: ingestion
target: ${target}
source: { type: csv, uri: data/members.csv }
mode: ${mode}
`;

describe('keyed hashes stored at ingest', async () => {
  const repo = await writeRepo({
    'tessera.yaml': `name: keyed-hash-storage\ngovernance:\n  hash_key: ${KEY}\n`,
    'owners/team.yaml': 'kind: owner\nname: team\nmembers: [team@example.org]\n',
    'schemas/members.proto': SCHEMA,
    'tables/members.yaml': ['replaced', 'merged']
      .map(
        (name) =>
          `kind: table\nname: members.${name}\nowner: team\nschema: schemas/members.proto#members.Member\n`,
      )
      .join('---\n'),
    'tasks/tasks.yaml': [
      task('ingest_replaced', 'members.replaced', 'replace'),
      task('ingest_merged', 'members.merged', 'merge'),
    ].join('---\n'),
    'access/access.yaml': `kind: role
name: analyst
members: [group:analytics]
grants: [{ tables: ['members.*'] }]
---
kind: principal
name: ana@example.org
groups: [analytics]
`,
    'data/members.csv': CSV,
  });
  after(() => rm(repo, { recursive: true, force: true }));
  const platform = await Platform.open({ repo });
  after(() => platform.close());
  await platform.apply();
  const runs = [
    ...(await platform.run({ tasks: [], all: true })),
    // A merge over a previous version: the rows to write are a union of incoming and previous rows.
    ...(await platform.run({ tasks: ['ingest_merged'], downstream: false })),
  ];

  test('every run writes every row', () => {
    assert.deepEqual(
      runs
        .map((run) => [run.task, run.status, run.rowsWritten, run.error])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['ingest_merged', 'succeeded', ROWS, undefined],
        ['ingest_merged', 'succeeded', ROWS, undefined],
        ['ingest_replaced', 'succeeded', ROWS, undefined],
      ],
    );
  });

  for (const table of ['members.replaced', 'members.merged']) {
    test(`${table}: the stored halves of each row rebuild node:crypto's HMAC of its values, NULL for NULL`, async () => {
      const version = (await internalsOf(platform).store.getCurrentVersion(table))!;
      const session = await (await internalsOf(platform).engine()).openSession();
      try {
        const halves = (field: string) =>
          `replace(${field}__hash_hi::VARCHAR, '-', '') || replace(${field}__hash_lo::VARCHAR, '-', '')`;
        const stored = await session.query(
          `SELECT member_id, ssn, plan_code, ${halves('ssn')} AS ssn_digest, ${halves('plan_code')} AS plan_digest ` +
            `FROM read_parquet('${internalsOf(platform).storage.localPath(version.files[0]!)}')`,
        );
        assert.equal(stored.rows.length, ROWS);
        let missing = 0;
        for (const row of stored.rows) {
          const i = Number(String(row.member_id).slice(1));
          assert.equal(row.ssn, ssnOf(i));
          assert.equal(row.ssn_digest, hmac(ssnOf(i)), `ssn of ${String(row.member_id)}`);
          if (planOf(i) === '') {
            missing++;
            assert.equal(row.plan_code, null);
            assert.equal(row.plan_digest, null, `a missing plan code has no hash (${String(row.member_id)})`);
          } else {
            assert.equal(row.plan_digest, hmac(planOf(i)), `plan code of ${String(row.member_id)}`);
          }
        }
        assert.ok(missing > 0);
      } finally {
        session.close();
      }
    });
  }

  test('a governed read shows the same hex, rebuilt from the halves', async () => {
    const result = await platform.query(
      `select member_id, ssn, plan_code from members.replaced where member_id in ('m1', 'm11', 'm12345') order by member_id`,
      { principal: 'ana@example.org' },
    );
    assert.match(result.guarded.sql, /CAST\(plan_code__hash_hi AS BLOB\)/);
    assert.deepEqual(result.rows, [
      { member_id: 'm1', ssn: hmac(ssnOf(1)), plan_code: hmac(planOf(1)) },
      { member_id: 'm11', ssn: hmac(ssnOf(11)), plan_code: null },
      { member_id: 'm12345', ssn: hmac(ssnOf(12345)), plan_code: hmac(planOf(12345)) },
    ]);
  });
});
