import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFiles, writeRepo } from './cli.ts';

/**
 * A small catalog repo in a real Git repository, for `plan --base`: members and their claims, a
 * projection downstream of members, two roles. `main` holds the base; `representativeChange` is
 * the pull request documented in docs/plan-example.md.
 */

const PROTO_HEADER = `syntax = "proto3";
package care;

import "tessera/options.proto";
`;

/** The members schema; `change` edits it. */
export function membersProto(options: { email: boolean; zipProtected: boolean }): string {
  const zip = options.zipProtected ? ' [(tessera.field) = { sensitivity: PHI, mask: ZIP3 }]' : '';
  return `${PROTO_HEADER}
// One row per member of the care plan.
message Member {
  string member_id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2 [(tessera.field) = { sensitivity: PII, mask: REDACT }];
  string state = 3;
  string zip = 4${zip};
${options.email ? '  optional string email = 5;\n' : ''}}

// Members enrolled before 2020, as the old system kept them.
message LegacyMember {
  string member_id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2 [(tessera.field) = { sensitivity: PII, mask: REDACT }];
}

// One row per claim a member filed.
message Claim {
  string claim_id = 1 [(tessera.field) = { primary_key: true }];
  string member_id = 2;
  double amount = 3;
}
`;
}

export function membersTable(schemaVersion: number): string {
  return `kind: table
name: care.members
owner: care-team
schema: schemas/care.proto#care.Member
schema_version: ${schemaVersion}
subscribers: [analytics]
---
kind: table
name: analytics.members_by_state
owner: analytics
description: Members per state.
---
kind: table
name: care.members_2019
owner: care-team
description: Members enrolled before 2020, loaded once.
schema: schemas/care.proto#care.LegacyMember
`;
}

const BASE_FILES: Record<string, string> = {
  'tessera.yaml': 'name: care\ncatalog: sqlite:.tessera/catalog.db\nstorage: file:.tessera/warehouse\n',
  '.gitignore': '.tessera/\n',
  'owners.yaml': `kind: owner
name: care-team
members: [alice@example.org]
---
kind: owner
name: analytics
members: [bob@example.org]
`,
  'schemas/care.proto': membersProto({ email: true, zipProtected: false }),
  'tables/care.yaml': membersTable(1),
  'tasks/members.yaml': `kind: task
name: ingest_members
type: ingestion
target: care.members
source: { type: csv, uri: data/members.csv }
schedule: '@daily'
---
kind: task
name: backfill_members
type: ingestion
target: care.members_2019
source: { type: csv, uri: data/members-2019.csv }
---
kind: task
name: build_members_by_state
type: projection
target: analytics.members_by_state
sql: select state, count(*) as members from care.members group by state
`,
  'access/roles.yaml': roles(false),
};

export function roles(analystReadsClaims: boolean): string {
  const claims = analystReadsClaims ? ', care.claims' : '';
  return `kind: role
name: analyst
members: [group:analytics]
grants:
  - tables: ['analytics.*', care.members${claims}]
row_filters:
  care.members: "state = principal_attr('state')"
---
kind: role
name: care_manager
members: [group:care]
grants:
  - tables: ['care.*']
unmask: [PII, PHI]
`;
}

/**
 * The documented pull request: `email` removed with `schema_version` raised, `zip` made PHI with
 * ZIP3, role analyst granted care.claims, a new table care.claims with its task and owner, and the
 * task backfill_members removed. `raiseVersion: false` leaves `schema_version` as it was.
 */
export async function representativeChange(
  repo: string,
  options: { raiseVersion?: boolean } = {},
): Promise<void> {
  const tasks = BASE_FILES['tasks/members.yaml']!.replace(
    /---\nkind: task\nname: backfill_members[\s\S]*?(?=---)/,
    '',
  );
  await writeFiles(repo, {
    'schemas/care.proto': membersProto({ email: false, zipProtected: true }),
    'tables/care.yaml': membersTable(options.raiseVersion === false ? 1 : 2),
    'tables/claims.yaml': `kind: table
name: care.claims
owner: claims-team
schema: schemas/care.proto#care.Claim
`,
    'tasks/members.yaml': tasks,
    'tasks/claims.yaml': `kind: task
name: ingest_claims
type: ingestion
target: care.claims
source: { type: ndjson, uri: data/claims.ndjson }
schedule: '@daily'
`,
    'owners.yaml': `${BASE_FILES['owners.yaml']}---
kind: owner
name: claims-team
members: [carol@example.org]
`,
    'access/roles.yaml': roles(true),
  });
}

/**
 * A temp Git repository whose `main` holds the base, checked out on branch `change`; returns the
 * catalog repo folder: the Git repository's root, or its `subfolder` (with another file beside it).
 */
export async function careRepoOnBranch(subfolder?: string): Promise<string> {
  const root = await writeRepo(subfolder ? { 'README.md': 'Not a catalog file.\n' } : BASE_FILES);
  const repo = subfolder ? join(root, subfolder) : root;
  if (subfolder) await writeFiles(repo, BASE_FILES);
  await git(root, 'init', '--quiet', '--initial-branch=main');
  await commitAll(root, 'the care catalog');
  await git(root, 'checkout', '--quiet', '-b', 'change');
  return repo;
}

export async function commitAll(repo: string, message: string): Promise<void> {
  await git(repo, 'add', '--all');
  await git(repo, 'commit', '--quiet', '-m', message);
}

const FIXED_DATE = '2026-01-05T09:00:00Z';

export async function git(repo: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'git',
    [
      '-c',
      'user.name=Tessera Test',
      '-c',
      'user.email=test@example.org',
      '-c',
      'commit.gpgsign=false',
      ...args,
    ],
    // Fixed dates: the same files make the same commits, so the golden example's sha is stable.
    { cwd: repo, env: { ...process.env, GIT_AUTHOR_DATE: FIXED_DATE, GIT_COMMITTER_DATE: FIXED_DATE } },
  );
  return stdout;
}

export function removeRepo(repo: string): Promise<void> {
  return rm(repo, { recursive: true, force: true });
}
