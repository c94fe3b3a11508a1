import type { PrincipalDef, RoleDef, Sensitivity } from '../model/index.ts';
import type { RowFilterLineage } from './row-filter-inheritance.ts';

/** Who is asking: a declared principal, or an identity built at the edge (token, pgwire user, CLI). */
export interface AccessPrincipal {
  name: string;
  groups: string[];
  /** Read by row filters through `principal_attr('name')`. */
  attributes: Record<string, string>;
  /**
   * The local developer at the CLI: sees every table, column and row in clear. Never set it for
   * a request that arrives over the network. Default: false.
   */
  admin?: boolean;
}

/** What one principal may read of one table, combined over every role that grants it. */
export interface TableAccess {
  table: string;
  /** Names of the roles that grant the table (empty for an admin). */
  roles: string[];
  /** Columns denied by every granting role: absent from every read, as if they did not exist. */
  hiddenColumns: string[];
  /**
   * The row filter, a SQL predicate over the table's columns that may call `principal_attr('x')`
   * and `principal_name()`: the OR of the granting roles' filters. Undefined: every row passes.
   */
  rowFilter?: string;
  /**
   * The same filter as terms: any inner list passing lets a row through, and every predicate of an
   * inner list must pass (one inner list per granting role). Compile these, not `rowFilter`: each
   * predicate is parsed on its own, so one cannot unbalance another's parentheses.
   */
  rowFilterTerms?: string[][];
  /** Sensitivities shown in clear: the union over granting roles (every sensitivity for an admin). */
  unmasked: Sensitivity[];
  /** True for an admin principal. */
  admin: boolean;
}

const ALL_SENSITIVITIES: Sensitivity[] = ['PII', 'PHI', 'CONFIDENTIAL'];

/**
 * Resolve a principal's access to one table (SPEC §1 Access). Undefined means no role grants it:
 * the table does not exist for this principal. Roles combine: a column is hidden only if every
 * granting role denies it; a row passes if any granting role's filter passes (a granting role
 * without a filter passes every row); a sensitivity is in clear if any granting role unmasks it.
 *
 * Only roles that grant the table count: a role that denies a column but does not grant the table
 * changes nothing.
 *
 * With `lineage` (`inheritRowFilters`), row filters follow the rows into derived tables: a granting
 * role that declares no filter on a derived table applies the filter the principal inherits
 * (`inheritedRowFilterTerms`) instead of passing every row; a role that declares its own filter
 * there (even `"true"`) applies that one.
 */
export function resolveAccess(
  principal: AccessPrincipal | PrincipalDef,
  roles: RoleDef[],
  table: string,
  lineage?: RowFilterLineage,
): TableAccess | undefined {
  return resolveTableAccess(principal, roles, table.toLowerCase(), lineage, new Set());
}

function resolveTableAccess(
  principal: AccessPrincipal | PrincipalDef,
  roles: RoleDef[],
  tableName: string,
  lineage: RowFilterLineage | undefined,
  visiting: ReadonlySet<string>,
): TableAccess | undefined {
  if ('admin' in principal && principal.admin) {
    return { table: tableName, roles: [], hiddenColumns: [], unmasked: [...ALL_SENSITIVITIES], admin: true };
  }
  const granting = rolesOf(principal, roles).filter((role) =>
    role.grants.some((pattern) => matchesTablePattern(pattern, tableName)),
  );
  if (granting.length === 0) return undefined;

  const deniedPerRole = granting.map((role) => deniedColumns(role, tableName));
  const hiddenColumns = [...deniedPerRole[0]!].filter((column) =>
    deniedPerRole.every((denied) => denied.has(column)),
  );

  const declared = granting.map((role) => roleRowFilters(role, tableName));
  const inherited =
    lineage && declared.some((filters) => filters.length === 0)
      ? inheritedTerms(principal, roles, tableName, lineage, visiting)
      : undefined;
  const terms = uniqueTerms(
    declared.flatMap((filters) => (filters.length > 0 ? [filters] : (inherited ?? [[]]))),
  );
  const rowFilterTerms = terms.some((role) => role.length === 0) ? undefined : terms;
  const rowFilter = rowFilterTerms ? describeTerms(rowFilterTerms) : undefined;

  const unmasked = ALL_SENSITIVITIES.filter((sensitivity) =>
    granting.some((role) => role.unmask.includes(sensitivity)),
  );
  return {
    table: tableName,
    roles: granting.map((role) => role.name),
    hiddenColumns,
    ...(rowFilter !== undefined ? { rowFilter, rowFilterTerms } : {}),
    unmasked,
    admin: false,
  };
}

/**
 * The roles a principal holds: members are `user:NAME`, `group:G`, or a bare principal name.
 * Names and groups compare case-insensitively (e-mail addresses, directory groups).
 */
export function rolesOf(principal: AccessPrincipal | PrincipalDef, roles: RoleDef[]): RoleDef[] {
  const name = principal.name.toLowerCase();
  const groups = new Set(principal.groups.map((group) => group.toLowerCase()));
  return roles.filter((role) =>
    role.members.some((member) => {
      const lowered = member.trim().toLowerCase();
      if (lowered.startsWith('user:')) return lowered.slice('user:'.length) === name;
      if (lowered.startsWith('group:')) return groups.has(lowered.slice('group:'.length));
      return lowered === name;
    }),
  );
}

/**
 * True when a grant pattern covers a table: an exact name, or a glob where `*` matches any run of
 * characters (so `analytics.*` covers a namespace and `*` everything) and `?` one character.
 */
export function matchesTablePattern(pattern: string, table: string): boolean {
  const source = pattern
    .trim()
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(table.toLowerCase());
}

function deniedColumns(role: RoleDef, table: string): Set<string> {
  const denied = new Set<string>();
  for (const [pattern, columns] of Object.entries(role.denyColumns)) {
    if (matchesTablePattern(pattern, table)) for (const column of columns) denied.add(column.toLowerCase());
  }
  return denied;
}

/** One role's filters for a table; several matching entries (exact and glob) must all pass. */
function roleRowFilters(role: RoleDef, table: string): string[] {
  return Object.entries(role.rowFilters)
    .filter(([pattern]) => matchesTablePattern(pattern, table))
    .map(([, filter]) => filter.trim())
    .filter((filter) => filter !== '');
}

/** Human-readable text of the combined filter, for audit records and messages. */
function describeTerms(terms: string[][]): string {
  const roleText = (filters: string[]) =>
    filters.length === 1 ? filters[0]! : filters.map((filter) => `(${filter})`).join(' AND ');
  return terms.length === 1
    ? roleText(terms[0]!)
    : terms.map((filters) => `(${roleText(filters)})`).join(' OR ');
}

/**
 * The row filter a principal inherits on a derived table, as terms over its columns (OR of ANDs),
 * or undefined when nothing is inherited. For each table the projection reads:
 *
 * - a principal who reads the upstream table unfiltered (a granting role without a filter there,
 *   or an admin) inherits nothing from it;
 * - a principal whose access to it is filtered inherits that filter (their own roles' terms, which
 *   may themselves be inherited further up);
 * - a principal with no grant on it inherits every predicate any role declares on it, all of
 *   which must pass, and what it inherits in turn.
 *
 * Predicates that cannot follow the rows (a column not kept) are dropped (listed for review by
 * `plan`); filters from several upstream tables must all pass.
 */
export function inheritedRowFilterTerms(
  principal: AccessPrincipal | PrincipalDef,
  roles: RoleDef[],
  table: string,
  lineage: RowFilterLineage,
): string[][] | undefined {
  return inheritedTerms(principal, roles, table.toLowerCase(), lineage, new Set());
}

function inheritedTerms(
  principal: AccessPrincipal | PrincipalDef,
  roles: RoleDef[],
  table: string,
  lineage: RowFilterLineage,
  visiting: ReadonlySet<string>,
): string[][] | undefined {
  if (visiting.has(table)) return undefined; // A cycle is a lint error.
  const inside = new Set([...visiting, table]);
  let combined: string[][] | undefined;
  for (const edge of lineage.edges[table] ?? []) {
    const upstream = upstreamTerms(principal, roles, edge.upstream, lineage, inside);
    if (!upstream) continue;
    // A predicate that cannot follow is dropped from its AND list; an emptied list passes every row.
    const carried = upstream.map((filters) =>
      filters.flatMap((filter) => (Object.hasOwn(edge.predicates, filter) ? [edge.predicates[filter]!] : [])),
    );
    if (carried.some((filters) => filters.length === 0)) continue;
    combined = combined
      ? combined.flatMap((left) => carried.map((right) => [...new Set([...left, ...right])]))
      : carried;
  }
  return combined && uniqueTerms(combined);
}

/** A principal's filter on an upstream table, for inheritance (see `inheritedRowFilterTerms`). */
function upstreamTerms(
  principal: AccessPrincipal | PrincipalDef,
  roles: RoleDef[],
  upstream: string,
  lineage: RowFilterLineage,
  visiting: ReadonlySet<string>,
): string[][] | undefined {
  const access = resolveTableAccess(principal, roles, upstream, lineage, visiting);
  if (access) return access.rowFilterTerms; // An admin's access has none.
  const everyDeclared = [...new Set(roles.flatMap((role) => roleRowFilters(role, upstream)))];
  const inherited = inheritedTerms(principal, roles, upstream, lineage, visiting);
  if (!inherited) return everyDeclared.length > 0 ? [everyDeclared] : undefined;
  return inherited.map((filters) => [...new Set([...everyDeclared, ...filters])]);
}

function uniqueTerms(terms: string[][]): string[][] {
  const seen = new Set<string>();
  return terms.filter((filters) => {
    const key = JSON.stringify(filters);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
