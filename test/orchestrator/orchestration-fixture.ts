/**
 * A small catalog repo for orchestration tests, written into a temp folder: one ingestion root over a
 * CSV file, a chain and a diamond of projections below it, and helpers to wait on the catalog and to
 * run `tessera serve` as a child process that is always killed when the test ends.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { Platform } from '../../src/platform.ts';
import { writeRepo } from '../support/cli.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/tessera.js');

/** Every projection of the repo with the tables it reads: a chain and a diamond. */
export const PROJECTIONS = {
  build_daily: { target: 'mart.daily', reads: ['raw.readings'] },
  build_weekly: { target: 'mart.weekly', reads: ['mart.daily'] },
  build_high: { target: 'mart.high', reads: ['raw.readings'] },
  build_low: { target: 'mart.low', reads: ['raw.readings'] },
  build_spread: { target: 'mart.spread', reads: ['mart.high', 'mart.low'] },
} as const;

const PROJECTION_SQL: Record<keyof typeof PROJECTIONS, string> = {
  build_daily: 'select day, sum(value) as total from raw.readings group by day',
  build_weekly: 'select count(*) as days, sum(total) as total from mart.daily',
  build_high: 'select max(value) as high from raw.readings',
  build_low: 'select min(value) as low from raw.readings',
  build_spread: 'select high - low as spread from mart.high, mart.low',
};

export interface RepoOptions {
  /** The whole tessera.yaml (default: just the project name). */
  settings?: string;
  /** The ingestion task's schedule line, e.g. `{ on: source_change, poll: 200ms }`; none by default. */
  schedule?: string;
  /** Extra YAML for the ingestion task (retries, timeout). */
  ingestExtra?: string;
  /** Extra task and table documents appended to the repo. */
  extraTasks?: string;
  extraTables?: string;
  /** Override the SQL of a projection. */
  sql?: Partial<Record<keyof typeof PROJECTIONS, string>>;
  /** Extra files (path → content). */
  files?: Record<string, string>;
  /** Leave the source file out (a run then fails until a test writes it). */
  withoutSource?: boolean;
}

/**
 * A gate a projection stops at until the test opens it: the projection's SQL reads a named pipe,
 * and DuckDB waits for a writer. A run is thus "running" for exactly as long as the test needs,
 * with no timing to get right. `open()` lets every run through, now and later.
 */
export interface Gate {
  /** The SQL of a `build_low` that waits at the gate (same output as the usual one, plus `passed`). */
  readonly lowSql: string;
  /** Let the waiting run (if any) through and every later run pass at once. */
  open(): Promise<void>;
  /** Close it again: the next run to reach it waits for the next `open()`. */
  close(): Promise<void>;
}

/** A closed gate in a temporary folder (removed when the test ends). */
export async function closedGate(t: TestContext): Promise<Gate> {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-gate-'));
  const pipe = join(folder, 'gate.csv');
  const makePipe = () => promisify(execFile)('mkfifo', [pipe]);
  await makePipe();
  const content = 'passed\nyes\n';
  let opened = false;
  const gate: Gate = {
    lowSql:
      'select min(value) as low, ' +
      `(select count(*) from read_csv('${pipe}', header = true, columns = {'passed': 'VARCHAR'})) as passed ` +
      'from raw.readings',
    async open() {
      if (opened) return;
      opened = true;
      // Read-write never blocks on a pipe (Linux): a reader already waiting gets the content and
      // then end of file when this closes; one that comes later finds a plain file.
      const handle = await open(pipe, 'r+');
      try {
        await handle.write(content);
        await writeFile(`${pipe}.next`, content);
        await rename(`${pipe}.next`, pipe);
      } finally {
        await handle.close();
      }
    },
    async close() {
      if (!opened) return;
      await rm(pipe);
      await makePipe();
      opened = false;
    },
  };
  // A run still waiting when the test ends (it failed half-way) is let through, so nothing hangs.
  t.after(async () => {
    await gate.open();
    await rm(folder, { recursive: true, force: true });
  });
  return gate;
}

export const READINGS_CSV = 'id,day,value\nr1,1,10\nr2,1,20\nr3,2,5\n';

/** Write the repo and return its path. */
export async function writeOrchestrationRepo(options: RepoOptions = {}): Promise<string> {
  const tables = [
    'kind: table\nname: raw.readings\nowner: team\nschema: schemas/raw.proto#raw.Reading\n',
    ...Object.values(PROJECTIONS).map(({ target }) => `kind: table\nname: ${target}\nowner: team\n`),
  ];
  const tasks = [
    [
      'kind: task',
      'name: ingest_readings',
      'type: ingestion',
      'target: raw.readings',
      'source: { type: csv, uri: data/readings.csv }',
      ...(options.schedule ? [`schedule: ${options.schedule}`] : []),
      ...(options.ingestExtra ? [options.ingestExtra] : []),
      '',
    ].join('\n'),
    ...Object.entries(PROJECTIONS).map(([name, { target }]) =>
      [
        'kind: task',
        `name: ${name}`,
        'type: projection',
        `target: ${target}`,
        `sql: ${JSON.stringify(options.sql?.[name as keyof typeof PROJECTIONS] ?? PROJECTION_SQL[name as keyof typeof PROJECTIONS])}`,
        '',
      ].join('\n'),
    ),
  ];
  return writeRepo({
    'tessera.yaml': options.settings ?? 'name: orchestration-test\n',
    'owners/team.yaml': 'kind: owner\nname: team\nmembers: [team@example.org]\n',
    'schemas/raw.proto': [
      'syntax = "proto3";',
      'package raw;',
      'import "tessera/options.proto";',
      '',
      '// One reading.',
      'message Reading {',
      '  string id = 1 [(tessera.field) = { primary_key: true }];',
      '  int64 day = 2;',
      '  int64 value = 3;',
      '}',
      '',
    ].join('\n'),
    'tables/tables.yaml': [...tables, ...(options.extraTables ? [options.extraTables] : [])].join('---\n'),
    'tasks/tasks.yaml': [...tasks, ...(options.extraTasks ? [options.extraTasks] : [])].join('---\n'),
    ...(options.withoutSource ? {} : { 'data/readings.csv': READINGS_CSV }),
    ...options.files,
  });
}

/** Open the platform on a repo and register its definitions. */
export async function openAppliedPlatform(repo: string): Promise<Platform> {
  const platform = await Platform.open({ repo });
  await platform.apply();
  return platform;
}

/** The repo's catalog, opened from the test process (SQLite in WAL mode: safe beside a server). */
export function openRepoCatalog(repo: string): Promise<CatalogStore> {
  return openCatalogStore(`sqlite:${join(repo, '.tessera', 'catalog.db')}`);
}

/** Poll `check` until it returns a value other than `undefined`/`false`; fail after `timeoutMs` saying `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
  }
}

/** A `tessera serve` child process. */
export interface ServerProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with the exit code (or signal) once it exits. */
  exited: Promise<number | NodeJS.Signals>;
}

/**
 * Start `tessera serve` on `repo` and wait until it says it is serving. The process is killed
 * (SIGKILL) when the test ends, whatever happened.
 */
export async function startServer(t: TestContext, repo: string, args: string[] = []): Promise<ServerProcess> {
  // Any free HTTP port and no PostgreSQL port: test files run in parallel, beside other servers.
  const child = spawn(
    process.execPath,
    [BIN, '--repo', repo, 'serve', '--port', '0', '--pg-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env },
    },
  );
  const exited = new Promise<number | NodeJS.Signals>((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit(signal ?? code ?? 0)),
  );
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  serversOf(repo).add(kill);
  t.after(kill);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(
    `tessera serve to start (stdout: ${stdout}; stderr: ${stderr.slice(-2000)})`,
    async () => {
      if (child.exitCode !== null) throw new Error(`tessera serve exited ${child.exitCode}: ${stderr}`);
      return stdout.includes('serving ');
    },
    90_000,
  );
  return { child, log: () => stderr, exited };
}

/** How to kill each server started on a repo (removing the repo kills them first). */
const servers = new Map<string, Set<() => Promise<void>>>();

function serversOf(repo: string): Set<() => Promise<void>> {
  const kills = servers.get(repo) ?? new Set<() => Promise<void>>();
  servers.set(repo, kills);
  return kills;
}

/**
 * Remove a repo folder (best effort), after killing the servers started on it: `t.after` hooks run
 * in the order they were added, and a server still writing into the repo makes the removal fail.
 */
export async function removeRepo(repo: string): Promise<void> {
  await Promise.all([...serversOf(repo)].map((kill) => kill()));
  servers.delete(repo);
  await rm(repo, { recursive: true, force: true });
}
