/**
 * The catalog as one principal sees it: the tables a role grants it, each with the columns it may
 * see, typed as it reads them (a masked column has its mask's type). The network faces list tables
 * and answer catalog introspection (`\dt`, `information_schema`) from this, so a denied table or
 * column is absent everywhere, not refused.
 */
import type { CatalogStore } from '../catalog/catalog-store.ts';
import {
  fieldTypeSql,
  maskedType,
  resolveAccess,
  type AccessPrincipal,
  type RowFilterLineage,
} from '../governance/index.ts';
import type { MaskKind, RoleDef, Sensitivity } from '../model/index.ts';

export interface VisibleColumn {
  name: string;
  /** The engine type the principal reads: the mask's result type when masked for it. */
  type: string;
  description?: string;
  sensitivity?: Sensitivity;
  /** The mask applied for this principal; absent when it reads the column in clear. */
  mask?: MaskKind;
}

export interface VisibleTable {
  name: string;
  owner: string;
  description?: string;
  columns: VisibleColumn[];
  /** The published version a query reads now; absent before the first publication. */
  currentVersion?: number;
  /** This principal reads only some rows (a role's row filter, declared or inherited). */
  rowFiltered: boolean;
}

export async function visibleCatalog(
  store: CatalogStore,
  principal: AccessPrincipal,
  roles: RoleDef[],
  lineage: RowFilterLineage,
): Promise<VisibleTable[]> {
  const visible: VisibleTable[] = [];
  for (const table of await store.listTables()) {
    const access = resolveAccess(principal, roles, table.name, lineage);
    if (!access) continue;
    const hidden = new Set(access.hiddenColumns.map((column) => column.toLowerCase()));
    const columns: VisibleColumn[] = [];
    for (const field of table.fields) {
      if (hidden.has(field.name.toLowerCase())) continue;
      const masked =
        field.sensitivity !== undefined &&
        field.mask !== undefined &&
        !access.unmasked.includes(field.sensitivity);
      columns.push({
        name: field.name,
        type: fieldTypeSql(masked ? maskedType(field.mask!, field.type) : field.type),
        ...(field.description ? { description: field.description } : {}),
        ...(field.sensitivity ? { sensitivity: field.sensitivity } : {}),
        ...(masked ? { mask: field.mask! } : {}),
      });
    }
    visible.push({
      name: table.name,
      owner: table.owner,
      ...(table.description ? { description: table.description } : {}),
      columns,
      ...(table.currentVersion !== undefined ? { currentVersion: table.currentVersion } : {}),
      rowFiltered: access.rowFilterTerms !== undefined || access.rowFilter !== undefined,
    });
  }
  return visible.sort((a, b) => a.name.localeCompare(b.name));
}
