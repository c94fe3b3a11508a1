// What a user sees when something goes wrong (SPEC §6): one line `error[CODE]: message` on stderr,
// or `{"error": {"code", "message"}}` on stdout with --json; exit 2 for bad usage, 1 for failed work;
// never a stack trace. And failures are reported with their real cause, never guessed away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tessera, writeRepo, type CliResult } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { main } from '../../src/cli/main.ts';

const READINGS_CSV = 'id,day,value\nr1,1,10\nr2,1,20\nr3,2,5\n';

/** Two ingestion tasks: one reads a path, one a glob; a principal for tokens. */
function smallRepo(): Promise<string> {
  return writeRepo({
    'tessera.yaml': 'name: errors-test\n',
    'owners/team.yaml': 'kind: owner\nname: team\nmembers: [team@example.org]\n',
    'access/principals.yaml': 'kind: principal\nname: reader\ngroups: [readers]\n',
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
    'tables/tables.yaml': [
      'kind: table\nname: raw.one\nowner: team\nschema: schemas/raw.proto#raw.Reading\n',
      'kind: table\nname: raw.many\nowner: team\nschema: schemas/raw.proto#raw.Reading\n',
    ].join('---\n'),
    'tasks/tasks.yaml': [
      'kind: task\nname: ingest_one\ntype: ingestion\ntarget: raw.one\nsource: { type: csv, uri: one/readings.csv }\n',
      'kind: task\nname: ingest_many\ntype: ingestion\ntarget: raw.many\nsource: { type: csv, uri: "many/*.csv" }\n',
    ].join('---\n'),
    'one/readings.csv': READINGS_CSV,
    'many/readings.csv': READINGS_CSV,
  });
}

/** The run's failure or the error a command reports, as JSON. */
function parseJson(result: CliResult): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** A failure is one line `error[code]: …` on stderr, nothing on stdout, no stack frame, the exit code. */
function assertOneLineError(result: CliResult, exit: number, code: string, message: RegExp): void {
  const what = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, exit, what);
  assert.doesNotMatch(result.stderr, /\n\s+at /, `a stack trace reached the user: ${what}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${what}`);
  assert.ok(lines[0]!.startsWith(`error[${code}]: `), what);
  assert.match(lines[0]!, message);
  assert.equal(result.stdout, '', what);
}

/** With --json: `{"error": {"code", "message"}}` on stdout and the same exit code. */
function assertJsonError(result: CliResult, exit: number, code: string, message: RegExp): void {
  assert.equal(result.code, exit, `${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at /);
  const body = parseJson(result) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
}

describe('a careless user gets one line with a code, never a stack trace', () => {
  let repo: string;
  let aFile: string;
  const cli = (args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  const executable = (args: string[]) => tessera(['--repo', repo, ...args], { env: { TESSERA_DEBUG: '' } });

  before(async () => {
    repo = await smallRepo();
    aFile = join(repo, 'one', 'readings.csv');
    assert.equal((await cli(['apply'])).code, 0);
    const run = await cli(['run', '--all']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  after(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  const cases: {
    name: string;
    args: () => string[];
    exit: number;
    code: string;
    message: RegExp;
    /** false where --json changes the command (it means `--format json`). */
    json?: boolean;
  }[] = [
    {
      name: '--repo naming a folder that does not exist',
      args: () => ['--repo', join(repo, 'missing'), 'tables'],
      exit: 2,
      code: 'usage',
      message: /catalog repo .*missing does not exist; pass --repo/,
    },
    {
      name: '--repo naming a file',
      args: () => ['--repo', aFile, 'validate'],
      exit: 2,
      code: 'usage',
      message: /readings\.csv is a file, not a folder/,
    },
    {
      name: 'a token lifetime beyond any date',
      args: () => ['token', 'create', '--principal', 'reader', '--expires-in', '99999999999d'],
      exit: 2,
      code: 'usage',
      message: /must end by the year 9999.*3650d.*never/,
    },
    {
      name: '--limit that is not a number (runs)',
      args: () => ['runs', '--limit', 'abc'],
      exit: 2,
      code: 'usage',
      message: /--limit must be a positive whole number, not abc/,
    },
    {
      name: '--limit that is not a number (audit)',
      args: () => ['audit', '--limit', '1.5'],
      exit: 2,
      code: 'usage',
      message: /--limit must be a positive whole number, not 1\.5/,
    },
    {
      name: 'an unknown run status',
      args: () => ['runs', '--status', 'done'],
      exit: 2,
      code: 'usage',
      message: /'done' is invalid.*succeeded/,
    },
    {
      name: 'show of an unknown table',
      args: () => ['show', 'raw.nope'],
      exit: 2,
      code: 'not_found',
      message: /table raw\.nope not found/,
    },
    {
      name: 'versions of an unknown table',
      args: () => ['versions', 'raw.nope'],
      exit: 2,
      code: 'not_found',
      message: /table raw\.nope not found/,
    },
    {
      name: 'lineage of an unknown table',
      args: () => ['lineage', 'raw.nope'],
      exit: 2,
      code: 'not_found',
      message: /table raw\.nope not found/,
    },
    {
      name: 'logs of an unknown run',
      args: () => ['logs', 'r-nope'],
      exit: 2,
      code: 'not_found',
      message: /run r-nope not found; `tessera runs`/,
    },
    {
      name: 'cancel of an unknown run',
      args: () => ['cancel', 'r-nope'],
      exit: 2,
      code: 'not_found',
      message: /run r-nope not found/,
    },
    {
      name: 'run of an unknown task',
      args: () => ['run', 'ingest_nope'],
      exit: 2,
      code: 'not_found',
      message: /unknown task\(s\): ingest_nope \(defined: ingest_many, ingest_one\)/,
    },
    {
      name: 'run without a task',
      args: () => ['run'],
      exit: 2,
      code: 'usage',
      message: /name at least one task, or pass --all, --select or --exclude/,
    },
    {
      name: 'a bad --format',
      args: () => ['query', '--format', 'xml', 'select 1'],
      exit: 2,
      code: 'usage',
      message: /--format must be one of table, csv, json, not xml/,
      json: false,
    },
    {
      name: 'a query with a syntax error',
      args: () => ['query', 'selec * from raw.one'],
      exit: 1,
      code: 'query_refused',
      message: /syntax error at or near "selec"/,
    },
    {
      name: 'a query naming a column that does not exist (a two-line engine message)',
      args: () => ['query', 'select valu from raw.one'],
      exit: 1,
      code: 'query_failed',
      message: /Referenced column "valu" not found in FROM clause!\s+Candidate bindings: "value"/,
    },
    {
      name: 'an unknown command',
      args: () => ['tabels'],
      exit: 2,
      code: 'usage',
      message: /unknown command 'tabels' \(Did you mean tables\?\); see `tessera --help`/,
    },
    {
      name: 'a missing argument',
      args: () => ['show'],
      exit: 2,
      code: 'usage',
      message: /missing required argument 'table'/,
    },
    {
      name: 'export to a folder under a file',
      args: () => ['export', 'airflow', '--out', join(aFile, 'dags')],
      exit: 1,
      code: 'io',
      message: /cannot write the DAG files to --out .*readings\.csv\/dags: ENOTDIR/,
    },
    {
      name: 'init under a file',
      args: () => ['init', join(aFile, 'new-repo')],
      exit: 1,
      code: 'io',
      message: /cannot write the catalog repo to .*readings\.csv\/new-repo: ENOTDIR/,
    },
    {
      name: 'schema export under a file',
      args: () => ['schema', 'export', join(aFile, 'json-schemas')],
      exit: 1,
      code: 'io',
      message: /cannot write the JSON Schemas to .*readings\.csv\/json-schemas: ENOTDIR/,
    },
  ];

  for (const item of cases) {
    test(`${item.name}: exit ${item.exit}, error[${item.code}]`, async () => {
      assertOneLineError(await cli(item.args()), item.exit, item.code, item.message);
    });
    if (item.json === false) continue;
    test(`${item.name}, with --json: {"error": {"code": "${item.code}", …}} on stdout`, async () => {
      assertJsonError(await cli(['--json', ...item.args()]), item.exit, item.code, item.message);
    });
  }

  test('the executable reports the same way: one line, exit 2, or JSON on stdout', async () => {
    const args = ['token', 'create', '--principal', 'reader', '--expires-in', '99999999999d'];
    assertOneLineError(await executable(args), 2, 'usage', /must end by the year 9999/);
    const missing = ['--repo', join(repo, 'missing'), 'tables'];
    assertJsonError(await executable(['--json', ...missing]), 2, 'usage', /does not exist/);
  });

  test('no command at all shows the help and exits 2', async () => {
    const result = await executable([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage: tessera/);
    assert.match(result.stderr, /error\[usage\]: name a command/);
  });

  test('--help is not an error', async () => {
    const result = await executable(['show', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage: tessera show/);
  });
});

describe('failures keep their real cause', () => {
  let repo: string;
  const cli = (args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  const runError = async (task: string): Promise<{ code: number; error: string }> => {
    const result = await cli(['--json', 'run', task]);
    const runs = parseJson(result) as { task: string; status: string; error?: string }[];
    const run = runs.find((candidate) => candidate.task === task)!;
    assert.equal(run.status, 'failed', JSON.stringify(run));
    return { code: result.code, error: run.error ?? '' };
  };

  before(async () => {
    repo = await smallRepo();
    assert.equal((await cli(['apply'])).code, 0);
  });

  after(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  // Tests run as root, which reads a chmod 000 folder anyway; a symlink loop and a file where a
  // folder should be are errors root meets too.
  test('a source path through a symlink loop fails with ELOOP, not "no file matches"', async () => {
    await rm(join(repo, 'one'), { recursive: true });
    await symlink('one', join(repo, 'one'));
    const { code, error } = await runError('ingest_one');
    assert.equal(code, 1);
    assert.match(error, /cannot read source uri `one\/readings\.csv`: ELOOP/);
    assert.doesNotMatch(error, /no file matches/);
  });

  test('a source glob whose folder is a symlink loop fails with ELOOP, not "no file matches"', async () => {
    await rm(join(repo, 'many'), { recursive: true });
    await symlink('many', join(repo, 'many'));
    const { error } = await runError('ingest_many');
    assert.match(error, /cannot read source uri `many\/\*\.csv`: ELOOP/);
    assert.doesNotMatch(error, /no file matches/);
  });

  test('a source glob whose folder is a file fails with ENOTDIR, not "no file matches"', async () => {
    await rm(join(repo, 'many'), { recursive: true, force: true });
    await writeFile(join(repo, 'many'), 'not a folder');
    const { error } = await runError('ingest_many');
    assert.match(error, /cannot read source uri `many\/\*\.csv`: ENOTDIR/);
  });

  test('a source folder that does not exist is still "no file matches"', async () => {
    await rm(join(repo, 'many'), { recursive: true, force: true });
    const { error } = await runError('ingest_many');
    assert.match(error, /no file matches source uri `many\/\*\.csv`/);
  });

  test('a source path that is a folder says to use a glob', async () => {
    await rm(join(repo, 'one'), { recursive: true, force: true });
    await mkdir(join(repo, 'one', 'readings.csv'), { recursive: true });
    const { error } = await runError('ingest_one');
    assert.match(error, /source uri `one\/readings\.csv` is a folder; name its files with a glob/);
  });

  test('a corrupt .tessera/server.json is an error naming the file, not "no server"', async () => {
    await mkdir(join(repo, '.tessera'), { recursive: true });
    await writeFile(join(repo, '.tessera', 'server.json'), '{"pid": 12');
    try {
      for (const args of [
        ['run', 'ingest_one'],
        ['backfill', 'ingest_one'],
      ]) {
        const result = await cli(args);
        assertOneLineError(
          result,
          1,
          'state',
          /\.tessera\/server\.json is corrupt \(.*JSON.*\); .*delete the file if none does/,
        );
      }
      assertJsonError(await cli(['--json', 'run', 'ingest_one']), 1, 'state', /server\.json is corrupt/);
    } finally {
      await rm(join(repo, '.tessera', 'server.json'), { force: true });
    }
  });

  test('a server.json that names no process is corrupt too', async () => {
    await writeFile(join(repo, '.tessera', 'server.json'), '{"hello": "world"}\n');
    try {
      assertOneLineError(await cli(['run', 'ingest_one']), 1, 'state', /does not name a pid and host/);
    } finally {
      await rm(join(repo, '.tessera', 'server.json'), { force: true });
    }
  });
});

describe('state that is in the way', () => {
  test('a file named .tessera where the catalog folder goes is error[io] naming it', async () => {
    const repo = await writeRepo({ 'owners/o.yaml': 'kind: owner\nname: o\n', '.tessera': 'a file' });
    try {
      const result = await tesseraInProcess(['--repo', repo, 'tables']);
      assertOneLineError(result, 1, 'io', /cannot create the folder .*\.tessera for the catalog: EEXIST/);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  test('a catalog file that is not a database is error[unavailable] naming it', async () => {
    const repo = await writeRepo({
      'owners/o.yaml': 'kind: owner\nname: o\n',
      '.tessera/catalog.db': 'not a database',
    });
    try {
      const result = await tesseraInProcess(['--repo', repo, '--json', 'tables']);
      assertJsonError(
        result,
        1,
        'unavailable',
        /cannot open the catalog at sqlite:.*catalog\.db: .*not a database/,
      );
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});

describe('an unexpected error', () => {
  /** Run main() while printing a result throws a plain Error, as a bug would. */
  async function withBrokenOutput(args: string[], debug: boolean): Promise<{ code: number; stderr: string }> {
    const repo = await writeRepo({ 'owners/o.yaml': 'kind: owner\nname: o\n' });
    const { log, error } = console;
    const debugBefore = process.env.TESSERA_DEBUG;
    const stderr: string[] = [];
    console.log = () => {
      throw new Error('the output stream broke\nin two lines');
    };
    console.error = (...values: unknown[]) =>
      void stderr.push(
        values.map((value) => (value instanceof Error ? value.stack : String(value))).join(' '),
      );
    if (debug) process.env.TESSERA_DEBUG = '1';
    else delete process.env.TESSERA_DEBUG;
    try {
      const code = await main(['node', 'tessera', '--repo', repo, ...args]);
      return { code, stderr: stderr.join('\n') };
    } finally {
      console.log = log;
      console.error = error;
      if (debugBefore === undefined) delete process.env.TESSERA_DEBUG;
      else process.env.TESSERA_DEBUG = debugBefore;
      await rm(repo, { recursive: true, force: true });
    }
  }

  test('is one line error[internal] without a stack, exit 1', async () => {
    const { code, stderr } = await withBrokenOutput(['tables'], false);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      'error[internal]: the output stream broke in two lines (an unexpected error, a bug in Tessera; TESSERA_DEBUG=1 prints its stack trace)',
    );
  });

  test('TESSERA_DEBUG=1 adds its stack trace', async () => {
    const { code, stderr } = await withBrokenOutput(['tables'], true);
    assert.equal(code, 1);
    assert.match(stderr, /Error: the output stream broke\n.*\n\s+at /s);
    assert.match(stderr, /error\[internal\]: the output stream broke/);
  });
});
