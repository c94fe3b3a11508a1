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
  ],
  orchestrator: ['model', 'diagnostics', 'graph', 'catalog', 'engines', 'runner', 'definitions'],
};
const DUCKDB_ONLY_IN_ENGINE = {
  name: '@duckdb/node-api',
  message: 'Only engines/duckdb and sql/ may import DuckDB.',
};

const LAYERS = [...Object.keys(ALLOWED_IMPORTS), 'notify', 'sync', 'server', 'cli', 'example'];

const layerRules = Object.entries(ALLOWED_IMPORTS).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        // Repeated here: a file's no-restricted-imports setting replaces, not extends, an earlier one.
        paths: folder === 'engines' || folder === 'sql' ? [] : [DUCKDB_ONLY_IN_ENGINE],
        patterns: LAYERS.filter((name) => name !== folder && !allowed.includes(name)).map((name) => ({
          group: [`**/${name}/*`, `**/${name}/**`],
          message: `${folder}/ may not import ${name}/ (see docs/architecture.md)`,
        })),
      },
    ],
  },
}));

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
);
