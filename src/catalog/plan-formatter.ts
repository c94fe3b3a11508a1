import type {
  Declassification,
  DefinitionDiff,
  Plan,
  RowFilterReview,
  SchemaChange,
  SensitivityChange,
} from './plan.ts';
import type { SchemaFieldChange } from './schema-diff.ts';

const FIELD_MARKERS: Record<SchemaFieldChange['kind'], string> = {
  added: '+',
  removed: '-',
  type_changed: '~',
  number_reused: '!',
  nullability_changed: '~',
  annotation_changed: '~',
};

/**
 * A plan as people read it (like `terraform plan` or `dbt`): `+` added, `~` changed, `-` removed, field
 * changes under their table with BREAKING markers, downstream impact and whom to notify, then refusals.
 */
export function formatPlan(plan: Plan): string {
  const comparison = plan.comparison;
  const against = comparison
    ? `Plan against ${comparison.revision} (${comparison.commit.slice(0, 12)}), as if it were applied\n\n`
    : '';
  const baseProblems = formatBaseProblems(plan);
  if (plan.isEmpty) {
    const review = [
      formatDeclassifications(plan.declassifications, plan.comparison?.newDeclassifications),
      formatRowFilterReviews(plan.rowFiltersToReview),
      baseProblems,
    ].filter((block) => block.length > 0);
    const matches = comparison
      ? `No changes: the definitions match ${comparison.revision}.`
      : 'No changes: the catalog matches the definitions.';
    return `${against}${matches}\n${review.map((block) => `\n${block.join('\n')}\n`).join('')}`;
  }
  const lines: string[] = [];
  if (against) lines.push(against.trimEnd(), '');
  const schemaChanges = new Map(plan.schemaChanges.map((change) => [change.table, change]));

  formatSection(lines, 'Tables', plan.tables, {
    added: (name) => {
      const change = schemaChanges.get(name);
      return change
        ? `${name}  (schema version ${change.toVersion}, ${countFields(change.changes.length)})`
        : `${name}  (schema inferred from its projection)`;
    },
    details: (name) => {
      const change = schemaChanges.get(name);
      return change && change.fromVersion !== undefined ? formatFieldChanges(change) : [];
    },
  });
  formatSection(lines, 'Tasks', plan.tasks);
  formatSection(lines, 'Owners', plan.owners);
  formatSection(lines, 'Roles', plan.roles);
  formatSection(lines, 'Principals', plan.principals);

  if (comparison && comparison.sensitivityChanges.length > 0) {
    lines.push('Sensitivity');
    for (const change of comparison.sensitivityChanges) {
      const describe = (protection: SensitivityChange['to'] | undefined) =>
        protection === undefined
          ? '(new column)'
          : protection.sensitivity
            ? `${protection.sensitivity} ${protection.mask}`
            : 'not sensitive';
      lines.push(
        `  ${change.weakened ? '!' : '~'} ${change.table}.${change.column}: ${describe(change.from)} → ${describe(change.to)}${change.weakened ? '  DECLASSIFIED' : ''}`,
      );
    }
    lines.push('');
  }
  if (comparison && comparison.accessChanges.length + comparison.membershipChanges.length > 0) {
    lines.push('Access');
    for (const change of comparison.accessChanges) lines.push(`  ${change.text}`);
    for (const change of comparison.membershipChanges) lines.push(`  ${change.text}`);
    lines.push('');
  }

  if (plan.impact.length > 0) {
    lines.push('Downstream impact');
    for (const impact of plan.impact) {
      lines.push(`  ${impact.table}`);
      lines.push(`      downstream: ${impact.downstream.join(', ') || '(none)'}`);
      lines.push(`      notify: ${impact.owners.join(', ') || '(nobody)'}`);
    }
    lines.push('');
  }

  const review = formatDeclassifications(plan.declassifications, plan.comparison?.newDeclassifications);
  if (review.length > 0) lines.push(...review, '');
  const rowFilters = formatRowFilterReviews(plan.rowFiltersToReview);
  if (rowFilters.length > 0) lines.push(...rowFilters, '');

  if (baseProblems.length > 0) lines.push(...baseProblems, '');

  if (plan.refusals.length > 0) {
    lines.push('Refused: apply will not proceed');
    for (const refusal of plan.refusals) lines.push(`  ! ${refusal}`);
    lines.push('');
  }

  if (comparison) {
    const reviewers = comparison.reviewers.map(
      (reviewer) =>
        `${reviewer.owner}${reviewer.members.length > 0 ? ` (${reviewer.members.join(', ')})` : ''}`,
    );
    lines.push(`Review needed from: ${reviewers.join(', ') || 'nobody'}`, '');
  }

  lines.push(summarize(plan));
  return `${lines.join('\n')}\n`;
}

/** The base revision's own problems: the plan compared with what loaded of it. */
function formatBaseProblems(plan: Plan): string[] {
  const comparison = plan.comparison;
  if (!comparison || comparison.baseProblems.length === 0) return [];
  return [
    `Problems at ${comparison.revision} (the plan compares with what loaded of it)`,
    ...comparison.baseProblems.map((problem) => `  ! ${problem}`),
  ];
}

/**
 * Columns shown in clear although derived from a sensitive column: declared on purpose or by
 * mistake, a reviewer decides. Listed on every plan, changed or not.
 */
function formatDeclassifications(declassifications: Declassification[], fresh: string[] = []): string[] {
  if (declassifications.length === 0) return [];
  const isNew = new Set(fresh);
  return [
    'Declassifications to review (derived from sensitive columns, declared without sensitivity: shown in clear)',
    ...declassifications.map(
      (entry) =>
        `  ! ${entry.table}.${entry.column}${isNew.has(`${entry.table}.${entry.column}`) ? ' (new)' : ''}  ← ${entry.from} (${entry.sensitivity}); ` +
        `declare \`sensitivity: ${entry.sensitivity}\` with a mask on the field to keep it protected`,
    ),
  ];
}

/**
 * Derived tables that every principal reads unfiltered although an upstream row filter exists:
 * its columns do not reach them as they are. Listed on every plan until a role declares a filter.
 */
function formatRowFilterReviews(reviews: RowFilterReview[]): string[] {
  if (reviews.length === 0) return [];
  return [
    'Row filters to review (an upstream row filter cannot follow the rows: its columns are aggregated away or transformed)',
    ...reviews.map(
      (entry) =>
        `  ! ${entry.table}  ← ${entry.upstream}: ${entry.filter} (${entry.columns.join(', ') || 'its columns'} not kept); ` +
        `declare a row filter for ${entry.table} in a role, possibly "true"`,
    ),
  ];
}

interface SectionFormat {
  added?: (name: string) => string;
  details?: (name: string) => string[];
}

function formatSection(
  lines: string[],
  title: string,
  diff: DefinitionDiff,
  format: SectionFormat = {},
): void {
  if (diff.added.length + diff.changed.length + diff.removed.length === 0) return;
  lines.push(title);
  for (const name of diff.added) lines.push(`  + ${format.added?.(name) ?? name}`);
  for (const { name, changes } of diff.changed) {
    lines.push(`  ~ ${name}`);
    for (const change of changes) lines.push(`      ${change}`);
    for (const detail of format.details?.(name) ?? []) lines.push(`          ${detail}`);
  }
  for (const name of diff.removed) lines.push(`  - ${name}`);
  lines.push('');
}

function formatFieldChanges(change: SchemaChange): string[] {
  return change.changes.map(
    (fieldChange) =>
      `${FIELD_MARKERS[fieldChange.kind]} ${fieldChange.field}: ${fieldChange.detail}${fieldChange.breaking ? '  BREAKING' : ''}`,
  );
}

function summarize(plan: Plan): string {
  const diffs = [plan.tables, plan.tasks, plan.owners, plan.roles, plan.principals];
  const count = (pick: (diff: DefinitionDiff) => unknown[]): number =>
    diffs.reduce((total, diff) => total + pick(diff).length, 0);
  const breaking = plan.schemaChanges.filter((change) => change.breaking).length;
  let summary = `Plan: ${count((diff) => diff.added)} to add, ${count((diff) => diff.changed)} to change, ${count((diff) => diff.removed)} to remove.`;
  if (breaking > 0) summary += ` ${breaking} breaking schema change${breaking === 1 ? '' : 's'}.`;
  if (plan.refusals.length > 0)
    summary += ` Apply refused: ${plan.refusals.length} problem${plan.refusals.length === 1 ? '' : 's'} to fix.`;
  return summary;
}

function countFields(count: number): string {
  return count === 1 ? '1 field' : `${count} fields`;
}
