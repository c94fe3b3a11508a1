import type { TaskGraph } from '../graph/index.ts';
import type { Definitions, ScheduleDef, TaskDef } from '../model/index.ts';
import { formatDuration } from './duration-text.ts';

/** How `tessera export airflow` writes the DAGs. */
export interface AirflowExportOptions {
  /** `bash` (default): a `BashOperator` per task; `kubernetes`: a `KubernetesPodOperator` running `image`. */
  operator?: 'bash' | 'kubernetes';
  /** The catalog repo's path where the tasks run (on the Airflow workers or in the pod). Default: the repo's own path. */
  repoPath?: string;
  /** The command that runs Tessera there. Default: `tessera`. */
  tesseraCommand?: string;
  /** The container image with Tessera and the catalog repo; required for `kubernetes`. */
  image?: string;
  /** The Kubernetes namespace of the pods. Default: Airflow's (the connection's). */
  namespace?: string;
}

/** One generated DAG file. */
export interface AirflowDag {
  /** `<dag id>.py`. */
  fileName: string;
  dagId: string;
  /** The DAG's tasks, in dependency order. */
  tasks: string[];
  /** `[upstream, downstream]` task pairs. */
  edges: [string, string][];
  /** The DAG's schedule as written in the file: a cron string, a `timedelta` expression, or `None`. */
  schedule: string;
  /** Python source. */
  content: string;
  /** What the DAG cannot express (shown by the CLI). */
  warnings: string[];
}

/**
 * The task graph as Airflow DAGs, one per connected component: every task of a component is in one
 * DAG with the same dependencies, each task calling `tessera run TASK --no-downstream` (Airflow
 * orders the downstream tasks, so Tessera must not run them too). A component's schedule is its root
 * tasks' schedule: a cron string as is, `every` as a `timedelta`. A component whose roots disagree,
 * or whose roots are `source_change` (Airflow cannot fire on file changes) or unscheduled, gets
 * `schedule=None` with a comment and a warning: trigger it from outside or give its roots one cron.
 * The files import from Airflow 3 (`airflow.sdk`, the standard provider) and fall back to Airflow 2.
 * Pure: reads nothing, writes nothing.
 */
export function exportAirflowDags(
  definitions: Definitions,
  graph: TaskGraph,
  options: AirflowExportOptions = {},
): AirflowDag[] {
  const operator = options.operator ?? 'bash';
  if (operator === 'kubernetes' && !options.image) {
    throw new Error(
      'the kubernetes operator needs an image (the container with Tessera and the catalog repo)',
    );
  }
  const tasksByName = new Map(definitions.tasks.map((task) => [task.name, task]));
  const project = pythonIdentifierPart(definitions.project.name);
  return connectedComponents(graph).map((component) => {
    const tasks = graph.topologicalOrder(component);
    const edges = tasks.flatMap((task) =>
      directUpstreamTasks(graph, task).map((upstream): [string, string] => [upstream, task]),
    );
    const roots = tasks.filter((task) => directUpstreamTasks(graph, task).length === 0);
    const dagId = `tessera_${project}__${pythonIdentifierPart(roots[0] ?? tasks[0]!)}`;
    const schedule = componentSchedule(roots.map((root) => tasksByName.get(root)!));
    const content = dagSource({
      dagId,
      description: `Tessera tasks ${tasks.join(', ')} of the catalog repo ${definitions.project.name}`,
      projectName: definitions.project.name,
      tasks: tasks.map((task) => tasksByName.get(task)!),
      edges,
      schedule,
      operator,
      options: { ...options, repoPath: options.repoPath ?? definitions.project.root },
    });
    return {
      fileName: `${dagId}.py`,
      dagId,
      tasks,
      edges,
      schedule: schedule.python,
      content,
      warnings: schedule.warnings,
    };
  });
}

interface ComponentSchedule {
  python: string;
  comment: string[];
  warnings: string[];
}

function componentSchedule(roots: TaskDef[]): ComponentSchedule {
  const describe = (task: TaskDef): string => `${task.name}: ${describeSchedule(task.schedule)}`;
  const keys = new Set(roots.map((root) => JSON.stringify(root.schedule ?? null)));
  const [only] = roots;
  if (
    keys.size === 1 &&
    only?.schedule &&
    only.schedule.kind !== 'source_change' &&
    only.schedule.kind !== 'stream'
  ) {
    if (only.schedule.kind === 'cron') {
      return { python: pythonString(only.schedule.expression), comment: [], warnings: [] };
    }
    return {
      python: `datetime.timedelta(milliseconds=${only.schedule.intervalMs})`,
      comment: [`every ${formatDuration(only.schedule.intervalMs)}`],
      warnings: [],
    };
  }
  const reason =
    keys.size > 1
      ? `its roots have different schedules (${roots.map(describe).join('; ')})`
      : only?.schedule?.kind === 'source_change'
        ? `${describe(only)}: Airflow has no schedule that fires when a file changes`
        : only?.schedule?.kind === 'stream'
          ? `${describe(only)}: Airflow has no schedule that runs a task again as soon as it ends`
          : `its root ${only ? only.name : ''} has no schedule`;
  return {
    python: 'None',
    comment: [
      `No schedule: ${reason}.`,
      'Trigger it from outside (`airflow dags trigger`, an Asset/Dataset event) or give its roots one cron schedule.',
    ],
    warnings: [`schedule=None: ${reason}`],
  };
}

function describeSchedule(schedule: ScheduleDef | undefined): string {
  if (!schedule) return 'no schedule';
  if (schedule.kind === 'cron') return `cron ${schedule.expression}`;
  if (schedule.kind === 'every') return `every ${formatDuration(schedule.intervalMs)}`;
  if (schedule.kind === 'stream') return 'on stream';
  return `on source_change (poll ${formatDuration(schedule.pollMs)})`;
}

interface DagSourceInput {
  dagId: string;
  description: string;
  projectName: string;
  tasks: TaskDef[];
  edges: [string, string][];
  schedule: ComponentSchedule;
  operator: 'bash' | 'kubernetes';
  options: AirflowExportOptions & { repoPath: string };
}

function dagSource(input: DagSourceInput): string {
  const { options } = input;
  const tessera = options.tesseraCommand ?? 'tessera';
  const lines: string[] = [
    `"""${input.description}."""`,
    `# Generated by \`tessera export airflow\` from the catalog repo ${input.projectName}: regenerate it rather than edit it.`,
    '# Each task runs `tessera run TASK --no-downstream`; Airflow orders the tasks as Tessera would.',
    'from __future__ import annotations',
    '',
    'import datetime',
    ...(input.operator === 'bash' ? ['import shlex'] : []),
    '',
    'try:  # Airflow 3',
    '    from airflow.sdk import DAG',
    'except ImportError:  # Airflow 2',
    '    from airflow import DAG',
  ];
  if (input.operator === 'bash') {
    lines.push(
      'try:  # Airflow 3, and Airflow 2 with the standard provider',
      '    from airflow.providers.standard.operators.bash import BashOperator',
      'except ImportError:  # Airflow 2',
      '    from airflow.operators.bash import BashOperator',
    );
  } else {
    lines.push(
      'try:  # cncf.kubernetes provider 7 and later',
      '    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator',
      'except ImportError:  # older providers',
      '    from airflow.providers.cncf.kubernetes.operators.kubernetes_pod import KubernetesPodOperator',
    );
  }
  lines.push('', `TESSERA = ${pythonString(tessera)}`, `REPO = ${pythonString(options.repoPath)}`);
  if (input.operator === 'kubernetes') lines.push(`IMAGE = ${pythonString(options.image!)}`);
  lines.push('');
  for (const comment of input.schedule.comment) lines.push(`# ${comment}`);
  lines.push(
    'with DAG(',
    `    dag_id=${pythonString(input.dagId)},`,
    `    description=${pythonString(input.description)},`,
    `    schedule=${input.schedule.python},`,
    '    start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),',
    '    catchup=False,',
    '    max_active_runs=1,',
    `    tags=["tessera", ${pythonString(input.projectName)}],`,
    ') as dag:',
    '    tasks = {}',
  );
  for (const task of input.tasks) lines.push(...taskSource(task, input.operator, options));
  for (const [upstream, downstream] of input.edges) {
    lines.push(`    tasks[${pythonString(upstream)}] >> tasks[${pythonString(downstream)}]`);
  }
  return `${lines.join('\n')}\n`;
}

function taskSource(task: TaskDef, operator: 'bash' | 'kubernetes', options: AirflowExportOptions): string[] {
  const settings: string[] = [];
  // Tessera counts every attempt; Airflow counts the retries after the first.
  const retries = task.retries.attempts - 1;
  if (retries > 0) {
    settings.push(
      `retries=${retries}`,
      `retry_delay=datetime.timedelta(milliseconds=${task.retries.backoffMs})`,
      'retry_exponential_backoff=True',
    );
  }
  if (task.timeoutMs !== undefined)
    settings.push(`execution_timeout=datetime.timedelta(milliseconds=${task.timeoutMs})`);
  const lines = [
    `    tasks[${pythonString(task.name)}] = ${operator === 'bash' ? 'BashOperator' : 'KubernetesPodOperator'}(`,
  ];
  lines.push(`        task_id=${pythonString(task.name)},`);
  if (operator === 'bash') {
    // A trailing space keeps Airflow from reading a command that ends in `.sh` as a template file.
    lines.push(
      `        bash_command=f"{TESSERA} --repo {shlex.quote(REPO)} run ${task.name} --no-downstream ",`,
    );
  } else {
    lines.push(
      `        name=${pythonString(`tessera-${task.name}`.replaceAll('_', '-').slice(0, 63))},`,
      '        image=IMAGE,',
      '        cmds=[TESSERA],',
      `        arguments=["--repo", REPO, "run", ${pythonString(task.name)}, "--no-downstream"],`,
      '        get_logs=True,',
    );
    if (options.namespace) lines.push(`        namespace=${pythonString(options.namespace)},`);
  }
  for (const setting of settings) lines.push(`        ${setting},`);
  lines.push('    )');
  return lines;
}

/** Weakly connected components of the task graph, each sorted, in order of their first task. */
function connectedComponents(graph: TaskGraph): string[][] {
  const neighbours = new Map<string, Set<string>>();
  for (const task of graph.taskNames) neighbours.set(task, new Set());
  for (const task of graph.taskNames) {
    for (const upstream of directUpstreamTasks(graph, task)) {
      neighbours.get(task)!.add(upstream);
      neighbours.get(upstream)?.add(task);
    }
  }
  const seen = new Set<string>();
  const components: string[][] = [];
  for (const start of graph.topologicalOrder()) {
    if (seen.has(start)) continue;
    const component: string[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      const task = stack.pop()!;
      component.push(task);
      for (const next of neighbours.get(task) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    components.push(component.sort());
  }
  return components;
}

function directUpstreamTasks(graph: TaskGraph, task: string): string[] {
  return [
    ...new Set(
      graph.upstreamTables(task).flatMap((table) => {
        const producer = graph.producerOf(table);
        return producer && producer !== task ? [producer] : [];
      }),
    ),
  ].sort();
}

/** A Python string literal (JSON's escapes are Python's too). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

/** Letters, digits and `_` only, for DAG ids and file names. */
function pythonIdentifierPart(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}
