import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { parse as parseYaml, stringify, YAMLParseError } from 'yaml';
import { UsageError } from '../diagnostics/errors.ts';
import { draftSchemaFiles, suggestPhi, type ColumnFacts } from '../definitions/schema-drafting.ts';
import { quoteIdentifier, quoteLiteral, type Engine } from '../engines/engine.ts';
import { JinjaError, renderModel, type RenderResult } from './jinja.ts';

/**
 * `tessera import dbt`: a dbt project → a Tessera catalog repo. Seeds become ingested tables
 * (types sniffed by the engine), sources become tables without ingestion, models become
 * projections whose Jinja is rendered for the common subset; column tests become Great
 * Expectations validations. What cannot be converted exactly is reported, never guessed.
 */

export interface DbtImportOptions {
  projectDir: string;
  outDir: string;
  /** Namespace of models and seeds without a `schema` config (default `dbt`). */
  namespace?: string;
  engine: Engine;
}

/** One line of the summary: what it is about (`file[:line]` or a table) and what happened. */
export interface DbtImportNote {
  about: string;
  message: string;
}

export interface DbtImportResult {
  /** Converted: tables, tasks and validations written. */
  converted: DbtImportNote[];
  /** Needs a human: skipped models, unmapped tests, sources to fill, materializations, PHI to review. */
  review: DbtImportNote[];
  /** Columns that look like PII/PHI, with the mask to consider; none is masked. */
  phi: { table: string; column: string; category: string; mask: string; reason: string }[];
  files: string[];
}

interface ColumnDoc {
  name: string;
  description?: string;
  tests: unknown[];
}
interface NodeDoc {
  name: string;
  description?: string;
  config: Record<string, unknown>;
  columns: ColumnDoc[];
  tests: unknown[];
  file: string;
}
interface SourceDoc {
  source: string;
  name: string;
  description?: string;
  columns: (ColumnDoc & { dataType?: string })[];
  tests: unknown[];
  file: string;
}

const OWNER = 'data-team';

export async function importDbt(options: DbtImportOptions): Promise<DbtImportResult> {
  const project = options.projectDir;
  const out = options.outDir;
  const defaultNamespace = options.namespace ?? 'dbt';
  const result: DbtImportResult = { converted: [], review: [], phi: [], files: [] };
  const existing = await readdir(out).catch(() => []);
  if (existing.length > 0)
    throw new UsageError(`${out} is not empty; name a new or empty folder for the catalog repo`);
  const settings = asRecord(await readYaml(project, 'dbt_project.yml'));
  const projectName = String(settings.name ?? 'dbt_project');
  const modelPaths = stringList(settings['model-paths'] ?? settings.source_paths, ['models']);
  const seedPaths = stringList(settings['seed-paths'] ?? settings.data_paths, ['seeds']);
  const vars = flattenVars(asRecord(settings.vars), projectName);

  const modelFiles = (await Promise.all(modelPaths.map((path) => listFiles(join(project, path))))).flat();
  const seedFiles = (await Promise.all(seedPaths.map((path) => listFiles(join(project, path))))).flat();
  const rel = (file: string) => relative(project, file).split(sep).join('/');

  // Property files: models:, sources:, seeds:.
  const modelDocs = new Map<string, NodeDoc>();
  const seedDocs = new Map<string, NodeDoc>();
  const sources: SourceDoc[] = [];
  for (const file of [...modelFiles, ...seedFiles].filter((f) => /\.ya?ml$/.test(f))) {
    const doc = asRecord(await readYaml(project, rel(file)));
    for (const raw of asList(doc.models)) addNode(modelDocs, raw, rel(file));
    for (const raw of asList(doc.seeds)) addNode(seedDocs, raw, rel(file));
    for (const rawSource of asList(doc.sources)) {
      const source = asRecord(rawSource);
      for (const rawTable of asList(source.tables)) {
        const table = asRecord(rawTable);
        sources.push({
          source: String(source.name),
          name: String(table.name),
          ...describe(table.description ?? source.description),
          columns: asList(table.columns).map((c) => {
            const column = columnDoc(c);
            const dataType = asRecord(c).data_type;
            return typeof dataType === 'string' ? { ...column, dataType } : column;
          }),
          tests: testsOf(table),
          file: rel(file),
        });
      }
    }
  }

  const modelConfig = asRecord(settings.models);
  const seedConfig = asRecord(settings.seeds);
  const files: Record<string, string> = {};
  const tableDocs: string[] = [];
  const taskDocs: string[] = [];

  // Seeds.
  /** dbt's `enabled` config, a Jinja expression (`{{ var('load_source_data', false) }}`) rendered. */
  const enabled = (file: string, kind: string, config: Record<string, unknown>): boolean => {
    let value = config.enabled;
    if (typeof value === 'string' && /\{\{|\{%/.test(value)) {
      try {
        value = renderModel(value, {
          ref: () => undefined,
          source: () => undefined,
          vars,
          self: '',
        }).sql.trim();
      } catch (error) {
        result.review.push({
          about: rel(file),
          message: `${kind} ${basename(file).replace(/\.\w+$/, '')}: its enabled config ${String(config.enabled)} does not render (${(error as Error).message}); imported as enabled`,
        });
        return true;
      }
    }
    if (value === false || (typeof value === 'string' && /^false$/i.test(value.trim()))) {
      result.review.push({
        about: rel(file),
        message: `${kind} ${basename(file).replace(/\.\w+$/, '')} is disabled in dbt (enabled: ${String(config.enabled)}); not imported`,
      });
      return false;
    }
    return true;
  };
  const seeds = seedFiles
    .filter((f) => f.endsWith('.csv'))
    .filter((file) => {
      const name = basename(file, '.csv');
      return enabled(file, 'seed', {
        ...treeConfig(seedConfig, projectName, [...pathParts(seedPaths, rel(file)), name]),
        ...(seedDocs.get(name)?.config ?? {}),
      });
    });
  const seedTables = new Map<string, string>();
  for (const file of seeds) {
    const name = basename(file, '.csv');
    const doc = seedDocs.get(name);
    const config = {
      ...treeConfig(seedConfig, projectName, [...pathParts(seedPaths, rel(file)), name]),
      ...(doc?.config ?? {}),
    };
    const namespace = namespaceOf(config, defaultNamespace);
    seedTables.set(name, `${namespace}.${name}`);
  }
  // Sources.
  const sourceTables = new Map<string, string>();
  for (const source of sources)
    sourceTables.set(
      `${source.source}.${source.name}`,
      `${tableName(source.source)}.${tableName(source.name)}`,
    );

  // Models: a first pass finds each model's config (its namespace), the second renders for real.
  const models = modelFiles
    .filter((f) => f.endsWith('.sql'))
    .filter((file) => {
      const name = basename(file, '.sql');
      return enabled(file, 'model', {
        ...treeConfig(modelConfig, projectName, [...pathParts(modelPaths, rel(file)), name]),
        ...(modelDocs.get(name)?.config ?? {}),
      });
    });
  const modelTables = new Map<string, string>();
  const modelConfigs = new Map<string, Record<string, unknown>>();
  for (const file of models) {
    const name = basename(file, '.sql');
    const config = {
      ...treeConfig(modelConfig, projectName, [...pathParts(modelPaths, rel(file)), name]),
      ...(modelDocs.get(name)?.config ?? {}),
    };
    try {
      const first = renderModel(await readFile(file, 'utf8'), {
        ref: (m) => m,
        source: (s, t) => `${s}.${t}`,
        vars,
        self: name,
      });
      Object.assign(config, first.config);
    } catch {
      // Reported by the second pass.
    }
    modelConfigs.set(name, config);
    modelTables.set(name, `${namespaceOf(config, defaultNamespace)}.${name}`);
  }

  const session = await options.engine.openSession();
  try {
    for (const file of seeds) {
      const name = basename(file, '.csv');
      const table = seedTables.get(name)!;
      const doc = seedDocs.get(name);
      const config = {
        ...treeConfig(seedConfig, projectName, [...pathParts(seedPaths, rel(file)), name]),
        ...(doc?.config ?? {}),
      };
      const columnTypes = asRecord(config.column_types);
      const facts = await sniffCsv(session, file, columnTypes, doc);
      const dataPath = `data/seeds/${name}.csv`;
      await mkdir(join(out, 'data/seeds'), { recursive: true });
      await copyFile(file, join(out, dataPath));
      result.files.push(dataPath);
      const draft = draftSchemaFiles({
        table,
        owner: OWNER,
        columns: facts.columns,
        rowsSampled: facts.rows,
        source: { type: 'csv', uri: dataPath, options: { header: true } },
        sourceLabel: `dbt seed ${rel(file)}`,
        taskName: `ingest_${name}`,
      });
      const [, sourceTask] = [draft.files[0], draft.files[2]];
      const protoPath = `schemas/${table.replace('.', '/')}.proto`;
      files[protoPath] = unmaskedProto(
        draft.fields,
        table,
        draft.message.split('.')[1]!,
        facts.columns,
        rel(file),
      );
      tableDocs.push(
        tableYaml(
          table,
          doc?.description,
          `${protoPath}#${draft.message}`,
          validationsOf(table, doc, rel(file), result, lookup),
        ),
      );
      taskDocs.push(sourceTask!.text.replace(/^#.*\n/, ''));
      notePhi(result, table, facts.columns);
      result.converted.push({
        about: rel(file),
        message: `seed → table ${table}, ingested from ${dataPath} by task ingest_${name}`,
      });
    }
  } finally {
    session.close();
  }

  const sourcesWithTable = new Set<string>();
  for (const source of sources) {
    const table = sourceTables.get(`${source.source}.${source.name}`)!;
    const columns = source.columns.map((c) => ({
      name: c.name,
      ...(c.description !== undefined ? { description: c.description } : {}),
      type: duckdbTypeOf(c.dataType ?? 'varchar'),
    }));
    const protoPath = `schemas/${table.replace('.', '/')}.proto`;
    if (columns.length > 0) {
      const draft = draftSchemaFiles({
        table,
        owner: OWNER,
        columns,
        rowsSampled: 0,
        source: {},
        sourceLabel: `dbt source ${source.file}`,
      });
      files[protoPath] = unmaskedProto(
        draft.fields,
        table,
        draft.message.split('.')[1]!,
        columns,
        source.file,
      );
      tableDocs.push(
        tableYaml(
          table,
          source.description,
          `${protoPath}#${draft.message}`,
          validationsOf(table, source, source.file, result, lookup),
        ),
      );
      notePhi(result, table, columns);
      sourcesWithTable.add(`${source.source}.${source.name}`);
      result.converted.push({
        about: source.file,
        message: `source ${source.source}.${source.name} → table ${table}`,
      });
      result.review.push({
        about: table,
        message: `a dbt source: no ingestion task was written; add one in tasks/ reading the system it comes from (docs/sources.md), and check the column types in ${protoPath} (${source.columns.some((c) => c.dataType) ? 'from data_type' : 'all text: the source declares no data_type'})`,
      });
    } else {
      result.review.push({
        about: `${source.file}`,
        message: `source ${source.source}.${source.name} lists no columns, so no table was written for ${table}; declare its columns (or write its .proto) and an ingestion task`,
      });
    }
  }

  // Render every model; then a model reading one that was skipped (or a source left without a
  // table) is not converted either, so the written repo validates.
  const renderedModels = new Map<string, { rendered: RenderResult; sources: string[] }>();
  const skipped = new Map<string, string>();
  for (const file of models) {
    const name = basename(file, '.sql');
    const sourcesRead: string[] = [];
    try {
      const rendered = renderModel(await readFile(file, 'utf8'), {
        ref: lookupRef,
        source: (s, t) => {
          sourcesRead.push(`${s}.${t}`);
          return sourceTables.get(`${s}.${t}`);
        },
        vars,
        self: modelTables.get(name)!,
      });
      renderedModels.set(name, { rendered, sources: sourcesRead });
    } catch (error) {
      if (!(error instanceof JinjaError)) throw error;
      const place =
        error.line !== undefined
          ? `:${error.line}${error.column !== undefined ? `:${error.column}` : ''}`
          : '';
      skipped.set(name, 'its Jinja');
      result.review.push({
        about: `${rel(file)}${place}`,
        message: `model ${name} skipped: ${error.message}; rewrite that part in SQL and add it by hand`,
      });
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const file of models) {
      const name = basename(file, '.sql');
      const entry = renderedModels.get(name);
      if (!entry || skipped.has(name)) continue;
      const missing = [
        ...entry.rendered.refs
          .filter((ref) => skipped.has(ref))
          .map((ref) => `model ${ref}, which is not converted`),
        ...entry.sources
          .filter((source) => !sourcesWithTable.has(source))
          .map((source) => `source ${source}, which has no table (no columns declared)`),
      ];
      if (missing.length === 0) continue;
      const table = modelTables.get(name)!;
      const sqlPath = `sql/${table.replace('.', '/')}.sql`;
      files[sqlPath] =
        `-- From dbt model ${rel(file)}.\n${entry.rendered.sql.replace(/^\s*\n/, '').trimEnd()}\n`;
      skipped.set(name, missing[0]!);
      changed = true;
      result.review.push({
        about: rel(file),
        message: `model ${name} not converted: it reads ${[...new Set(missing)].join('; ')}. Its rendered SQL is in ${sqlPath}: add its table and task (build_${name}) once what it reads is there`,
      });
    }
  }

  for (const file of models) {
    const name = basename(file, '.sql');
    if (skipped.has(name)) continue;
    const table = modelTables.get(name)!;
    const config = modelConfigs.get(name)!;
    const doc = modelDocs.get(name);
    const { rendered } = renderedModels.get(name)!;
    const sqlPath = `sql/${table.replace('.', '/')}.sql`;
    files[sqlPath] = `-- From dbt model ${rel(file)}.\n${rendered.sql.replace(/^\s*\n/, '').trimEnd()}\n`;
    tableDocs.push(
      tableYaml(
        table,
        doc?.description,
        undefined,
        validationsOf(table, doc, doc?.file ?? rel(file), result, lookup),
        doc?.columns,
      ),
    );
    taskDocs.push(
      stringify({ kind: 'task', name: `build_${name}`, type: 'projection', target: table, sql: sqlPath }),
    );
    const materialized = String(config.materialized ?? 'view');
    const why: Record<string, string> = {
      view: 'dbt would make a view; Tessera stores each run as a new version of the table, rebuilt when an input publishes',
      incremental: 'incremental in dbt; Tessera rebuilds it in full on each run (is_incremental() is false)',
      ephemeral: 'ephemeral in dbt (inlined into its readers); Tessera makes it a table of its own',
    };
    if (why[materialized] !== undefined)
      result.review.push({ about: rel(file), message: `model ${name}: ${why[materialized]}` });
    else if (materialized !== 'table')
      result.review.push({
        about: rel(file),
        message: `model ${name}: materialized ${materialized} has no Tessera counterpart; it is a projection rebuilt in full`,
      });
    if (rendered.usedIsIncremental && materialized !== 'incremental')
      result.review.push({
        about: rel(file),
        message: `model ${name} calls is_incremental(), rendered as false`,
      });
    notePhi(result, table, doc?.columns ?? []);
    result.converted.push({
      about: rel(file),
      message: `model → projection ${table} (task build_${name}, ${sqlPath})`,
    });
  }

  function lookupRef(name: string): string | undefined {
    return modelTables.get(name) ?? seedTables.get(name);
  }
  function lookup(kind: 'ref' | 'source', args: string[]): string | undefined {
    return kind === 'ref' ? lookupRef(args[0] ?? '') : sourceTables.get(`${args[0]}.${args[1]}`);
  }

  files['tessera.yaml'] =
    `name: ${tableName(projectName)}\ncatalog: sqlite:.tessera/catalog.db\nstorage: file:.tessera/warehouse\nengine: duckdb\n`;
  files['.gitignore'] = '.tessera/\n';
  files[`owners/${OWNER}.yaml`] = stringify({
    kind: 'owner',
    name: OWNER,
    description: `Imported from dbt project ${projectName}; name the team that answers for these tables.`,
    members: ['you@example.org'],
    channels: [{ console: {} }],
  });
  if (tableDocs.length > 0) files['tables/dbt.yaml'] = tableDocs.join('---\n');
  if (taskDocs.length > 0) files['tasks/dbt.yaml'] = taskDocs.join('---\n');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(out, path)), { recursive: true });
    await writeFile(join(out, path), text);
    result.files.push(path);
  }
  for (const entry of result.phi)
    result.review.push({
      about: `${entry.table}.${entry.column}`,
      message: `looks like PII/PHI, ${entry.category} (${entry.reason}); not masked — to mask it, set sensitivity: PHI and mask: ${entry.mask} on the field`,
    });
  return result;
}

/** Column types of a seed: DuckDB's CSV sniffer, overridden by dbt's `column_types`. */
async function sniffCsv(
  session: Awaited<ReturnType<Engine['openSession']>>,
  file: string,
  columnTypes: Record<string, unknown>,
  doc: NodeDoc | undefined,
): Promise<{ columns: ColumnFacts[]; rows: number }> {
  const overrides = Object.entries(columnTypes).map(
    ([column, type]) => `${quoteLiteral(column)}: ${quoteLiteral(duckdbTypeOf(String(type)))}`,
  );
  const read = `read_csv(${quoteLiteral(file)}, header = true${overrides.length > 0 ? `, types = {${overrides.join(', ')}}` : ''})`;
  const described = await session.describe(`select * from ${read}`);
  const stats = described
    .map(
      (c, i) =>
        `count(*) filter (where ${quoteIdentifier(c.name)} is null) as n${i}, count(distinct ${quoteIdentifier(c.name)}) as d${i}, list(distinct cast(${quoteIdentifier(c.name)} as varchar))[1:5] as s${i}`,
    )
    .join(', ');
  const { rows } = await session.query(`select count(*) as total${stats ? `, ${stats}` : ''} from ${read}`);
  const row = rows[0] ?? {};
  const total = Number(row.total);
  const descriptions = new Map((doc?.columns ?? []).map((c) => [c.name, c.description]));
  return {
    rows: total,
    columns: described.map((c, i) => {
      const description = descriptions.get(c.name);
      return {
        name: c.name,
        type: c.type,
        nullCount: Number(row[`n${i}`]),
        distinctCount: Number(row[`d${i}`]),
        samples: (row[`s${i}`] as unknown[] | undefined) ?? [],
        ...(description !== undefined ? { description } : {}),
      };
    }),
  };
}

/** The drafted fields as `.proto`, with no sensitivity or mask: PHI is listed for review, not applied. */
function unmaskedProto(
  fields: ReturnType<typeof draftSchemaFiles>['fields'],
  table: string,
  message: string,
  columns: readonly ColumnFacts[],
  from: string,
): string {
  const namespace = table.slice(0, table.indexOf('.'));
  const imports = ['tessera/options.proto'];
  if (fields.some((f) => f.protoType === 'google.protobuf.Timestamp'))
    imports.push('google/protobuf/timestamp.proto');
  if (fields.some((f) => f.protoType === 'google.type.Date')) imports.push('google/type/date.proto');
  const lines = [
    'syntax = "proto3";',
    `package ${namespace};`,
    '',
    ...imports.map((f) => `import "${f}";`),
    '',
    `// Imported from ${from}.`,
    `message ${message} {`,
  ];
  fields.forEach((field, index) => {
    const description = columns[index]?.description;
    if (description) lines.push(`  // ${description.replace(/\s+/g, ' ').trim()}`);
    if (field.phi)
      lines.push(
        `  // Review: looks like PHI (${field.phi.category}); not masked. Suggested: sensitivity: PHI, mask: ${field.phi.mask}.`,
      );
    const options: string[] = [];
    if (field.decimal) options.push(`decimal: "${field.decimal}"`);
    const annotation = options.length > 0 ? ` [(tessera.field) = { ${options.join(', ')} }]` : '';
    lines.push(`  optional ${field.protoType} ${field.name} = ${index + 1}${annotation};`);
  });
  lines.push('}', '');
  return lines.join('\n');
}

function tableYaml(
  table: string,
  description: string | undefined,
  schema: string | undefined,
  validations: Record<string, unknown>[],
  columns?: ColumnDoc[],
): string {
  const document: Record<string, unknown> = { kind: 'table', name: table, owner: OWNER };
  if (description !== undefined) document.description = description.trim();
  if (schema !== undefined) document.schema = schema;
  if (validations.length > 0) document.validations = validations;
  const documented = (columns ?? []).filter((c) => c.description);
  const comments = documented
    .map((c) => `# column ${c.name}: ${c.description!.replace(/\s+/g, ' ').trim()}\n`)
    .join('');
  return `${comments}${stringify(document, { flowCollectionPadding: true })}`;
}

type Lookup = (kind: 'ref' | 'source', args: string[]) => string | undefined;

/**
 * dbt's generic tests → Great Expectations expectations: the four built-in ones and the dbt-utils
 * tests whose meaning is exactly an expectation's; the rest is reported.
 */
export function mapTest(
  test: unknown,
  column: string | undefined,
  lookup: Lookup,
): { expectation: Record<string, unknown> } | { unsupported: string } {
  const [name, rawArgs] =
    typeof test === 'string' ? [test, {}] : (Object.entries(asRecord(test))[0] ?? ['', {}]);
  const args = { ...asRecord(rawArgs), ...asRecord(asRecord(rawArgs).arguments) };
  const config = { ...asRecord(args.config) };
  for (const key of ['where', 'severity', 'error_if', 'warn_if', 'limit'])
    if (args[key] !== undefined) config[key] = args[key];
  const conditions = Object.keys(config).filter((key) => !['tags', 'meta', 'enabled', 'alias'].includes(key));
  if (conditions.length > 0)
    return {
      unsupported: `${name}: its ${conditions.join(', ')} config has no exact counterpart; write the validation by hand`,
    };
  const needColumn = (build: (c: string) => Record<string, unknown>) =>
    column === undefined
      ? { unsupported: `${name} is a column test but is not under a column` }
      : { expectation: build(column) };
  switch (name) {
    case 'unique':
      return needColumn((c) => ({ expect_column_values_to_be_unique: { column: c } }));
    case 'not_null':
      return needColumn((c) => ({ expect_column_values_to_not_be_null: { column: c } }));
    case 'accepted_values': {
      if (args.quote === false)
        return {
          unsupported: 'accepted_values with quote: false compares unquoted expressions; write it by hand',
        };
      return needColumn((c) => ({
        expect_column_values_to_be_in_set: { column: c, value_set: asList(args.values) },
      }));
    }
    case 'relationships': {
      const to = /^\s*(ref|source)\(\s*(.*?)\s*\)\s*$/.exec(String(args.to ?? ''));
      const parts = to ? [...to[2]!.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!) : [];
      const other = to
        ? lookup(to[1] as 'ref' | 'source', to[1] === 'ref' ? parts.slice(-1) : parts)
        : undefined;
      if (other === undefined)
        return {
          unsupported: `relationships: to: ${String(args.to)} names no model, seed or source of the project`,
        };
      return needColumn((c) => ({
        expect_column_values_to_be_present_in_other_table: {
          column: c,
          other_table_name: other,
          other_column_name: String(args.field),
        },
      }));
    }
    case 'dbt_utils.unique_combination_of_columns':
      return {
        expectation: {
          expect_compound_columns_to_be_unique: {
            column_list: asList(args.combination_of_columns).map(String),
          },
        },
      };
    case 'dbt_utils.accepted_range': {
      if (args.min_value === undefined && args.max_value === undefined)
        return { unsupported: 'dbt_utils.accepted_range without min_value or max_value' };
      const strict = args.inclusive === false;
      return needColumn((c) => ({
        expect_column_values_to_be_between: {
          column: c,
          ...(args.min_value !== undefined ? { min_value: args.min_value } : {}),
          ...(args.max_value !== undefined ? { max_value: args.max_value } : {}),
          ...(strict ? { strict_min: true, strict_max: true } : {}),
        },
      }));
    }
    default:
      return {
        unsupported: `${name} has no exact Great Expectations counterpart in Tessera; write the validation by hand`,
      };
  }
}

function validationsOf(
  table: string,
  doc: { tests: unknown[]; columns: ColumnDoc[] } | undefined,
  file: string,
  result: DbtImportResult,
  lookup: Lookup,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const tryTest = (test: unknown, column?: string) => {
    const mapped = mapTest(test, column, lookup);
    if ('expectation' in mapped) out.push(mapped.expectation);
    else
      result.review.push({
        about: file,
        message: `${table}${column ? `.${column}` : ''}: test ${mapped.unsupported}`,
      });
  };
  for (const test of doc?.tests ?? []) tryTest(test);
  for (const column of doc?.columns ?? []) for (const test of column.tests) tryTest(test, column.name);
  if (out.length > 0)
    result.converted.push({ about: file, message: `${out.length} test(s) of ${table} → validations` });
  return out;
}

function notePhi(
  result: DbtImportResult,
  table: string,
  columns: readonly { name: string; description?: string; samples?: readonly unknown[]; type?: string }[],
): void {
  for (const column of columns) {
    const phi = suggestPhi(column);
    if (phi)
      result.phi.push({
        table,
        column: column.name,
        category: phi.category,
        mask: phi.mask,
        reason: phi.reason,
      });
  }
}

/** The summary `tessera import dbt` prints. */
export function formatDbtImportSummary(result: DbtImportResult, out: string): string {
  const lines = [
    `wrote a Tessera catalog repo to ${out} (${result.files.length} files)`,
    '',
    `converted (${result.converted.length}):`,
  ];
  for (const note of result.converted) lines.push(`  ${note.about}: ${note.message}`);
  lines.push('', `needs a human (${result.review.length}):`);
  for (const note of result.review) lines.push(`  ${note.about}: ${note.message}`);
  if (result.review.length === 0) lines.push('  nothing');
  lines.push('', `next: cd ${out} && tessera validate && tessera apply && tessera run --all`);
  return lines.join('\n');
}

// --- dbt project helpers ---

function addNode(into: Map<string, NodeDoc>, raw: unknown, file: string): void {
  const node = asRecord(raw);
  if (typeof node.name !== 'string') return;
  into.set(node.name, {
    name: node.name,
    ...describe(node.description),
    config: asRecord(node.config),
    columns: asList(node.columns).map(columnDoc),
    tests: testsOf(node),
    file,
  });
}

function columnDoc(raw: unknown): ColumnDoc {
  const column = asRecord(raw);
  return { name: String(column.name), ...describe(column.description), tests: testsOf(column) };
}

function testsOf(node: Record<string, unknown>): unknown[] {
  return [...asList(node.tests), ...asList(node.data_tests)];
}

function describe(value: unknown): { description?: string } {
  return typeof value === 'string' && value.trim() !== '' ? { description: value.trim() } : {};
}

/** The `+key`/`key` settings that apply to a node at `parts` (folders) in a dbt config tree. */
function treeConfig(
  tree: Record<string, unknown>,
  projectName: string,
  parts: string[],
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const take = (level: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(level))
      if (key.startsWith('+')) config[key.slice(1)] = value;
      else if (typeof value !== 'object' || value === null || key === 'column_types') config[key] = value;
  };
  take(tree);
  let level = asRecord(tree[projectName]);
  take(level);
  for (const part of parts) {
    level = asRecord(level[part]);
    take(level);
  }
  return config;
}

/** Folders between the model or seed path and the file. */
function pathParts(roots: string[], file: string): string[] {
  const parts = file.split('/');
  const root = roots.find((r) => file.startsWith(`${r.replace(/\/$/, '')}/`));
  const depth = root ? root.replace(/\/$/, '').split('/').length : 1;
  return parts.slice(depth, -1);
}

function namespaceOf(config: Record<string, unknown>, fallback: string): string {
  return typeof config.schema === 'string' && config.schema !== '' ? tableName(config.schema) : fallback;
}

function tableName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
}

/** dbt_project.yml vars: top-level values, and those scoped to the project. */
function flattenVars(vars: Record<string, unknown>, projectName: string): Record<string, unknown> {
  const scoped = asRecord(vars[projectName]);
  const { [projectName]: _scoped, ...global } = vars;
  return { ...global, ...scoped };
}

/** A dbt (warehouse) column type → DuckDB's spelling. */
function duckdbTypeOf(type: string): string {
  const t = type.trim().toLowerCase();
  if (/^(text|string|varchar|character varying|char)/.test(t)) return 'VARCHAR';
  if (/^(int|integer|bigint|smallint|number\(\d+,\s*0\)|int64)$/.test(t)) return 'BIGINT';
  if (/^(float|double|real|float64|double precision)$/.test(t)) return 'DOUBLE';
  if (/^(numeric|decimal|number)/.test(t)) return t.replace(/^number/, 'decimal').toUpperCase();
  if (/^bool/.test(t)) return 'BOOLEAN';
  if (t === 'date') return 'DATE';
  if (/^timestamp/.test(t)) return 'TIMESTAMP';
  return type.toUpperCase();
}

/** A YAML file of the dbt project; one that does not parse is an error naming its line and column. */
async function readYaml(project: string, path: string): Promise<unknown> {
  const text = await readFile(join(project, path), 'utf8').catch((error: unknown) => {
    throw new UsageError(`cannot read ${join(project, path)}: ${(error as Error).message}`);
  });
  try {
    return parseYaml(text);
  } catch (error) {
    const place =
      error instanceof YAMLParseError && error.linePos
        ? `:${error.linePos[0].line}:${error.linePos[0].col}`
        : '';
    throw new UsageError(
      `${path}${place}: the dbt project's YAML does not parse: ${(error as Error).message.split('\n')[0]}; fix it and import again`,
    );
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringList(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) && value.length > 0 ? value.map(String) : fallback;
}
