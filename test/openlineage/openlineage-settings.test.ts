// `lineage.openlineage` in tessera.yaml: read, checked at its line and column, the API key only
// from `${VAR}` (and then never stored), the OpenLineage clients' environment variables honoured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions, redactSecrets } from '../../src/definitions/index.ts';
import { formatted, writeCatalogRepo } from '../definitions/catalog-repo-fixture.ts';

async function load(tesseraYaml: string, env: Record<string, string> = {}) {
  const root = await writeCatalogRepo({
    'tessera.yaml': tesseraYaml,
    'owners/o.yaml': 'kind: owner\nname: o\n',
  });
  return loadDefinitions(root, { env, cache: false });
}

describe('lineage.openlineage in tessera.yaml', () => {
  it('reads url, namespace, timeout and an api_key from ${VAR}, which stays out of what is stored', async () => {
    const { definitions, diagnostics, secrets } = await load(
      `lineage:
  openlineage:
    url: http://marquez:5000/api/v1/lineage
    namespace: analytics
    api_key: \${OL_KEY}
    timeout: 2s
`,
      { OL_KEY: 'ol-s3cret-key' },
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.lineage, {
      openlineage: {
        url: 'http://marquez:5000/api/v1/lineage',
        namespace: 'analytics',
        apiKey: 'ol-s3cret-key',
        timeoutMs: 2_000,
      },
    });
    const stored = JSON.stringify(redactSecrets(definitions.project, secrets));
    assert.ok(!stored.includes('ol-s3cret-key'));
    assert.ok(stored.includes('${OL_KEY}'));
  });

  it('without the section, nothing is sent', async () => {
    const { definitions, diagnostics } = await load('name: p\n');
    assert.deepEqual(formatted(diagnostics), []);
    assert.equal(definitions.project.lineage, undefined);
  });

  it('refuses an api_key written in the file, a URL that is not http(s) and a missing namespace, each at its place', async () => {
    const { diagnostics } = await load(`lineage:
  openlineage:
    url: marquez:5000
    api_key: plain-key
`);
    const lines = formatted(diagnostics).join('\n');
    assert.match(lines, /tessera\.yaml:3:10: .*lineage\.openlineage\.url/);
    assert.match(lines, /tessera\.yaml:2:3: .*namespace/);
    assert.match(
      lines,
      /tessera\.yaml:4:14: .*`lineage\.openlineage\.api_key` is written in tessera\.yaml.*\$\{OPENLINEAGE_API_KEY\}/,
    );
    assert.ok(!lines.includes('plain-key'));
  });

  it('OPENLINEAGE_URL, OPENLINEAGE_ENDPOINT, OPENLINEAGE_NAMESPACE and OPENLINEAGE_API_KEY override the file', async () => {
    const { definitions, diagnostics, secrets } = await load('name: p\n', {
      OPENLINEAGE_URL: 'https://datahub.example.org/',
      OPENLINEAGE_ENDPOINT: '/openapi/openlineage/api/v1/lineage',
      OPENLINEAGE_NAMESPACE: 'prod',
      OPENLINEAGE_API_KEY: 'env-t0ken-value',
    });
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.lineage?.openlineage, {
      url: 'https://datahub.example.org/openapi/openlineage/api/v1/lineage',
      namespace: 'prod',
      apiKey: 'env-t0ken-value',
    });
    assert.ok(!JSON.stringify(redactSecrets(definitions.project, secrets)).includes('env-t0ken-value'));
  });
});
