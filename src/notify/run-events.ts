import { randomUUID } from 'node:crypto';
import type { CheckResult, Incident, MonitoringEvent, Run } from '../model/index.ts';

/**
 * Incident keys: events with the same key share one incident (SPEC §4: same cause = task + failure
 * kind; a table's freshness is its own cause).
 */
export const incidentKeys = {
  taskFailed: (task: string): string => `task:${task}:task_failed`,
  validationFailed: (task: string): string => `task:${task}:validation_failed`,
  validationWarned: (task: string): string => `task:${task}:validation_warn`,
  stale: (table: string): string => `table:${table}:sla_missed`,
  staleWarning: (table: string): string => `table:${table}:sla_warn`,
};

/** What the runner knows when it records a run's outcome. */
export interface RunOutcome {
  run: Run;
  /** The task's target; absent where only the run is at hand (a dead process's run). */
  table?: string;
  /** Checks that failed: the error ones failed the run, the warn ones let it publish. */
  failedChecks: CheckResult[];
  /** A failure that will be retried: nothing to tell yet (the last attempt's failure is told). */
  willRetry?: boolean;
  /** The task's incidents open before this outcome: a success closes them. */
  openIncidents: Incident[];
  /** The version a success published. */
  publishedVersion?: number;
  at: string;
}

/**
 * The events a run outcome means, recorded in the same transaction as the outcome: a failure
 * (`validation_failed` when checks stopped publication, `task_failed` otherwise), a warning
 * (`validation_failed` of severity `warning` on a published version), and one `recovered` per open
 * incident a success closes. Skipped and cancelled runs mean nothing to monitoring: a skip is the
 * consequence of an upstream failure already told.
 */
export function runOutcomeEvents(outcome: RunOutcome): MonitoringEvent[] {
  const { run, table, at } = outcome;
  const common = {
    ...(table !== undefined ? { table } : {}),
    task: run.task,
    runId: run.id,
    attempt: run.attempt,
    at,
  };
  const subject = table ?? `task ${run.task}`;
  const errors = outcome.failedChecks.filter((check) => check.severity === 'error');
  const warnings = outcome.failedChecks.filter((check) => check.severity === 'warn');

  if (run.status === 'failed') {
    if (outcome.willRetry) return [];
    const validation = errors.length > 0;
    return [
      {
        id: randomUUID(),
        kind: validation ? 'validation_failed' : 'task_failed',
        severity: 'error',
        cause: `${subject} not published: ${notificationCause(run.error ?? 'the run failed')}`,
        incidentKey: validation ? incidentKeys.validationFailed(run.task) : incidentKeys.taskFailed(run.task),
        ...common,
      },
    ];
  }
  if (run.status !== 'succeeded') return [];

  const events: MonitoringEvent[] = [];
  const published =
    outcome.publishedVersion === undefined ? 'published' : `published version ${outcome.publishedVersion}`;
  if (warnings.length > 0) {
    events.push({
      id: randomUUID(),
      kind: 'validation_failed',
      severity: 'warning',
      cause: `${subject} ${published} with warnings: ${warnings.map(describeFailedCheck).join('; ')}`,
      incidentKey: incidentKeys.validationWarned(run.task),
      ...common,
    });
  }
  for (const incident of outcome.openIncidents) {
    // A warning that comes back is the same incident still open, not a recovery.
    if (incident.key === incidentKeys.validationWarned(run.task) && warnings.length > 0) continue;
    events.push({
      id: randomUUID(),
      kind: 'recovered',
      severity: 'info',
      cause: `${subject} ${published}: recovered from "${incident.cause}"`,
      incidentKey: incident.key,
      ...common,
    });
  }
  return events;
}

/** `expect_column_values_to_not_be_null(column=dob): 3 of 10 rows unexpected`. */
export function describeFailedCheck(check: CheckResult): string {
  const column = typeof check.args.column === 'string' ? `(${check.args.column})` : '';
  if (check.error) return `${check.expectation}${column}: ${check.error}`;
  const counted =
    check.unexpectedCount !== undefined && check.elementCount !== undefined
      ? `: ${check.unexpectedCount} of ${check.elementCount} rows unexpected`
      : check.observedValue !== undefined
        ? `: observed ${JSON.stringify(check.observedValue)}`
        : '';
  return `${check.expectation}${column}${counted}`;
}

/** What a notification shows in place of a value it quoted. */
export const VALUE_NOT_SHOWN = '[value not shown]';

/**
 * A run's error as a notification quotes it: its first line (with the line after it when the first
 * ends in `:`, where the details start), every quoted value replaced by VALUE_NOT_SHOWN. Messages
 * leave the governed space (email, Slack, PagerDuty, webhooks), and a value quoted by a bad row
 * (`value "1980-13-45" is not a valid date`) or an engine error (`Could not convert string
 * '987-65-4321'`) may be a patient's data. Names stay: Tessera quotes them with backticks. The
 * whole error stays in the run (`tessera runs`, `tessera logs`), behind the CLI's governance.
 */
export function notificationCause(error: string): string {
  const lines = error
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [first = '', second] = lines;
  const text = first.endsWith(':') && second !== undefined ? `${first} ${second}` : first;
  return firstLine(withoutQuotedValues(text));
}

/** `"…"` and `'…'` (not an apostrophe inside a word) replaced by VALUE_NOT_SHOWN. */
export function withoutQuotedValues(text: string): string {
  return text
    .replace(/"[^"\n]*"/g, VALUE_NOT_SHOWN)
    .replace(/(^|[^\p{L}\p{N}])'[^'\n]*'(?![\p{L}\p{N}])/gu, `$1${VALUE_NOT_SHOWN}`);
}

/** A message's first line, trimmed to what one notification line carries. */
export function firstLine(text: string, max = 400): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
