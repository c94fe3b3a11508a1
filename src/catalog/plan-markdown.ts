import type { DefinitionDiff, Plan, SchemaChange, SensitivityChange } from './plan.ts';

/** Lists longer than this fold into a `<details>` block, so a PR comment stays readable. */
const LONG_LIST = 10;

/**
 * A plan as a GitHub pull-request comment (GitHub-flavoured markdown): a heading with the counts,
 * the refusals first (they decide the check), then one section per kind of change with tables,
 * ⚠ on breaking changes, 🔒 on sensitivity, long lists folded, and the owners whose review it needs.
 */
export function formatPlanMarkdown(plan: Plan): string {
  const comparison = plan.comparison;
  const out: string[] = [];
  out.push(`## Tessera plan: ${headline(plan)}`, '');
  if (comparison) {
    out.push(
      `Compared with \`${comparison.revision}\` (\`${comparison.commit.slice(0, 12)}\`): what merging this change would do to the catalog.`,
      '',
    );
  }
  if (plan.refusals.length > 0) {
    out.push('> [!CAUTION]', '> **`tessera apply` would refuse this change:**');
    for (const refusal of plan.refusals) out.push(`> - ${refusal}`);
    out.push('');
  }
  if (plan.isEmpty) out.push('No definitions change.', '');

  const schemaChanges = new Map(plan.schemaChanges.map((change) => [change.table, change]));
  definitionSection(out, 'Tables', plan.tables, (name) => {
    const change = schemaChanges.get(name);
    if (!change) return 'new; schema inferred from its projection';
    return `new; schema version ${change.toVersion}, ${count(change.changes.length, 'field')}`;
  });
  schemaSection(
    out,
    plan.schemaChanges.filter((change) => change.fromVersion !== undefined),
  );
  definitionSection(out, 'Tasks', plan.tasks);
  definitionSection(out, 'Roles', plan.roles);
  definitionSection(out, 'Owners', plan.owners);
  definitionSection(out, 'Principals', plan.principals);

  if (comparison) {
    sensitivitySection(out, comparison.sensitivityChanges);
    if (comparison.accessChanges.length + comparison.membershipChanges.length > 0) {
      out.push('### Access', '');
      list(
        out,
        [
          ...comparison.accessChanges.map((change) => `${accessMarker(change.kind)}${change.text}`),
          ...comparison.membershipChanges.map((change) => change.text),
        ],
        'access changes',
      );
    }
  }

  if (plan.impact.length > 0) {
    out.push('### Downstream impact', '');
    const rows = plan.impact.map((impact) => [
      code(impact.table),
      impact.downstream.map(code).join(', ') || '(none)',
      impact.owners.join(', ') || '(nobody)',
    ]);
    table(out, ['Changed table', 'Downstream tables', 'Owners to tell'], rows);
  }

  if (plan.declassifications.length > 0) {
    const fresh = new Set(comparison?.newDeclassifications ?? []);
    out.push('### 🔒 Declassifications to review', '');
    out.push(
      'Columns derived from a sensitive column but declared without sensitivity: every reader sees them in clear.',
      '',
    );
    list(
      out,
      plan.declassifications.map(
        (entry) =>
          `${fresh.has(`${entry.table}.${entry.column}`) ? '**new** ' : ''}${code(`${entry.table}.${entry.column}`)} ← ${code(entry.from)} (${entry.sensitivity})`,
      ),
      'declassifications',
    );
  }
  if (plan.rowFiltersToReview.length > 0) {
    out.push('### Row filters to review', '');
    list(
      out,
      plan.rowFiltersToReview.map(
        (entry) =>
          `${code(entry.table)} ← ${code(entry.upstream)}: ${code(entry.filter)} does not follow (${entry.columns.map(code).join(', ') || 'its columns'} not kept)`,
      ),
      'row filters',
    );
  }

  if (comparison && comparison.baseProblems.length > 0) {
    out.push(
      `### Problems at \`${comparison.revision}\``,
      '',
      'The base revision does not load cleanly; the plan compares with what did load of it.',
      '',
    );
    list(out, comparison.baseProblems.map(code), 'problems');
  }

  if (comparison) {
    const reviewers = comparison.reviewers.map(
      (reviewer) =>
        `**${reviewer.owner}**${reviewer.members.length > 0 ? ` (${reviewer.members.join(', ')})` : ''}`,
    );
    out.push(`Review needed from: ${reviewers.join(', ') || 'nobody (no table, task or access changes)'}`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function headline(plan: Plan): string {
  const diffs = [plan.tables, plan.tasks, plan.owners, plan.roles, plan.principals];
  const total = (pick: (diff: DefinitionDiff) => unknown[]) =>
    diffs.reduce((sum, diff) => sum + pick(diff).length, 0);
  const parts = [
    `${total((diff) => diff.added)} to add, ${total((diff) => diff.changed)} to change, ${total((diff) => diff.removed)} to remove`,
  ];
  const breaking = plan.schemaChanges.filter((change) => change.breaking).length;
  if (breaking > 0) parts.push(`⚠ ${count(breaking, 'breaking schema change')}`);
  const sensitivity = plan.comparison?.sensitivityChanges.length ?? 0;
  if (sensitivity > 0) parts.push(`🔒 ${count(sensitivity, 'sensitivity change')}`);
  const access =
    (plan.comparison?.accessChanges.length ?? 0) + (plan.comparison?.membershipChanges.length ?? 0);
  if (access > 0) parts.push(count(access, 'access change'));
  if (plan.refusals.length > 0) parts.push('⛔ apply refused');
  return parts.join(' · ');
}

function definitionSection(
  out: string[],
  title: string,
  diff: DefinitionDiff,
  describeAdded: (name: string) => string = () => 'new',
): void {
  const rows = [
    ...diff.added.map((name) => ['➕', code(name), describeAdded(name)]),
    ...diff.changed.map(({ name, changes }) => ['✏️', code(name), changes.join('<br>')]),
    ...diff.removed.map((name) => ['➖', code(name), 'removed']),
  ];
  if (rows.length === 0) return;
  out.push(`### ${title}`, '');
  table(out, ['', title.replace(/s$/, ''), 'Change'], rows);
}

function schemaSection(out: string[], changes: SchemaChange[]): void {
  if (changes.length === 0) return;
  out.push('### Schema changes', '');
  const rows = changes.flatMap((change) =>
    change.changes.map((field) => [
      code(change.table),
      code(field.field),
      field.detail,
      field.breaking ? '⚠ breaking' : '',
    ]),
  );
  if (rows.length > 0) table(out, ['Table', 'Field', 'Change', ''], rows);
  for (const change of changes) {
    const versions = `schema_version ${change.fromVersion} → ${change.toVersion}`;
    const raised = change.versionRaised ? '`schema_version` raised' : '`schema_version` not raised';
    const verdict = change.breaking
      ? change.versionRaised
        ? `⚠ breaking, accepted: ${raised}`
        : `⚠ breaking, **refused**: ${raised}`
      : `compatible, ${raised}`;
    out.push(`- ${code(change.table)}: ${versions} (${verdict})`);
  }
  out.push('');
}

function sensitivitySection(out: string[], changes: SensitivityChange[]): void {
  if (changes.length === 0) return;
  out.push('### 🔒 Sensitivity', '');
  const describe = (protection: SensitivityChange['to'] | undefined, isNew: boolean) =>
    isNew
      ? '(new column)'
      : protection?.sensitivity
        ? `${protection.sensitivity}, masked ${protection.mask}`
        : 'not sensitive';
  table(
    out,
    ['Column', 'Before', 'After', ''],
    changes.map((change) => [
      code(`${change.table}.${change.column}`),
      describe(change.from, change.from === undefined),
      describe(change.to, false),
      change.weakened ? '⚠ declassified' : '',
    ]),
  );
}

function accessMarker(kind: string): string {
  switch (kind) {
    case 'granted':
    case 'column_shown':
    case 'column_unmasked':
    case 'row_filter_removed':
      return '🔓 ';
    case 'revoked':
    case 'column_hidden':
    case 'column_masked':
    case 'row_filter_added':
      return '🔒 ';
    default:
      return '';
  }
}

function list(out: string[], items: string[], what: string): void {
  const lines = items.map((item) => `- ${item}`);
  if (items.length > LONG_LIST) {
    out.push(`<details><summary>${items.length} ${what}</summary>`, '', ...lines, '', '</details>', '');
  } else {
    out.push(...lines, '');
  }
}

function table(out: string[], header: string[], rows: string[][]): void {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const body = [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
  if (rows.length > LONG_LIST) {
    out.push(`<details><summary>${rows.length} rows</summary>`, '', ...body, '', '</details>', '');
  } else {
    out.push(...body, '');
  }
}

/** A table cell: pipes escaped and newlines folded, so no value breaks the table. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
