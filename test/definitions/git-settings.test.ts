import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

async function load(tesseraYaml: string, env: Record<string, string> = {}) {
  const root = await writeCatalogRepo({ 'tessera.yaml': tesseraYaml });
  return loadDefinitions(root, { env, cache: false });
}

describe('git: in tessera.yaml', () => {
  it('reads the webhook secret from the environment', async () => {
    const { definitions, diagnostics } = await load('git:\n  webhook_secret: ${HOOK}\n', { HOOK: 's3cret' });
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.git, { webhookSecret: 's3cret' });
  });

  it('refuses a secret written into the file, naming where and how to fix it', async () => {
    const { diagnostics } = await load('git:\n  webhook_secret: s3cret\n');
    assert.equal(formatted(diagnostics).length, 1);
    assert.match(
      formatted(diagnostics)[0]!,
      /^tessera\.yaml:2:\d+: error plain-secret: `git\.webhook_secret` .*`\$\{VAR\}`/,
    );
  });

  it('names an unset variable and what needs it; unknown keys are reported', async () => {
    const unset = await load('git:\n  webhook_secret: ${HOOK}\n');
    assert.match(
      formatted(unset.diagnostics).join('\n'),
      /tessera\.yaml:2:\d+: error missing-env: environment variable `HOOK` is not set .*push webhooks/,
    );
    const unknown = await load('git:\n  webhook: x\n');
    assert.match(formatted(unknown.diagnostics).join('\n'), /tessera\.yaml:2:\d+: error .*webhook/);
  });
});
