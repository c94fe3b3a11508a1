/**
 * A task's page: its definition and what triggers it, its runs (state, duration, rows, error) with
 * their logs, and rerun / backfill / cancel for the principals the API lets operate it.
 */
import { useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { Run, TaskSummary } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { Badge, ErrorMessage, formatDuration, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';

export function TaskPage({ name }: { name: string }) {
  const task = useApi(async () => {
    const found = (await api.tasks()).find((entry) => entry.name === name);
    if (!found) throw new ApiError(404, 'not_found', `task ${name} not found among the tasks you may see`);
    return found;
  }, [name]);
  return (
    <Loaded state={task} label={`task ${name}`}>
      {(definition) => <TaskView task={definition} />}
    </Loaded>
  );
}

/** A schedule as the repo would say it: `@hourly`, `cron 0 0 * * *`, `every 15 min`, `on source change`. */
export function describeSchedule(task: TaskSummary): string {
  const schedule = task.schedule as Record<string, unknown> | string | undefined;
  if (schedule === undefined || schedule === null)
    return task.type === 'projection'
      ? 'triggered when a table it reads is published'
      : 'no schedule: runs when asked';
  if (typeof schedule === 'string') return schedule;
  const minutes = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms / 60_000)} min` : '');
  switch (schedule.kind) {
    case 'cron':
      return `cron ${String(schedule.expression)}`;
    case 'every':
      return `every ${minutes(schedule.intervalMs)}`;
    case 'source_change':
      return `when its source changes (checked every ${minutes(schedule.pollMs)})`;
    default:
      return JSON.stringify(schedule);
  }
}

function TaskView({ task }: { task: TaskSummary }) {
  const runs = useApi(() => api.taskRuns(task.name), [task.name]);
  const actions = useApi(
    () => api.actions(task.name).catch(() => ({ allowed: false, reason: 'run actions are not available' })),
    [task.name],
  );
  const [actionError, setActionError] = useState<Error>();
  const [message, setMessage] = useState<string>();
  const act = async (label: string, action: () => Promise<unknown>) => {
    setActionError(undefined);
    setMessage(undefined);
    try {
      await action();
      setMessage(`${label}: done`);
      runs.reload();
    } catch (caught) {
      setActionError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  };
  const allowed = actions.data?.allowed === true;
  return (
    <article aria-labelledby="task-title">
      <h1 id="task-title">{task.name}</h1>
      <dl className="facts">
        <div>
          <dt>Type</dt>
          <dd>{task.type}</dd>
        </div>
        <div>
          <dt>Writes</dt>
          <dd>
            <a href={href.table(task.target)}>{task.target}</a>
            {task.mode && <span className="muted"> ({task.mode})</span>}
          </dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>{describeSchedule(task)}</dd>
        </div>
        {task.dependsOn && task.dependsOn.length > 0 && (
          <div>
            <dt>Depends on</dt>
            <dd>{task.dependsOn.join(', ')}</dd>
          </div>
        )}
      </dl>
      <section aria-labelledby="definition-title">
        <h2 id="definition-title">Definition</h2>
        {task.sql ? (
          <pre aria-label="Projection SQL">
            <code>{task.sql}</code>
          </pre>
        ) : (
          <p className="muted">
            A {task.type} writing {task.target}
            {task.mode ? ` (mode ${task.mode})` : ''}, {describeSchedule(task)}. Its full definition (source,
            SQL, retries) lives in the catalog repo, where secrets stay as <code>${'{VAR}'}</code>.
          </p>
        )}
      </section>
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        <div className="actions" role="group" aria-label="Task actions">
          {allowed ? (
            <>
              <button type="button" onClick={() => void act('Rerun', () => api.rerun(task.name))}>
                Rerun
              </button>
              <button type="button" onClick={() => void act('Backfill', () => api.backfill(task.name))}>
                Backfill
              </button>
            </>
          ) : (
            <p className="muted">{actions.data?.reason ?? 'checking whether you may operate this task…'}</p>
          )}
          <button type="button" onClick={runs.reload}>
            Refresh runs
          </button>
        </div>
        {message && <p role="status">{message}</p>}
        {actionError && <ErrorMessage error={actionError} />}
        <Loaded state={runs} label="runs">
          {(list) => (
            <div className="scroll-x">
              <RunsTable
                runs={list}
                canCancel={allowed}
                onCancel={(run) => void act(`Cancel ${run.id}`, () => api.cancel(run.id))}
              />
            </div>
          )}
        </Loaded>
      </section>
    </article>
  );
}

function RunsTable({
  runs,
  canCancel,
  onCancel,
}: {
  runs: Run[];
  canCancel: boolean;
  onCancel(run: Run): void;
}) {
  const [open, setOpen] = useState<string>();
  if (runs.length === 0) return <p>No runs yet.</p>;
  return (
    <table aria-label="Runs" className="runs">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">State</th>
          <th scope="col">Trigger</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Rows</th>
          <th scope="col">Published</th>
          <th scope="col">Logs</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <RunRow
            key={run.id}
            run={run}
            open={open === run.id}
            onToggle={() => setOpen(open === run.id ? undefined : run.id)}
            canCancel={canCancel && (run.status === 'queued' || run.status === 'running')}
            onCancel={() => onCancel(run)}
          />
        ))}
      </tbody>
    </table>
  );
}

function RunRow(props: { run: Run; open: boolean; onToggle(): void; canCancel: boolean; onCancel(): void }) {
  const { run } = props;
  return (
    <>
      <tr>
        <td>
          <code>{run.id}</code>
        </td>
        <td>
          <Badge kind={run.status}>{run.status}</Badge>
          {props.canCancel && (
            <button type="button" onClick={props.onCancel} aria-label={`Cancel run ${run.id}`}>
              Cancel
            </button>
          )}
        </td>
        <td>{run.trigger}</td>
        <td>{run.startedAt ? new Date(run.startedAt).toLocaleString() : '—'}</td>
        <td>{formatDuration(run.startedAt, run.finishedAt)}</td>
        <td>
          {run.rowsWritten?.toLocaleString() ?? '—'}
          {run.badRows ? <span className="muted"> ({run.badRows} bad)</span> : null}
        </td>
        <td>
          {run.published ? (
            <a href={href.table(run.published.table)}>
              {run.published.table}@{run.published.version}
            </a>
          ) : (
            '—'
          )}
        </td>
        <td>
          <button type="button" aria-expanded={props.open} onClick={props.onToggle}>
            {props.open ? 'Hide logs' : 'Show logs'}
            <span className="visually-hidden"> of run {run.id}</span>
          </button>
        </td>
      </tr>
      {run.error && (
        <tr className="run-error">
          <td colSpan={8}>
            <strong>Error:</strong> {run.error}
          </td>
        </tr>
      )}
      {props.open && (
        <tr>
          <td colSpan={8}>
            <RunLogs id={run.id} />
          </td>
        </tr>
      )}
    </>
  );
}

function RunLogs({ id }: { id: string }) {
  const logs = useApi(() => api.runLogs(id), [id]);
  return (
    <Loaded state={logs} label="logs">
      {(lines) =>
        lines.length === 0 ? (
          <p className="muted">No log lines.</p>
        ) : (
          <pre className="logs" aria-label={`Logs of run ${id}`}>
            {lines
              .map((line) => `${line.at} ${line.level.toUpperCase().padEnd(5)} ${line.message}`)
              .join('\n')}
          </pre>
        )
      }
    </Loaded>
  );
}
