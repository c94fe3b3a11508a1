import type { Diagnostic } from '../diagnostics/index.ts';
import type { FieldDef, SourceLocation, TableDef } from '../model/index.ts';
import type { ParsedCatalog, Sourced } from './catalog-document-parser.ts';
import { didYouMean } from './name-suggester.ts';
import { matchesTableGlob } from './table-glob-matcher.ts';

/**
 * Checks that every name a definition refers to is declared: owners, subscribers, targets,
 * producers, dependencies, and the tables and columns roles mention. Reports them all.
 * (Projection SQL, row filters and cycles need the SQL parser: see `sql-reference-linter.ts`.)
 */
export function lintCrossReferences(catalog: ParsedCatalog): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (
    code: string,
    message: string,
    at: SourceLocation,
    severity: Diagnostic['severity'] = 'error',
  ) => diagnostics.push({ code, severity, message, at });

  const owners = new Set(catalog.owners.map((owner) => owner.def.name));
  const tables = new Map(catalog.tables.map((table) => [table.def.name, table.def]));
  const tasks = new Set(catalog.tasks.map((task) => task.def.name));
  const { brokenNames } = catalog;
  const isKnownOwner = (name: string) => owners.has(name) || brokenNames.owner.has(name);
  const isKnownTable = (name: string) => tables.has(name) || brokenNames.table.has(name);

  for (const { def: table, document } of catalog.tables) {
    const label = `table ${table.name}`;
    if (!isKnownOwner(table.owner)) {
      report(
        'missing-owner',
        `${label}: owner \`${table.owner}\` is not declared${didYouMean(table.owner, owners)}; add a \`kind: owner\` document named ${table.owner}`,
        document.locate(['owner']),
      );
    }
    table.subscribers.forEach((subscriber, index) => {
      if (!isKnownOwner(subscriber)) {
        report(
          'unknown-subscriber',
          `${label}: subscriber \`${subscriber}\` is not a declared owner${didYouMean(subscriber, owners)}`,
          document.locate(['subscribers', index]),
        );
      }
    });
  }

  const producers = new Map<string, Sourced<{ name: string }>>();
  for (const { def: task, document } of catalog.tasks) {
    const label = `task ${task.name}`;
    const target = tables.get(task.target);
    if (!isKnownTable(task.target)) {
      report(
        'unknown-table',
        `${label}: target \`${task.target}\` is not a declared table${didYouMean(task.target, tables.keys())}; add a \`kind: table\` document for it`,
        document.locate(['target']),
      );
    }
    const producer = producers.get(task.target);
    if (producer) {
      const first = producer.document.locate(['name']);
      report(
        'duplicate-producer',
        `${label}: table ${task.target} is already the target of task ${producer.def.name} (${first.file}:${first.line}:${first.column}); a table has exactly one producing task`,
        document.locate(['target']),
      );
    } else {
      producers.set(task.target, { def: task, document });
    }
    task.dependsOn.forEach((name, index) => {
      const known = name.includes('.') ? isKnownTable(name) : tasks.has(name) || brokenNames.task.has(name);
      if (!known) {
        report(
          'unknown-dependency',
          `${label}: \`depends_on\` names \`${name}\`, which is neither a declared task nor a declared table${didYouMean(name, [...tasks, ...tables.keys()])}`,
          document.locate(['depends_on', index]),
        );
      }
    });
    if (task.type === 'ingestion' && target && !target.schemaRef) {
      report(
        'missing-schema',
        `${label}: ingestion target ${task.target} has no \`schema\`; an ingested table conforms its source to a declared schema (only projection targets may infer theirs)`,
        document.locate(['target']),
      );
    }
    if (task.mode === 'merge' && target && (target.schema || !target.schemaRef)) {
      const keys = (target.schema?.fields ?? []).filter((field) => field.primaryKey);
      if (keys.length === 0) {
        report(
          'missing-primary-key',
          `${label}: \`mode: merge\` upserts on the primary key, but ${task.target} declares none; mark key fields with \`[(tessera.field) = { primary_key: true }]\``,
          document.locate(['mode']),
        );
      }
    }
    if (task.source && target?.schema) {
      for (const [sourceColumn, field] of Object.entries(task.source.columns)) {
        if (!hasField(target.schema.fields, field)) {
          report(
            'unknown-column',
            `${label}: \`columns\` maps \`${sourceColumn}\` to \`${field}\`, which is not a field of ${task.target}${didYouMean(field, fieldNames(target))}`,
            document.locate(['source', 'columns', sourceColumn]),
          );
        }
      }
    }
  }

  const principals = catalog.principals.map((principal) => principal.def);
  const principalNames = new Set(principals.map((principal) => principal.name));
  const groups = new Set(principals.flatMap((principal) => principal.groups));
  for (const { def: role, document } of catalog.roles) {
    const label = `role ${role.name}`;
    let grantIndex = 0;
    const rawGrants = ((document.data as { grants?: { tables?: unknown[] }[] }).grants ?? []).flatMap(
      (grant, index) =>
        (grant.tables ?? []).map((_, tableIndex) => ['grants', index, 'tables', tableIndex] as const),
    );
    for (const pattern of role.grants) {
      const at = document.locate([...(rawGrants[grantIndex++] ?? ['grants'])]);
      if (pattern.includes('*')) {
        if (![...tables.keys()].some((table) => matchesTableGlob(pattern, table))) {
          report('unknown-table', `${label}: grant \`${pattern}\` matches no declared table`, at, 'warning');
        }
      } else if (!isKnownTable(pattern)) {
        report(
          'unknown-table',
          `${label}: grant names \`${pattern}\`, which is not a declared table${didYouMean(pattern, tables.keys())}`,
          at,
        );
      }
    }
    for (const [tableName, columns] of Object.entries(role.denyColumns)) {
      const table = tables.get(tableName);
      if (!isKnownTable(tableName)) {
        report(
          'unknown-table',
          `${label}: \`deny_columns\` names \`${tableName}\`, which is not a declared table${didYouMean(tableName, tables.keys())}`,
          document.locate(['deny_columns', tableName], 'key'),
        );
        continue;
      }
      if (!table?.schema) continue;
      columns.forEach((column, index) => {
        if (!hasField(table.schema!.fields, column)) {
          report(
            'unknown-column',
            `${label}: \`deny_columns\` hides \`${column}\`, which is not a column of ${tableName}${didYouMean(column, fieldNames(table))}`,
            document.locate(['deny_columns', tableName, index]),
          );
        }
      });
    }
    for (const tableName of Object.keys(role.rowFilters)) {
      if (!isKnownTable(tableName)) {
        report(
          'unknown-table',
          `${label}: \`row_filters\` names \`${tableName}\`, which is not a declared table${didYouMean(tableName, tables.keys())}`,
          document.locate(['row_filters', tableName], 'key'),
        );
      }
    }
    role.members.forEach((member, index) => {
      const at = document.locate(['members', index]);
      const match = /^(?:(user|group):)?([^:\s][^:]*)$/.exec(member);
      if (!match) {
        report(
          'invalid-member',
          `${label}: member \`${member}\` must be \`user:NAME\`, \`group:NAME\` or a principal name`,
          at,
        );
        return;
      }
      // Principals may come from an identity provider: only a repo that declares some is checked.
      if (principals.length === 0) return;
      const [, prefix, name] = match as unknown as [string, string | undefined, string];
      if (prefix === 'group' && !groups.has(name)) {
        report('unknown-group', `${label}: no declared principal is in group \`${name}\``, at, 'warning');
      } else if (prefix !== 'group' && !principalNames.has(name)) {
        report(
          'unknown-principal',
          `${label}: \`${name}\` is not a declared principal${didYouMean(name, principalNames)}`,
          at,
          'warning',
        );
      }
    });
  }
  return diagnostics;
}

function hasField(fields: readonly FieldDef[], name: string): boolean {
  return fields.some((field) => field.name === name);
}

function fieldNames(table: TableDef): string[] {
  return (table.schema?.fields ?? []).map((field) => field.name);
}
