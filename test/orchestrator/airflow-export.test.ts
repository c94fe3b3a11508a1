// `tessera export airflow`: the generated Python compiles, and imported against a small stand-in of
// the Airflow modules it uses (Airflow 2 and Airflow 3 layouts), it builds the same task graph.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { buildTaskGraph, loadDefinitions } from '../../src/definitions/index.ts';
import { exportAirflowDags } from '../../src/orchestrator/index.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { removeRepo, writeOrchestrationRepo } from './orchestration-fixture.ts';

const run = promisify(execFile);

/** Three components: the main graph on a cron, a pair on `every`, and a lone `source_change` root. */
const EXTRA_TASKS = `kind: task
name: ingest_other
type: ingestion
target: raw.other
source: { type: csv, uri: data/other.csv }
schedule: { every: 15m }
retries: { attempts: 3, backoff: 30s }
timeout: 10m
---
kind: task
name: build_other_count
type: projection
target: mart.other_count
sql: select count(*) as n from raw.other
---
kind: task
name: ingest_watched
type: ingestion
target: raw.watched
source: { type: csv, uri: data/watched/*.csv }
schedule: { on: source_change, poll: 1m }
`;
const EXTRA_TABLES = `kind: table
name: raw.other
owner: team
schema: schemas/raw.proto#raw.Reading
---
kind: table
name: mart.other_count
owner: team
---
kind: table
name: raw.watched
owner: team
schema: schemas/raw.proto#raw.Reading
`;

/** The stand-in: just enough of Airflow for a DAG file to import and record what it declares. */
const STANDIN_CORE = `
import json

DAGS = []
_current = []


class DAG:
    def __init__(self, dag_id, schedule=None, **kwargs):
        self.dag_id = dag_id
        self.schedule = schedule
        self.kwargs = kwargs
        self.tasks = {}
        self.edges = []
        DAGS.append(self)

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False


class BaseOperator:
    def __init__(self, task_id, **kwargs):
        if not _current:
            raise RuntimeError("an operator was created outside a DAG")
        self.task_id = task_id
        self.kwargs = kwargs
        self.dag = _current[-1]
        self.dag.tasks[task_id] = self

    def __rshift__(self, other):
        self.dag.edges.append([self.task_id, other.task_id])
        return other
`;

const STANDIN_LAYOUTS: Record<string, Record<string, string>> = {
  airflow2: {
    'airflow/__init__.py': 'from airflow._standin import DAG  # noqa: F401\n',
    'airflow/_standin.py': STANDIN_CORE,
    'airflow/operators/__init__.py': '',
    'airflow/operators/bash.py':
      'from airflow._standin import BaseOperator\n\n\nclass BashOperator(BaseOperator):\n    layout = "airflow2"\n',
  },
  airflow3: {
    'airflow/__init__.py': '',
    'airflow/_standin.py': STANDIN_CORE,
    'airflow/sdk/__init__.py': 'from airflow._standin import DAG  # noqa: F401\n',
    'airflow/providers/__init__.py': '',
    'airflow/providers/standard/__init__.py': '',
    'airflow/providers/standard/operators/__init__.py': '',
    'airflow/providers/standard/operators/bash.py':
      'from airflow._standin import BaseOperator\n\n\nclass BashOperator(BaseOperator):\n    layout = "airflow3"\n',
    'airflow/providers/cncf/__init__.py': '',
    'airflow/providers/cncf/kubernetes/__init__.py': '',
    'airflow/providers/cncf/kubernetes/operators/__init__.py': '',
    'airflow/providers/cncf/kubernetes/operators/pod.py':
      'from airflow._standin import BaseOperator\n\n\nclass KubernetesPodOperator(BaseOperator):\n    layout = "airflow3"\n',
  },
};

/** Imports every DAG file with the stand-in first on the path and prints what they declared. */
const DRIVER = `
import json, runpy, sys
standin, *files = sys.argv[1:]
sys.path.insert(0, standin)
from airflow import _standin
for path in files:
    runpy.run_path(path)
print(json.dumps([
    {
        "dag_id": dag.dag_id,
        "schedule": repr(dag.schedule),
        "catchup": dag.kwargs.get("catchup"),
        "tasks": {
            task_id: {
                "operator": type(task).__name__,
                "layout": type(task).layout,
                "kwargs": {key: repr(value) for key, value in task.kwargs.items()},
            }
            for task_id, task in dag.tasks.items()
        },
        "edges": sorted(dag.edges),
    }
    for dag in _standin.DAGS
]))
`;

interface ImportedDag {
  dag_id: string;
  schedule: string;
  catchup: boolean;
  tasks: Record<string, { operator: string; layout: string; kwargs: Record<string, string> }>;
  edges: [string, string][];
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

async function importDags(layout: keyof typeof STANDIN_LAYOUTS, files: string[]): Promise<ImportedDag[]> {
  const standin = await mkdtemp(join(tmpdir(), `tessera-${layout}-`));
  try {
    await writeTree(standin, { ...STANDIN_LAYOUTS[layout], 'driver.py': DRIVER });
    const { stdout } = await run('python3', [join(standin, 'driver.py'), standin, ...files], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    return (JSON.parse(stdout) as ImportedDag[]).sort((a, b) => a.dag_id.localeCompare(b.dag_id));
  } finally {
    await rm(standin, { recursive: true, force: true });
  }
}

const MAIN_EDGES = [
  ['build_daily', 'build_weekly'],
  ['build_high', 'build_spread'],
  ['build_low', 'build_spread'],
  ['ingest_readings', 'build_daily'],
  ['ingest_readings', 'build_high'],
  ['ingest_readings', 'build_low'],
];

describe('tessera export airflow', () => {
  test('writes one DAG per connected component that compiles and builds the same graph on Airflow 2 and 3', async (t) => {
    const repo = await writeOrchestrationRepo({
      schedule: "'@hourly'",
      extraTasks: EXTRA_TASKS,
      extraTables: EXTRA_TABLES,
    });
    const out = await mkdtemp(join(tmpdir(), 'tessera-dags-'));
    t.after(async () => {
      await removeRepo(repo);
      await rm(out, { recursive: true, force: true });
    });

    const exported = await tesseraInProcess(['--repo', repo, '--json', 'export', 'airflow', '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(
      exported.stderr,
      /warning: tessera_orchestration_test__ingest_watched: schedule=None: ingest_watched: on source_change/,
    );
    const files = (await readdir(out)).sort();
    assert.deepEqual(files, [
      'tessera_orchestration_test__ingest_other.py',
      'tessera_orchestration_test__ingest_readings.py',
      'tessera_orchestration_test__ingest_watched.py',
    ]);
    const paths = files.map((file) => join(out, file));
    await run('python3', ['-m', 'py_compile', ...paths], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });

    for (const layout of ['airflow2', 'airflow3'] as const) {
      const [other, main, watched] = await importDags(layout, paths);
      assert.equal(main!.dag_id, 'tessera_orchestration_test__ingest_readings');
      assert.equal(main!.schedule, "'0 * * * *'", 'the root’s @hourly, expanded');
      assert.equal(main!.catchup, false);
      assert.deepEqual(Object.keys(main!.tasks).sort(), [
        'build_daily',
        'build_high',
        'build_low',
        'build_spread',
        'build_weekly',
        'ingest_readings',
      ]);
      assert.deepEqual(main!.edges, MAIN_EDGES);
      const spread = main!.tasks.build_spread!;
      assert.equal(spread.operator, 'BashOperator');
      assert.equal(spread.layout, layout, `imported from the ${layout} module path`);
      assert.equal(spread.kwargs.bash_command, `'tessera --repo ${repo} run build_spread --no-downstream '`);

      assert.equal(other!.schedule, 'datetime.timedelta(seconds=900)');
      assert.deepEqual(other!.edges, [['ingest_other', 'build_other_count']]);
      const ingestOther = other!.tasks.ingest_other!.kwargs;
      assert.equal(ingestOther.retries, '2', 'Airflow counts retries after the first attempt');
      assert.equal(ingestOther.retry_delay, 'datetime.timedelta(seconds=30)');
      assert.equal(ingestOther.retry_exponential_backoff, 'True');
      assert.equal(ingestOther.execution_timeout, 'datetime.timedelta(seconds=600)');

      assert.equal(watched!.schedule, 'None', 'source_change has no Airflow schedule');
      assert.deepEqual(Object.keys(watched!.tasks), ['ingest_watched']);
      assert.deepEqual(watched!.edges, []);
    }
  });

  test('the kubernetes operator runs tessera in the given image with the same arguments', async (t) => {
    const repo = await writeOrchestrationRepo({ schedule: "'@daily'" });
    const out = await mkdtemp(join(tmpdir(), 'tessera-dags-'));
    t.after(async () => {
      await removeRepo(repo);
      await rm(out, { recursive: true, force: true });
    });
    const { definitions, diagnostics } = await loadDefinitions(repo, { devMode: true });
    assert.deepEqual(
      diagnostics.filter((diagnostic) => diagnostic.severity === 'error'),
      [],
    );
    const graph = await buildTaskGraph(definitions);
    assert.throws(() => exportAirflowDags(definitions, graph, { operator: 'kubernetes' }), /needs an image/);
    const [dag] = exportAirflowDags(definitions, graph, {
      operator: 'kubernetes',
      image: 'registry.example.org/tessera:1.2',
      repoPath: '/srv/catalog',
      namespace: 'data',
    });
    await writeFile(join(out, dag!.fileName), dag!.content);
    const [imported] = await importDags('airflow3', [join(out, dag!.fileName)]);
    assert.equal(imported!.schedule, "'0 0 * * *'");
    assert.deepEqual(imported!.edges, MAIN_EDGES);
    const task = imported!.tasks.build_weekly!;
    assert.equal(task.operator, 'KubernetesPodOperator');
    assert.equal(task.kwargs.image, "'registry.example.org/tessera:1.2'");
    assert.equal(task.kwargs.cmds, "['tessera']");
    assert.equal(
      task.kwargs.arguments,
      "['--repo', '/srv/catalog', 'run', 'build_weekly', '--no-downstream']",
    );
    assert.equal(task.kwargs.namespace, "'data'");
    assert.equal(task.kwargs.name, "'tessera-build-weekly'");
  });
});
