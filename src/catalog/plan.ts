import type { Definitions, FieldDef, Sensitivity, TableDef, TableRecord } from '../model/index.ts';
import { canonicalDefinition, sameDefinition } from './canonical-definition.ts';
import type { AppliedDefinitions } from './catalog-store.ts';
import { diffFields, type SchemaFieldChange } from './schema-diff.ts';

export type { FieldChangeKind, SchemaFieldChange } from './schema-diff.ts';
export { formatPlan } from './plan-formatter.ts';
export { formatPlanMarkdown } from './plan-markdown.ts';

/** What differs for one kind of definition, by name (sorted). */
export interface DefinitionDiff {
  added: string[];
  /** Each changed definition with one line per changed property, e.g. `owner: a → b`. */
  changed: { name: string; changes: string[] }[];
  removed: string[];
}

/** A table's schema as declared against its applied schema version. */
export interface SchemaChange {
  table: string;
  /** The applied schema version; absent for a table declared for the first time. */
  fromVersion?: number;
  /** The schema version `apply` records: max(applied + 1, declared `schema_version`). */
  toVersion: number;
  /** True when any field change is breaking; `apply` refuses it unless `schema_version` was raised. */
  breaking: boolean;
  /** True when the declared `schema_version` exceeds the applied one (absent for a new table). */
  versionRaised?: boolean;
  /** Field by field; empty when only `schema_version` was raised. */
  changes: SchemaFieldChange[];
}

/** Who a changed or removed table affects. */
export interface TableImpact {
  table: string;
  /** Tables downstream of it, per the lineage graph. */
  downstream: string[];
  /** Owners and subscribers of the table and of every downstream table: whom to tell. */
  owners: string[];
}

/**
 * A column of a projection target with a declared schema that derives (column lineage) from a
 * sensitive upstream column but declares no sensitivity: it is stored and shown in clear. Declared
 * schemas are authoritative, so this is allowed, and `plan` lists each one for review (SPEC §5).
 */
export interface Declassification {
  /** The projection target, `namespace.table`. */
  table: string;
  column: string;
  /** The sensitive input, `namespace.table.column` (the most sensitive when there are several). */
  from: string;
  /** The input's sensitivity, which the column does not carry. */
  sensitivity: Sensitivity;
}

/**
 * A derived table whose upstream row filter cannot follow its rows (a column the filter reads is
 * aggregated away, transformed or dropped) and on which no role declares a filter: every principal
 * reads it unfiltered. `plan` lists each one for review; a role declaring a filter on the table
 * (possibly `"true"`) settles it (SPEC §5).
 */
export interface RowFilterReview {
  /** The derived table, `namespace.table`. */
  table: string;
  /** The filtered upstream table. */
  upstream: string;
  /** The upstream filter predicate that does not follow. */
  filter: string;
  /** The upstream columns it reads that the derived table does not keep. */
  columns: string[];
}

/** How one role's view of one table changes, in words (`plan --base`). */
export interface AccessChange {
  role: string;
  table: string;
  /** Absent for a change to the whole table (granted, revoked, row filter). */
  column?: string;
  kind:
    | 'granted'
    | 'revoked'
    | 'column_added'
    | 'column_shown'
    | 'column_hidden'
    | 'column_masked'
    | 'column_unmasked'
    | 'mask_changed'
    | 'row_filter_added'
    | 'row_filter_removed'
    | 'row_filter_changed';
  /** One sentence: `role analyst will now see care.members.zip as ZIP3`. */
  text: string;
}

/** A principal that now holds a role it did not, or no longer holds one (`plan --base`). */
export interface RoleMembershipChange {
  principal: string;
  role: string;
  kind: 'joined' | 'left';
  /** One sentence: `bob@example.org now holds role analyst (through group:analytics)`. */
  text: string;
}

/** A column's sensitivity or mask, before and after (absent: not sensitive, or the column is new). */
export interface SensitivityChange {
  table: string;
  column: string;
  from?: { sensitivity?: Sensitivity; mask?: string };
  to: { sensitivity?: Sensitivity; mask?: string };
  /** True when the column is now shown less protected than before (declassified, or a weaker mask). */
  weakened: boolean;
}

/** An owner whose review a change needs, and why. */
export interface Reviewer {
  owner: string;
  members: string[];
  /** The changed, removed or downstream tables (and tasks' targets) that make them a reviewer. */
  tables: string[];
}

/** What `plan --base REV` adds to a plan: the base it compared with and the review it needs. */
export interface RevisionComparison {
  /** The revision as given (`main`, `origin/main`, a tag or sha) and the commit it named. */
  revision: string;
  commit: string;
  /** Problems of the base's definitions (`path:line:col: …`); what loaded of it is still compared. */
  baseProblems: string[];
  accessChanges: AccessChange[];
  /** Declared principals (and `user:` members) whose roles change: what they read changes with them. */
  membershipChanges: RoleMembershipChange[];
  sensitivityChanges: SensitivityChange[];
  /** Declassifications the base did not make (keys `table.column`); a subset of `Plan.declassifications`. */
  newDeclassifications: string[];
  reviewers: Reviewer[];
}

/** The difference between the catalog repo and the catalog, as `tessera plan` shows it. */
export interface Plan {
  tables: DefinitionDiff;
  tasks: DefinitionDiff;
  owners: DefinitionDiff;
  roles: DefinitionDiff;
  principals: DefinitionDiff;
  schemaChanges: SchemaChange[];
  impact: TableImpact[];
  /** Why `apply` would refuse, one sentence each with the fix; empty when it may proceed. */
  refusals: string[];
  /**
   * Every declassification the definitions make, changed or not: a standing list for review. Not a
   * change: it does not make the plan non-empty.
   */
  declassifications: Declassification[];
  /** Every row filter that does not follow the rows into a derived table, changed or not; not a change either. */
  rowFiltersToReview: RowFilterReview[];
  /** True when applying would write nothing. */
  isEmpty: boolean;
  /** Set by `plan --base REV`: the plan compares the working tree with REV instead of the catalog. */
  comparison?: RevisionComparison;
}

export interface PlanOptions {
  /** Every table downstream of `table` (transitively), from the lineage graph, in any order. */
  downstreamTables(table: string): string[];
  /** The declassifications found through column lineage (which needs the SQL parser); default none. */
  declassifications?: Declassification[];
  /** The row filters that cannot follow the rows, found through column lineage; default none. */
  rowFiltersToReview?: RowFilterReview[];
}

/**
 * Diff the repo's definitions against what the catalog last applied. Pure: reads no data, storage or
 * network. Definitions compare by meaning (source locations ignored), so applying twice plans nothing.
 */
export function planChanges(
  definitions: Definitions,
  applied: AppliedDefinitions,
  options: PlanOptions,
): Plan {
  const schemaChanges: SchemaChange[] = [];
  const refusals: string[] = [];
  const tables = diffDefinitions(definitions.tables, applied.tables, (def, record) => {
    const previous = record.definition as TableDef;
    const changes = describePropertyChanges(
      withoutSchemaFields(previous),
      withoutSchemaFields(def),
      TABLE_PROPERTY_LABELS,
    );
    const schemaChange = planSchemaChange(def, record);
    if (schemaChange) {
      schemaChanges.push(schemaChange);
      const refusal = refuseUnlessBumped(def, record, schemaChange);
      if (refusal) refusals.push(refusal);
      changes.push(describeSchemaChange(schemaChange, refusal !== undefined));
    }
    return changes;
  });
  const declaredTables = new Map(definitions.tables.map((table) => [table.name, table]));
  for (const name of tables.added) {
    const def = declaredTables.get(name)!;
    if (!def.schema) continue; // An inferred projection target gets its fields from its first run.
    schemaChanges.push({
      table: name,
      toVersion: def.schemaVersion,
      breaking: false,
      changes: diffFields([], def.schema.fields),
    });
  }
  schemaChanges.sort((a, b) => compareText(a.table, b.table));

  const tasks = diffDefinitions(definitions.tasks, applied.tasks, (def, previous) =>
    describePropertyChanges(previous, def, TASK_PROPERTY_LABELS),
  );
  const owners = diffDefinitions(definitions.owners, applied.owners, (def, previous) =>
    describePropertyChanges(previous, def, {}),
  );
  const roles = diffDefinitions(definitions.roles, applied.roles, (def, previous) =>
    describePropertyChanges(previous, def, ROLE_PROPERTY_LABELS),
  );
  const principals = diffDefinitions(definitions.principals, applied.principals, (def, previous) =>
    describePropertyChanges(previous, def, {}),
  );

  const impact = planImpact(definitions, applied, tables, options);
  const isEmpty = [tables, tasks, owners, roles, principals].every(
    (diff) => diff.added.length === 0 && diff.changed.length === 0 && diff.removed.length === 0,
  );
  const declassifications = [...(options.declassifications ?? [])].sort((a, b) =>
    compareText(`${a.table}.${a.column}`, `${b.table}.${b.column}`),
  );
  const rowFiltersToReview = [...(options.rowFiltersToReview ?? [])].sort((a, b) =>
    compareText(`${a.table} ${a.upstream} ${a.filter}`, `${b.table} ${b.upstream} ${b.filter}`),
  );
  return {
    tables,
    tasks,
    owners,
    roles,
    principals,
    schemaChanges,
    impact,
    refusals,
    declassifications,
    rowFiltersToReview,
    isEmpty,
  };
}

function diffDefinitions<Declared extends { name: string }, Applied extends { name: string }>(
  declared: Declared[],
  applied: Applied[],
  describeChanges: (def: Declared, previous: Applied) => string[],
): DefinitionDiff {
  const appliedByName = new Map(applied.map((item) => [item.name, item]));
  const declaredNames = new Set(declared.map((item) => item.name));
  const diff: DefinitionDiff = { added: [], changed: [], removed: [] };
  for (const def of [...declared].sort(byName)) {
    const previous = appliedByName.get(def.name);
    if (!previous) {
      diff.added.push(def.name);
      continue;
    }
    const changes = describeChanges(def, previous);
    if (changes.length > 0) diff.changed.push({ name: def.name, changes });
  }
  diff.removed = applied
    .map((item) => item.name)
    .filter((name) => !declaredNames.has(name))
    .sort(compareText);
  return diff;
}

/**
 * The declared schema against the applied one. A new schema version is recorded when a field changed or
 * `schema_version` was raised above the applied one; tables whose schema is inferred have none to compare.
 */
function planSchemaChange(def: TableDef, record: TableRecord): SchemaChange | undefined {
  if (!def.schema) return undefined;
  const previous = record.definition as TableDef;
  // Compare with the schema as declared when there was one: a run's `fields` may carry less detail.
  const before: FieldDef[] = previous.schema?.fields ?? record.fields;
  const changes = diffFields(before, def.schema.fields, { matchNumbers: previous.schema !== undefined });
  const raised = def.schemaVersion > record.schemaVersion;
  if (changes.length === 0 && !raised) return undefined;
  return {
    table: def.name,
    fromVersion: record.schemaVersion,
    toVersion: Math.max(record.schemaVersion + 1, def.schemaVersion),
    breaking: changes.some((change) => change.breaking),
    versionRaised: raised,
    changes,
  };
}

function refuseUnlessBumped(def: TableDef, record: TableRecord, change: SchemaChange): string | undefined {
  if (!change.breaking || def.schemaVersion > record.schemaVersion) return undefined;
  const reasons = change.changes
    .filter((fieldChange) => fieldChange.breaking)
    .map((fieldChange) => `\`${fieldChange.field}\` ${fieldChange.detail}`)
    .join('; ');
  const where = `${def.at.file}:${def.at.line}:${def.at.column}`;
  return (
    `table ${def.name} (${where}): breaking schema change: ${reasons}. ` +
    `To accept it, raise schema_version to ${record.schemaVersion + 1} (above the applied ${record.schemaVersion}); ` +
    `otherwise make the change compatible.`
  );
}

function describeSchemaChange(change: SchemaChange, refused: boolean): string {
  const fields = change.changes.length === 1 ? '1 field change' : `${change.changes.length} field changes`;
  const breaking = change.breaking
    ? refused
      ? ', BREAKING, refused'
      : ', BREAKING, accepted by the bump'
    : '';
  return `schema version ${change.fromVersion} → ${change.toVersion} (${fields}${breaking})`;
}

function planImpact(
  definitions: Definitions,
  applied: AppliedDefinitions,
  tables: DefinitionDiff,
  options: PlanOptions,
): TableImpact[] {
  const declared = new Map(definitions.tables.map((def) => [def.name, def]));
  const previous = new Map(applied.tables.map((record) => [record.name, record.definition as TableDef]));
  const recipients = (name: string): string[] => {
    const def = declared.get(name) ?? previous.get(name);
    return def ? [def.owner, ...def.subscribers] : [];
  };
  const affected = [...tables.changed.map((change) => change.name), ...tables.removed].sort(compareText);
  return affected.map((table) => {
    const downstream = unique(options.downstreamTables(table).filter((name) => name !== table));
    const owners = unique([table, ...downstream].flatMap(recipients));
    return { table, downstream, owners };
  });
}

/** YAML spellings for TableDef properties, so plan lines read like the files users edit. */
const TABLE_PROPERTY_LABELS: Record<string, string> = {
  schemaRef: 'schema',
  schema: 'schema source',
  schemaVersion: 'schema_version',
  retention: 'retention',
};
const TASK_PROPERTY_LABELS: Record<string, string> = {
  sqlFile: 'sql file',
  badRows: 'bad_rows',
  timeoutMs: 'timeout',
  dependsOn: 'depends_on',
};
const ROLE_PROPERTY_LABELS: Record<string, string> = {
  denyColumns: 'deny_columns',
  rowFilters: 'row_filters',
};

/** Property by property: `name: old → new` for short values, `name changed` for long or structured ones. */
function describePropertyChanges(before: object, after: object, labels: Record<string, string>): string[] {
  // Most definitions are unchanged: one comparison in place instead of one per property.
  if (sameDefinition(before, after)) return [];
  const old = canonicalDefinition(before) as Record<string, unknown>;
  const next = canonicalDefinition(after) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])];
  const changes: string[] = [];
  for (const key of keys) {
    if (sameDefinition(old[key], next[key])) continue;
    const label = labels[key] ?? key;
    const from = shortValue(old[key]);
    const to = shortValue(next[key]);
    // Too long to print whole: a list of names says what was added and removed instead.
    const listChange =
      from === undefined || to === undefined ? describeListChange(old[key], next[key]) : undefined;
    if (listChange !== undefined) {
      changes.push(`${label}: ${listChange}`);
      continue;
    }
    if (old[key] === undefined) changes.push(to === undefined ? `${label} added` : `${label}: ${to} (added)`);
    else if (next[key] === undefined) changes.push(`${label} removed`);
    else
      changes.push(from !== undefined && to !== undefined ? `${label}: ${from} → ${to}` : `${label} changed`);
  }
  return changes;
}

/**
 * Two lists of names (grants, members, subscribers, groups) as what was added and removed, so a
 * reviewer sees `grants: + care.claims` rather than the whole list; `undefined` for anything else.
 */
function describeListChange(before: unknown, after: unknown): string | undefined {
  const isNames = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!isNames(before) || !isNames(after)) return undefined;
  const added = after.filter((item) => !before.includes(item));
  const removed = before.filter((item) => !after.includes(item));
  if (added.length === 0 && removed.length === 0) return 'reordered';
  return [...added.map((item) => `+ ${item}`), ...removed.map((item) => `- ${item}`)].join(', ');
}

/** A value short enough to print inline, or `undefined`. */
function shortValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length <= 40 && !text.includes('\n') ? text : undefined;
}

/** The table definition minus its fields, which the schema diff reports field by field. */
function withoutSchemaFields(def: TableDef): object {
  if (!def.schema) return def;
  const { fields: _fields, ...schema } = def.schema;
  return { ...def, schema };
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort(compareText);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}
