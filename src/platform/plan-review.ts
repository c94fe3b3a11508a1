/**
 * What a reviewer of a definitions change needs beyond the diff itself: how each role's view of each
 * table changes, which columns changed sensitivity, and whose review the change needs. Pure: compares
 * two sets of definitions with the governance access resolver; no engine, catalog or storage.
 */
import type {
  AccessChange,
  DefinitionDiff,
  Plan,
  Reviewer,
  RoleMembershipChange,
  SensitivityChange,
} from '../catalog/plan.ts';
import { resolveAccess, rolesOf, type AccessPrincipal } from '../governance/index.ts';
import type { Definitions, FieldDef, PrincipalDef, RoleDef, TableDef } from '../model/index.ts';

/** How one column reaches a role: absent from reads, masked, or in clear. */
type ColumnView = { shown: 'hidden' } | { shown: 'masked'; mask: string } | { shown: 'clear' };

/** What one role may read of one table. `columns` is undefined for a table whose schema is inferred. */
interface TableView {
  rowFilter?: string;
  hidden: Set<string>;
  columns?: Map<string, ColumnView>;
}

/** The principal a role is resolved for: a member of that role alone. */
const VIEWER = { name: 'tessera-plan-viewer', groups: [], attributes: {} };

/**
 * Every change in what a role may read, table by table, in words. Tables present on one side only
 * report grants (a new table a role can read); a removed table's lost access is the removal itself.
 */
export function findAccessChanges(before: Definitions, after: Definitions): AccessChange[] {
  const beforeRoles = new Map(before.roles.map((role) => [role.name, role]));
  const afterRoles = new Map(after.roles.map((role) => [role.name, role]));
  const beforeTables = new Map(before.tables.map((table) => [table.name, table]));
  const changes: AccessChange[] = [];
  const roleNames = [...new Set([...beforeRoles.keys(), ...afterRoles.keys()])].sort(compareText);
  for (const roleName of roleNames) {
    const oldRole = beforeRoles.get(roleName);
    const newRole = afterRoles.get(roleName);
    for (const table of [...after.tables].sort(byName)) {
      const previousTable = beforeTables.get(table.name);
      const old = oldRole && previousTable ? viewOf(oldRole, previousTable) : undefined;
      const next = newRole ? viewOf(newRole, table) : undefined;
      changes.push(...describeViewChange(roleName, table, previousTable, old, next));
    }
  }
  return changes;
}

function viewOf(role: RoleDef, table: TableDef): TableView | undefined {
  const access = resolveAccess(VIEWER, [{ ...role, members: [`user:${VIEWER.name}`] }], table.name);
  if (!access) return undefined;
  const hidden = new Set(access.hiddenColumns.map((column) => column.toLowerCase()));
  const view: TableView = {
    hidden,
    ...(access.rowFilter !== undefined ? { rowFilter: access.rowFilter } : {}),
  };
  if (!table.schema) return view;
  view.columns = new Map(
    table.schema.fields.map((field) => [
      field.name.toLowerCase(),
      columnView(field, table, hidden, access.unmasked),
    ]),
  );
  return view;
}

function columnView(field: FieldDef, table: TableDef, hidden: Set<string>, unmasked: string[]): ColumnView {
  if (hidden.has(field.name.toLowerCase())) return { shown: 'hidden' };
  if (!field.sensitivity) return { shown: 'clear' };
  // A de-identified table stores masked values only: unmasking cannot bring the raw ones back.
  if (table.store === 'deidentified' || !unmasked.includes(field.sensitivity)) {
    return { shown: 'masked', mask: field.mask ?? 'REDACT' };
  }
  return { shown: 'clear' };
}

function describeViewChange(
  role: string,
  table: TableDef,
  previousTable: TableDef | undefined,
  old: TableView | undefined,
  next: TableView | undefined,
): AccessChange[] {
  const name = table.name;
  const change = (kind: AccessChange['kind'], text: string, column?: string): AccessChange => ({
    role,
    table: name,
    ...(column !== undefined ? { column } : {}),
    kind,
    text,
  });
  if (!old && !next) return [];
  if (!old && next) {
    return [
      change(
        'granted',
        `role ${role} gains access to ${name}${describeView(next, previousTable === undefined)}`,
      ),
    ];
  }
  if (old && !next) return [change('revoked', `role ${role} loses access to ${name}`)];
  const before = old!;
  const after = next!;
  const changes: AccessChange[] = [];
  if (before.rowFilter !== after.rowFilter) {
    if (before.rowFilter === undefined) {
      changes.push(
        change('row_filter_added', `row filter of role ${role} on ${name} added: \`${after.rowFilter}\``),
      );
    } else if (after.rowFilter === undefined) {
      changes.push(
        change(
          'row_filter_removed',
          `row filter of role ${role} on ${name} removed: it now reads every row (was \`${before.rowFilter}\`)`,
        ),
      );
    } else {
      changes.push(
        change(
          'row_filter_changed',
          `row filter of role ${role} on ${name} changed: \`${before.rowFilter}\` → \`${after.rowFilter}\``,
        ),
      );
    }
  }
  const fieldNames = new Map(
    [...(previousTable?.schema?.fields ?? []), ...(table.schema?.fields ?? [])].map((field) => [
      field.name.toLowerCase(),
      field.name,
    ]),
  );
  const columnName = (key: string) => `${name}.${fieldNames.get(key) ?? key}`;
  if (before.columns && after.columns) {
    for (const [key, view] of after.columns) {
      const was = before.columns.get(key);
      const column = columnName(key);
      if (!was) {
        if (view.shown !== 'hidden') {
          changes.push(
            change(
              'column_added',
              `role ${role} will now see ${column} (a new column) ${shownAs(view)}`,
              key,
            ),
          );
        }
        continue;
      }
      if (sameView(was, view)) continue;
      if (view.shown === 'hidden') {
        changes.push(change('column_hidden', `role ${role} will no longer see ${column}`, key));
      } else if (was.shown === 'hidden') {
        changes.push(change('column_shown', `role ${role} will now see ${column} ${shownAs(view)}`, key));
      } else if (was.shown === 'clear' && view.shown === 'masked') {
        changes.push(change('column_masked', `role ${role} will now see ${column} as ${view.mask}`, key));
      } else if (was.shown === 'masked' && view.shown === 'clear') {
        changes.push(
          change('column_unmasked', `role ${role} will now see ${column} in clear (was ${was.mask})`, key),
        );
      } else if (was.shown === 'masked' && view.shown === 'masked') {
        changes.push(
          change(
            'mask_changed',
            `role ${role} will now see ${column} as ${view.mask} (was ${was.mask})`,
            key,
          ),
        );
      }
    }
  } else {
    // An inferred schema: the columns are known once the projection runs; the deny lists are not.
    for (const key of [...after.hidden].filter((column) => !before.hidden.has(column)).sort(compareText)) {
      changes.push(change('column_hidden', `role ${role} will no longer see ${columnName(key)}`, key));
    }
    for (const key of [...before.hidden].filter((column) => !after.hidden.has(column)).sort(compareText)) {
      changes.push(change('column_shown', `role ${role} will now see ${columnName(key)}`, key));
    }
  }
  return changes;
}

function describeView(view: TableView, isNewTable: boolean): string {
  const parts: string[] = isNewTable ? ['a new table'] : [];
  if (view.columns) {
    const masked = [...view.columns].filter(
      (entry): entry is [string, { shown: 'masked'; mask: string }] => entry[1].shown === 'masked',
    );
    if (masked.length > 0)
      parts.push(`masked: ${masked.map(([column, seen]) => `${column} as ${seen.mask}`).join(', ')}`);
  }
  if (view.hidden.size > 0) parts.push(`hidden: ${[...view.hidden].sort(compareText).join(', ')}`);
  if (view.rowFilter !== undefined) parts.push(`rows where \`${view.rowFilter}\``);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

function shownAs(view: ColumnView): string {
  return view.shown === 'masked' ? `as ${view.mask}` : 'in clear';
}

function sameView(a: ColumnView, b: ColumnView): boolean {
  return a.shown === b.shown && (a.shown !== 'masked' || a.mask === (b as { mask: string }).mask);
}

/**
 * Who holds which role, before and after: every declared principal (with its groups) and every
 * `user:` member named by a role, on either side. Members of a group nobody declared are not known
 * here; the role's `members` change is in the plan's Roles section.
 */
export function findMembershipChanges(before: Definitions, after: Definitions): RoleMembershipChange[] {
  const principalsOf = (definitions: Definitions) => {
    const principals = new Map<string, PrincipalDef | AccessPrincipal>(
      definitions.principals.map((principal) => [principal.name.toLowerCase(), principal]),
    );
    for (const role of definitions.roles) {
      for (const member of role.members) {
        const name = member.trim().toLowerCase().startsWith('user:')
          ? member.trim().slice('user:'.length)
          : undefined;
        if (name !== undefined && !principals.has(name.toLowerCase())) {
          principals.set(name.toLowerCase(), { name, groups: [], attributes: {} });
        }
      }
    }
    return principals;
  };
  const beforePrincipals = principalsOf(before);
  const afterPrincipals = principalsOf(after);
  const changes: RoleMembershipChange[] = [];
  const keys = [...new Set([...beforePrincipals.keys(), ...afterPrincipals.keys()])].sort(compareText);
  for (const key of keys) {
    const old = beforePrincipals.get(key);
    const next = afterPrincipals.get(key);
    const name = (next ?? old)!.name;
    const oldRoles = new Set(old ? rolesOf(old, before.roles).map((role) => role.name) : []);
    const newRoles = next ? rolesOf(next, after.roles) : [];
    for (const role of newRoles) {
      if (oldRoles.has(role.name)) continue;
      changes.push({
        principal: name,
        role: role.name,
        kind: 'joined',
        text: `${name} now holds role ${role.name}`,
      });
    }
    const kept = new Set(newRoles.map((role) => role.name));
    for (const role of [...oldRoles].sort(compareText)) {
      if (kept.has(role)) continue;
      changes.push({ principal: name, role, kind: 'left', text: `${name} no longer holds role ${role}` });
    }
  }
  return changes;
}

/**
 * Columns whose sensitivity or mask changed, and sensitive columns added to existing tables. A
 * column that loses its sensitivity is `weakened`: every role will read it in clear.
 */
export function findSensitivityChanges(before: Definitions, after: Definitions): SensitivityChange[] {
  const beforeTables = new Map(before.tables.map((table) => [table.name, table]));
  const changes: SensitivityChange[] = [];
  for (const table of [...after.tables].sort(byName)) {
    const previous = beforeTables.get(table.name)?.schema;
    if (!previous || !table.schema) continue;
    const oldFields = new Map(previous.fields.map((field) => [field.name, field]));
    for (const field of table.schema.fields) {
      const old = oldFields.get(field.name);
      if (!old && !field.sensitivity) continue;
      if (old && old.sensitivity === field.sensitivity && old.mask === field.mask) continue;
      changes.push({
        table: table.name,
        column: field.name,
        ...(old ? { from: protection(old) } : {}),
        to: protection(field),
        weakened: old?.sensitivity !== undefined && field.sensitivity === undefined,
      });
    }
  }
  return changes;
}

function protection(field: FieldDef): { sensitivity?: FieldDef['sensitivity']; mask?: string } {
  if (!field.sensitivity) return {};
  return { sensitivity: field.sensitivity, mask: field.mask ?? 'REDACT' };
}

/**
 * The owners whose review a change needs: owners of every added, changed or removed table, of the
 * target of every added, changed or removed task, of every table some role's access to changes,
 * and the owners and subscribers of downstream tables (`plan.impact`).
 */
export function findReviewers(
  plan: Plan,
  accessChanges: AccessChange[],
  before: Definitions,
  after: Definitions,
): Reviewer[] {
  const tablesOf = (definitions: Definitions) =>
    new Map(definitions.tables.map((table) => [table.name, table]));
  const tables = new Map([...tablesOf(before), ...tablesOf(after)]);
  const tasks = new Map([...before.tasks, ...after.tasks].map((task) => [task.name, task.target]));
  const owners = new Map([...before.owners, ...after.owners].map((owner) => [owner.name, owner.members]));
  const reasons = new Map<string, Set<string>>();
  const need = (owner: string | undefined, table: string) => {
    if (owner === undefined) return;
    if (!reasons.has(owner)) reasons.set(owner, new Set());
    reasons.get(owner)!.add(table);
  };
  const ownerOf = (table: string) => tables.get(table)?.owner;
  for (const table of namesIn(plan.tables)) need(ownerOf(table), table);
  for (const task of namesIn(plan.tasks)) {
    const target = tasks.get(task);
    if (target !== undefined) need(ownerOf(target), target);
  }
  for (const change of accessChanges) need(ownerOf(change.table), change.table);
  for (const impact of plan.impact) {
    for (const downstream of impact.downstream) {
      const def = tables.get(downstream);
      for (const owner of def ? [def.owner, ...def.subscribers] : []) need(owner, downstream);
    }
  }
  return [...reasons]
    .map(([owner, names]) => ({
      owner,
      members: [...(owners.get(owner) ?? [])],
      tables: [...names].sort(compareText),
    }))
    .sort((a, b) => compareText(a.owner, b.owner));
}

function namesIn(diff: DefinitionDiff): string[] {
  return [...diff.added, ...diff.changed.map((change) => change.name), ...diff.removed];
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}
