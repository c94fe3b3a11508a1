import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Diagnostic } from '../diagnostics/index.ts';
import type { Definitions, FieldDef, ProjectDef } from '../model/index.ts';
import { projectDocumentSchema } from './document-schemas.ts';
import { diagnosticsFromZodIssues } from './zod-issue-mapper.ts';
import { CatalogDocumentParser } from './catalog-document-parser.ts';
import { lintCrossReferences } from './cross-reference-linter.ts';
import { DefinitionCache } from './definition-cache.ts';
import { findDefinitionFiles } from './definition-file-finder.ts';
import type { SecretValue } from './env-interpolator.ts';
import { HIPAA_SAFE_HARBOR, lintHipaaSafeHarbor } from './hipaa-safe-harbor-profile.ts';
import { loadProjectSettings, PROJECT_FILE, requireRepoFolder } from './project-settings-loader.ts';
import { ProtoSchemaLoader } from './proto-schema-loader.ts';
import { prepareAnalyses } from './sql-reference-analyzer.ts';
import { lintSqlReferences } from './sql-reference-linter.ts';
import { lintPortableProjectionSql } from './portable-sql-linter.ts';
import { lintProjectionSql } from './projection-sql-linter.ts';
import { lintTaskCycles } from './task-cycle-linter.ts';

export interface LoadDefinitionsOptions {
  /** Variables for `${NAME}` and the TESSERA_* overrides; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Dev mode tolerates a missing `governance.hash_key` (a warning instead of an error). Default false. */
  devMode?: boolean;
  /**
   * Keep each YAML file's validation and each projection's parse in `.tessera/cache/` (keyed by
   * content), so the next load re-validates only what changed. Default true. `'read-only'` uses
   * the cache that is there but writes nothing (`plan --base`: a check that leaves no trace);
   * `false` neither reads nor writes it.
   */
  cache?: boolean | 'read-only';
  /**
   * Read the cache of this repo folder instead of the loaded one's: entries are keyed by content
   * (a file's path in the repo and its text, SQL text, .proto texts), so another checkout of the
   * same repo may use them (`plan --base` loads the base with the working tree's cache). Only
   * with `cache: 'read-only'`: one checkout never writes another's cache.
   */
  cacheOf?: string;
  /**
   * Called once `tessera.yaml` is read, before the definitions load: a caller can start what needs
   * only the project's settings (loading the catalog store's code) while they do.
   */
  onProject?: (project: ProjectDef) => void;
}

export interface LoadedDefinitions {
  /** Everything that loaded; documents that failed validation are left out, so check `diagnostics` first. */
  definitions: Definitions;
  /** Every problem found, sorted by file, line and column. */
  diagnostics: Diagnostic[];
  /** The `${VAR}` values substituted, for `redactSecrets` before printing or storing definitions. */
  secrets: SecretValue[];
}

/**
 * Load a catalog repo: `tessera.yaml`, every YAML definition, the .proto schemas and .sql files
 * they name; then lint cross-references, projection SQL, cycles and the governance profile.
 * Pure: reads only the repo's definition files, never data, storage or the network.
 */
export async function loadDefinitions(
  root: string,
  options: LoadDefinitionsOptions = {},
): Promise<LoadedDefinitions> {
  const repoRoot = resolve(root);
  await requireRepoFolder(repoRoot);
  const env = options.env ?? process.env;
  const devMode = options.devMode ?? false;
  const settings = loadProjectSettings(repoRoot, env, devMode, (raw, document) => {
    const parsed = projectDocumentSchema.safeParse(raw);
    return parsed.success ? [] : diagnosticsFromZodIssues(parsed.error.issues, document, PROJECT_FILE);
  });
  const diagnostics: Diagnostic[] = [...settings.diagnostics];
  options.onProject?.(settings.project);

  const cache =
    options.cache === false
      ? DefinitionCache.disabled()
      : options.cache === 'read-only'
        ? await DefinitionCache.open(resolve(options.cacheOf ?? repoRoot), { readOnly: true })
        : await DefinitionCache.open(repoRoot);
  const parser = new CatalogDocumentParser(repoRoot, env);
  const files = await findDefinitionFiles(repoRoot);
  const texts = await Promise.all(files.map((file) => readFile(join(repoRoot, file), 'utf8')));
  // DuckDB parses the projections' SQL on its own thread while this one validates the YAML.
  prepareAnalyses(cache.restoreParses(parser.readSqlFilesAhead(texts))).catch(() => {
    // The lint below parses the same SQL again and reports what went wrong.
  });
  let yielded = performance.now();
  for (const [index, file] of files.entries()) {
    // Let the parser's answers in between files every few milliseconds, so its thread never waits
    // long for this one (and thousands of small files do not pay a turn of the event loop each).
    if (performance.now() - yielded > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      yielded = performance.now();
    }
    const text = texts[index]!;
    const cached = cache.validatedFile(file, text);
    if (cached) {
      parser.addCachedFile(file, text, cached);
      continue;
    }
    const validated = parser.validateFile(file, text);
    cache.rememberFile(file, text, validated);
    parser.addValidatedFile(validated, (position) => validated.parsed[position]!);
  }
  parser.readSqlFiles();
  diagnostics.push(...parser.diagnostics);
  const { catalog } = parser;

  const protoLoader = new ProtoSchemaLoader(repoRoot, cache);
  for (const table of catalog.tables) {
    if (table.def.schemaRef === undefined) continue;
    const resolved = protoLoader.resolve(
      table.def.schemaRef,
      () => table.document.locate(['schema']),
      `table ${table.def.name}`,
    );
    diagnostics.push(...resolved.diagnostics);
    if (resolved.schema) {
      // A new Def, never an edit: the cache keeps the one validated (see `addValidatedFile`).
      const { description } = resolved.schema;
      table.def = {
        ...table.def,
        schema: resolved.schema,
        ...(table.def.description === undefined && description !== undefined ? { description } : {}),
      };
    }
  }
  diagnostics.push(...protoLoader.diagnostics);

  diagnostics.push(...lintCrossReferences(catalog));
  const projectionSql = catalog.tasks.flatMap((task) => (task.def.sql === undefined ? [] : [task.def.sql]));
  cache.primeParses(projectionSql);
  const sql = await lintSqlReferences(catalog);
  cache.rememberParses(projectionSql);
  diagnostics.push(...sql.diagnostics);
  diagnostics.push(...(await lintProjectionSql(catalog, sql.sqlTables, cache)));
  diagnostics.push(...(await lintPortableProjectionSql(catalog, settings.project.engine)));
  await cache.save();
  diagnostics.push(...lintTaskCycles(catalog, sql.sqlTables));

  const tables = catalog.tables.map((table) => table.def);
  const { project } = settings;
  if (project.governance.profile === HIPAA_SAFE_HARBOR) diagnostics.push(...lintHipaaSafeHarbor(tables));
  const usesHash = tables.some((table) => (table.schema?.fields ?? []).some(hasHashMask));
  if (
    !project.governance.hashKey &&
    !settings.hashKeyVariableMissing &&
    (project.governance.profile || usesHash)
  ) {
    diagnostics.push({
      code: 'missing-hash-key',
      severity: devMode ? 'warning' : 'error',
      message: `governance.hash_key is not set; ${usesHash ? 'HASH masks need' : `the ${project.governance.profile} profile needs`} a secret key for keyed hashing: add \`hash_key: \${TESSERA_HASH_KEY}\` under \`governance\` in ${PROJECT_FILE} and export the variable (until then dev mode hashes with a random key this catalog generated for itself; outside dev mode the key is required)`,
      at: { file: PROJECT_FILE, line: 1, column: 1 },
    });
  }

  const byName = <T extends { name: string }>(items: { def: T }[]) =>
    items.map((item) => item.def).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    definitions: {
      project,
      owners: byName(catalog.owners),
      tables: byName(catalog.tables),
      tasks: byName(catalog.tasks),
      roles: byName(catalog.roles),
      principals: byName(catalog.principals),
    },
    diagnostics: sortAndDeduplicate(diagnostics),
    secrets: [...settings.secrets, ...parser.secrets],
  };
}

/** How long validating YAML runs before it lets the SQL parser's answers in. */
const YIELD_EVERY_MS = 5;

function hasHashMask(field: FieldDef): boolean {
  if (field.mask === 'HASH') return true;
  const element = field.type.kind === 'list' ? field.type.element : field.type;
  return element.kind === 'struct' && element.fields.some(hasHashMask);
}

function sortAndDeduplicate(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics
    .filter((diagnostic) => {
      const key = JSON.stringify([diagnostic.at, diagnostic.code, diagnostic.message]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort(
      (a, b) =>
        (a.at.file < b.at.file ? -1 : a.at.file > b.at.file ? 1 : 0) ||
        a.at.line - b.at.line ||
        a.at.column - b.at.column,
    );
}
