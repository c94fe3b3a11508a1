import type { Diagnostic } from '../diagnostics/index.ts';
import type { FieldDef, TableDef } from '../model/index.ts';
import { safeHarborIdentifierOf } from './safe-harbor-identifiers.ts';

/** The profile's name in `tessera.yaml` (`governance.profile`). */
export const HIPAA_SAFE_HARBOR = 'hipaa-safe-harbor';

/**
 * Lint for `governance.profile: hipaa-safe-harbor`: every PHI field carries a de-identifying
 * mask, SHOW_LAST_4 (which reveals part of the value) is refused, and a field whose name looks
 * like one of the 18 Safe Harbor identifiers must be annotated PHI with a mask.
 */
export function lintHipaaSafeHarbor(tables: readonly TableDef[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const table of tables) {
    for (const field of table.schema?.fields ?? []) lintField(table, field, '', diagnostics);
  }
  return diagnostics;
}

/** An upstream row filter that cannot follow the rows into a derived table (governance's `RowFilterFinding`). */
export interface UnfollowedRowFilter {
  /** The derived table. */
  table: string;
  /** The filtered upstream table. */
  upstream: string;
  /** The upstream predicate. */
  filter: string;
  /** The upstream columns it reads that the derived table does not keep. */
  columns: string[];
}

/**
 * Under the profile, a derived table whose upstream row filter cannot follow its rows (its columns
 * are aggregated away or transformed) is an error until a role declares a filter on it, possibly
 * `"true"`: somebody decides who reads those rows. Reported once per table, at its definition.
 */
export function lintUnfollowedRowFilters(
  tables: readonly TableDef[],
  findings: readonly UnfollowedRowFilter[],
): Diagnostic[] {
  const byTable = new Map<string, UnfollowedRowFilter[]>();
  for (const finding of findings)
    byTable.set(finding.table, [...(byTable.get(finding.table) ?? []), finding]);
  const diagnostics: Diagnostic[] = [];
  for (const [table, unfollowed] of byTable) {
    // A projection target without a table definition is already an error of its own.
    const def = tables.find((candidate) => candidate.name === table);
    if (!def) continue;
    const filters = unfollowed
      .map((finding) => {
        const columns = finding.columns.map((column) => `\`${column}\``).join(', ');
        return `the row filter \`${finding.filter}\` of ${finding.upstream} reads ${columns || 'columns'} the projection does not keep as is`;
      })
      .join('; ');
    diagnostics.push({
      code: 'row-filter-not-inherited',
      severity: 'error',
      message:
        `table ${table}: ${filters} (aggregated away, transformed or dropped), so it cannot follow the rows and every reader would see them all; ` +
        `the ${HIPAA_SAFE_HARBOR} profile requires a decision: declare a row filter for ${table} in a role, possibly "true" ` +
        `(\`row_filters: { ${table}: "true" }\`)`,
      at: def.at,
    });
  }
  return diagnostics;
}

function lintField(table: TableDef, field: FieldDef, prefix: string, diagnostics: Diagnostic[]): void {
  const path = `${prefix}${field.name}`;
  const at = field.at ?? table.at;
  const label = `table ${table.name}: field \`${path}\``;
  const element = field.type.kind === 'list' ? field.type.element : field.type;
  if (element.kind === 'struct') {
    for (const child of element.fields) lintField(table, child, `${path}.`, diagnostics);
  }
  if (field.sensitivity === 'PHI' && !field.mask) {
    const suggestion = safeHarborIdentifierOf(field.name, element)?.suggestedMask ?? 'HASH';
    diagnostics.push({
      code: 'phi-without-mask',
      severity: 'error',
      message: `${label} is PHI but has no mask; add \`mask: ${suggestion}\` (or another mask) to its \`(tessera.field)\` options`,
      at,
    });
  }
  if (field.mask === 'SHOW_LAST_4') {
    diagnostics.push({
      code: 'mask-not-allowed',
      severity: 'error',
      message: `${label} uses SHOW_LAST_4, which the ${HIPAA_SAFE_HARBOR} profile refuses because it reveals part of the identifier; use HASH or REDACT`,
      at,
    });
  }
  // A struct is judged by its fields; a PHI field without a mask is reported once, above.
  if (element.kind === 'struct' || field.sensitivity === 'PHI') return;
  const identifier = safeHarborIdentifierOf(field.name, element);
  if (!identifier) return;
  diagnostics.push({
    code: 'safe-harbor-identifier',
    severity: 'error',
    message:
      `${label} looks like a Safe Harbor identifier (${identifier.category}) but is not marked PHI with a mask; ` +
      `add \`[(tessera.field) = { sensitivity: PHI, mask: ${identifier.suggestedMask} }]\`, or rename the field if it holds no personal data`,
    at,
  });
}
