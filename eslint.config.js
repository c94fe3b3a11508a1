// Lint rules, including the layer boundaries from docs/architecture.md: imports point inward only.
import tseslint from 'typescript-eslint';

/** What each `src/` folder may import (besides itself); every other folder is off limits. */
const ALLOWED_IMPORTS = {
  model: [],
  diagnostics: ['model'],
  sql: ['model', 'diagnostics'],
  graph: ['model', 'diagnostics', 'sql'],
  definitions: ['model', 'diagnostics', 'sql', 'graph'],
  catalog: ['model', 'diagnostics', 'graph'],
  storage: ['model', 'diagnostics'],
  engines: ['model', 'diagnostics'],
  ingest: ['model', 'diagnostics', 'engines', 'storage'],
  quality: ['model', 'diagnostics', 'engines'],
  governance: ['model', 'diagnostics', 'sql', 'graph', 'engines'],
  runner: [
    'model',
    'diagnostics',
    'sql',
    'graph',
    'catalog',
    'storage',
    'engines',
    'ingest',
    'quality',
    'governance',
    'notify',
  ],
  // Events → incidents → channels (SPEC §4); the runner records events and the orchestrator delivers
  // through it. The channels speak to outside services with nodemailer and fetch.
  notify: ['model', 'diagnostics', 'graph', 'catalog'],
  orchestrator: ['model', 'diagnostics', 'graph', 'catalog', 'engines', 'runner', 'definitions', 'notify'],
  // Git sync (SPEC §6): the watcher and the push webhook; the platform hands it validate, plan and
  // apply as callbacks. Speaks to Git with simple-git and listens with node:http.
  sync: ['model', 'diagnostics', 'definitions', 'graph', 'catalog', 'notify'],
  // The governed read path; only platform.ts imports it. Its one orchestrator import (durations
  // spelled the repo's way) is allowed below.
  'read-path': ['model', 'diagnostics', 'sql', 'catalog', 'storage', 'engines', 'governance', 'runner'],
  // `tessera import dbt`: a dbt project → a catalog repo; seeds' types sniffed through the Engine.
  'dbt-import': ['model', 'diagnostics', 'definitions', 'engines'],
  // OpenLineage out: run events → RunEvents POSTed with fetch; the platform wires it to the runner.
  openlineage: ['model', 'diagnostics', 'sql'],
};
/** Single files a folder may import from a layer it may not otherwise import. */
const ALLOWED_FILES = {
  'read-path': ['**/orchestrator/duration-text.ts'],
  // `on: source_change` watches an s3:// source's objects through the source readers' listing.
  orchestrator: ['**/ingest/index.ts'],
  // A field's DuckDB column type is spelled once, by the DuckDB dialect (pure SQL text): the
  // projection binder creates tables of those types, OpenLineage's schema facet names them.
  sql: ['**/engines/dialect.ts'],
  openlineage: ['**/engines/dialect.ts'],
};
const DUCKDB_ONLY_IN_ENGINE = {
  name: '@duckdb/node-api',
  message: 'Only engines/duckdb and sql/ may import DuckDB.',
};

const LAYERS = [...Object.keys(ALLOWED_IMPORTS), 'server', 'cli', 'example', 'platform'];

/** The composition root: no layer imports it (src/platform.ts, and src/platform/ beside it). */
const PLATFORM_IS_THE_ROOT = {
  group: ['**/platform.ts', '**/platform.js'],
  message:
    'only the faces (cli/, server/) import platform.ts, the composition root (see docs/architecture.md)',
};

/** Layers reach an engine through the `Engine` interface; only the composition root picks one. */
const CONCRETE_ENGINES_ONLY_IN_PLATFORM = {
  group: ['**/engines/duckdb/*', '**/engines/duckdb/**'],
  message:
    'use the Engine interface (engines/engine.ts); only platform.ts chooses a concrete engine (see docs/architecture.md)',
};

const layerRules = Object.entries(ALLOWED_IMPORTS).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        // Repeated here: a file's no-restricted-imports setting replaces, not extends, an earlier one.
        paths: folder === 'engines' || folder === 'sql' ? [] : [DUCKDB_ONLY_IN_ENGINE],
        patterns: [
          ...LAYERS.filter((name) => name !== folder && !allowed.includes(name)).map((name) => ({
            group: [
              `**/${name}/*`,
              `**/${name}/**`,
              ...(ALLOWED_FILES[folder] ?? [])
                .filter((file) => file.includes(`/${name}/`))
                .map((file) => `!${file}`),
            ],
            message: `${folder}/ may not import ${name}/ (see docs/architecture.md)`,
          })),
          PLATFORM_IS_THE_ROOT,
          ...(folder === 'engines' ? [] : [CONCRETE_ENGINES_ONLY_IN_PLATFORM]),
        ],
      },
    ],
  },
}));

/**
 * The CLI is a face: it parses flags, calls `Platform` (platform.ts, or `CatalogBrowser` for
 * read-only commands) and prints. Types come from anywhere; values only from diagnostics/, model/,
 * the platform and a few pure helpers (duration parser, plan and type formatters) — never an
 * engine, the orchestrator, the runner, the read path or the platform's internals.
 */
const CLI_MAY_NOT_REACH = [
  'engines',
  'orchestrator',
  'runner',
  'ingest',
  'quality',
  'sql',
  'graph',
  'storage',
  'read-path',
  'governance',
  'catalog',
  'definitions',
  'notify',
  'openlineage',
  'sync',
  'server',
  'example',
];
const CLI_MAY_USE = [
  '**/catalog/schema-diff.ts',
  '**/catalog/plan.ts',
  '**/definitions/duration-parser.ts',
  '**/platform/catalog-browser.ts',
  // `serve` starts the network faces beside the platform it opened.
  '**/server/index.ts',
];
const PLATFORM_INTERNALS = {
  group: ['**/platform/internals.ts', '**/platform/internals.js'],
  message: "cli/ may not reach the platform's internals (store, storage, engine); add a Platform method",
};
const cliLayer = {
  files: ['src/cli/**/*.ts'],
  rules: {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: [
          DUCKDB_ONLY_IN_ENGINE,
          { name: 'kysely', message: 'cli/ reaches the catalog through Platform' },
        ],
        patterns: [
          {
            group: [
              ...CLI_MAY_NOT_REACH.flatMap((name) => [`**/${name}/*`, `**/${name}/**`]),
              ...CLI_MAY_USE.map((file) => `!${file}`),
            ],
            allowTypeImports: true,
            message:
              'cli/ calls Platform; it imports only types from the other layers (see src/cli/README.md)',
          },
          PLATFORM_INTERNALS,
        ],
      },
    ],
    // `await import(...)` escapes no-restricted-imports: the lazily loaded modules are checked here.
    'no-restricted-syntax': [
      'error',
      {
        selector: `ImportExpression[source.value=/\\.\\.\\x2F(${CLI_MAY_NOT_REACH.filter((name) => name !== 'server').join('|')})\\x2F/]`,
        message: 'cli/ loads only the platform lazily (see src/cli/README.md)',
      },
      {
        selector: 'ImportExpression[source.value=/\\.\\.\\x2Fserver\\x2F(?!index\\.ts$)/]',
        message: "cli/ loads only the platform and the faces' entry (server/index.ts) lazily",
      },
      {
        selector: 'ImportExpression[source.value=/\\x2Fplatform\\x2Finternals/]',
        message: PLATFORM_INTERNALS.message,
      },
    ],
  },
};

/**
 * The servers (HTTP API, pgwire) are faces like the CLI: values only from diagnostics/, model/ and
 * platform.ts, types from anywhere. Never an engine, the catalog store, governance, the read path or
 * the platform's internals: every read of table data goes through `Platform.query` (invariant 2).
 */
const SERVER_MAY_NOT_REACH = CLI_MAY_NOT_REACH.filter((name) => name !== 'server').concat('cli');
const serverLayer = {
  files: ['src/server/**/*.ts'],
  rules: {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: [
          DUCKDB_ONLY_IN_ENGINE,
          { name: 'kysely', message: 'server/ reaches the catalog through Platform' },
        ],
        patterns: [
          {
            group: SERVER_MAY_NOT_REACH.flatMap((name) => [`**/${name}/*`, `**/${name}/**`]),
            allowTypeImports: true,
            message:
              'server/ calls Platform; it imports only types from the other layers (see src/server/README.md)',
          },
          {
            group: ['**/platform/*', '**/platform/**'],
            allowTypeImports: true,
            message:
              "server/ may not reach the platform's modules (store, storage, engine); add a Platform method",
          },
        ],
      },
    ],
    'no-restricted-syntax': [
      'error',
      {
        selector: `ImportExpression[source.value=/\\.\\.\\x2F(${SERVER_MAY_NOT_REACH.join('|')}|platform)\\x2F/]`,
        message: 'server/ loads only the platform lazily (see src/server/README.md)',
      },
    ],
  },
};

/** platform.ts (and src/platform/) compose every layer but never a face. */
const platformLayer = {
  files: ['src/platform.ts', 'src/platform/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [DUCKDB_ONLY_IN_ENGINE],
        patterns: ['cli', 'server'].map((name) => ({
          group: [`**/${name}/*`, `**/${name}/**`],
          message: `the platform may not import ${name}/, a face of it (see docs/architecture.md)`,
        })),
      },
    ],
  },
};

const duckdbOnlyIn = {
  files: ['src/**/*.ts'],
  ignores: ['src/engines/duckdb/**', 'src/sql/**'],
  rules: {
    'no-restricted-imports': ['error', { paths: [DUCKDB_ONLY_IN_ENGINE] }],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'ui/dist/**', 'tmp/**', 'bench/.data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  duckdbOnlyIn,
  ...layerRules,
  platformLayer,
  cliLayer,
  serverLayer,
);
