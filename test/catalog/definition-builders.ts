import type { DefinitionChanges } from '../../src/catalog/catalog-store.ts';
import { DEFAULT_PAGERDUTY_EVENTS_URL } from '../../src/model/index.ts';
/** Small builders for Defs, so catalog tests state only what their case is about. */
import type {
  Definitions,
  FieldDef,
  FieldType,
  OwnerDef,
  PrincipalDef,
  RoleDef,
  ScalarSqlType,
  SourceLocation,
  TableDef,
  TaskDef,
} from '../../src/model/index.ts';

export function at(file: string, line = 1): SourceLocation {
  return { file, line, column: 1 };
}

export function scalar(sql: ScalarSqlType): FieldType {
  return { kind: 'scalar', sql };
}

export function field(
  name: string,
  number: number,
  type: FieldType | ScalarSqlType,
  extra: Partial<FieldDef> = {},
): FieldDef {
  return {
    name,
    number,
    type: typeof type === 'string' ? scalar(type) : type,
    nullable: false,
    at: at('schemas/test.proto', number + 2),
    ...extra,
  };
}

/** A table with a declared schema unless `fields: undefined` is given (an inferred projection target). */
export function tableDef(
  name: string,
  options: Partial<Omit<TableDef, 'schema'>> & { fields?: FieldDef[] | undefined } = {},
): TableDef {
  const { fields = [field('id', 1, 'VARCHAR', { primaryKey: true })], ...rest } = options;
  const hasSchema = !('fields' in options && options.fields === undefined);
  return {
    name,
    owner: 'data-team',
    description: `The ${name} table.`,
    ...(hasSchema
      ? {
          schemaRef: `schemas/test.proto#test.${name.split('.')[1]}`,
          schema: { message: `test.${name.split('.')[1]}`, file: 'schemas/test.proto', fields },
        }
      : {}),
    schemaVersion: 1,
    validations: [],
    subscribers: [],
    retention: { keepVersions: 30 },
    store: 'raw',
    at: at(`tables/${name}.yaml`),
    ...rest,
  };
}

export function ingestionTask(name: string, target: string, extra: Partial<TaskDef> = {}): TaskDef {
  return {
    name,
    type: 'ingestion',
    target,
    source: { type: 'csv', uri: `data/${name}.csv`, options: { header: true }, columns: {} },
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    schedule: { kind: 'cron', expression: '@hourly' },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: at(`tasks/${name}.yaml`),
    ...extra,
  };
}

export function projectionTask(
  name: string,
  target: string,
  sql: string,
  extra: Partial<TaskDef> = {},
): TaskDef {
  return {
    name,
    type: 'projection',
    target,
    sql,
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: at(`tasks/${name}.yaml`),
    ...extra,
  };
}

export function ownerDef(name: string, extra: Partial<OwnerDef> = {}): OwnerDef {
  return {
    name,
    members: [`${name}@example.org`],
    channels: [{ type: 'email', to: [`${name}@example.org`] }],
    at: at(`owners/${name}.yaml`),
    ...extra,
  };
}

export function roleDef(name: string, extra: Partial<RoleDef> = {}): RoleDef {
  return {
    name,
    members: ['group:analytics'],
    grants: ['analytics.*'],
    denyColumns: {},
    rowFilters: {},
    unmask: [],
    at: at(`access/${name}.yaml`),
    ...extra,
  };
}

export function principalDef(name: string, extra: Partial<PrincipalDef> = {}): PrincipalDef {
  return {
    name,
    groups: ['analytics'],
    attributes: { state: 'CA' },
    at: at('access/principals.yaml'),
    ...extra,
  };
}

export function definitions(parts: Partial<Omit<Definitions, 'project'>> = {}): Definitions {
  return {
    project: {
      name: 'test',
      catalog: 'sqlite::memory:',
      storage: 'file:.tessera/warehouse',
      engine: 'duckdb',
      orchestrator: 'local',
      governance: {},
      notifications: { pagerdutyEventsUrl: DEFAULT_PAGERDUTY_EVENTS_URL },
      root: '/tmp/test-repo',
    },
    owners: [],
    tables: [],
    tasks: [],
    roles: [],
    principals: [],
    ...parts,
  };
}

/** One apply's changes: nothing, except what `overrides` says. */
export function changes(overrides: Partial<DefinitionChanges> = {}): DefinitionChanges {
  return {
    upsertTables: [],
    removeTables: [],
    upsertTasks: [],
    removeTasks: [],
    owners: [],
    roles: [],
    principals: [],
    lineage: [],
    ...overrides,
  };
}
