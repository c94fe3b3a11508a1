// Lint rules, including the layer boundaries from docs/architecture.md: imports point inward only.
import tseslint from 'typescript-eslint';

const layer = (folder, forbidden) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...forbidden.map((name) => ({ group: [`**/${name}/*`, `**/${name}/**`, `**/${name}.ts`], message: `${folder}/ may not import ${name}/ (see docs/architecture.md)` })),
        ],
      },
    ],
  },
});

const duckdbOnlyIn = {
  files: ['src/**/*.ts'],
  ignores: ['src/engines/duckdb/**', 'src/sql/**'],
  rules: {
    'no-restricted-imports': ['error', { paths: [{ name: '@duckdb/node-api', message: 'Only engines/duckdb and sql/ may import DuckDB.' }] }],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'ui/dist/**', 'tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  duckdbOnlyIn,
  layer('model', ['diagnostics', 'definitions', 'sql', 'graph', 'catalog', 'storage', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('diagnostics', ['definitions', 'sql', 'graph', 'catalog', 'storage', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('sql', ['definitions', 'graph', 'catalog', 'storage', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('graph', ['definitions', 'catalog', 'storage', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('definitions', ['catalog', 'storage', 'engines', 'ingest', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('catalog', ['storage', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('storage', ['definitions', 'catalog', 'engines', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('engines', ['definitions', 'catalog', 'storage', 'ingest', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('ingest', ['definitions', 'catalog', 'quality', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('quality', ['definitions', 'catalog', 'storage', 'ingest', 'governance', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('governance', ['catalog', 'storage', 'ingest', 'quality', 'runner', 'orchestrator', 'notify', 'cli', 'server']),
  layer('runner', ['orchestrator', 'notify', 'cli', 'server']),
);
