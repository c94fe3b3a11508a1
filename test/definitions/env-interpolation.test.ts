import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions, redactSecrets } from '../../src/definitions/index.ts';
import { formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const OWNER = `kind: owner
name: clinical-data
description: "Team \${TEAM_NAME}, literal $\${NOT_A_VARIABLE}"
channels:
  - slack: { webhook: "\${SLACK_WEBHOOK}" }
  - pagerduty: { routing_key: "\${PD_ROUTING_KEY}" }
`;

describe('${ENV_VAR} interpolation', () => {
  it('substitutes variables in any string and keeps $${...} literal', async () => {
    const root = await writeCatalogRepo({ 'owners/clinical-data.yaml': OWNER });
    const env = {
      TEAM_NAME: 'Clinical',
      SLACK_WEBHOOK: 'https://hooks.slack.com/services/SECRET-SLACK',
      PD_ROUTING_KEY: 'SECRET-PD-KEY',
    };
    const { definitions, diagnostics, secrets } = await loadDefinitions(root, { env });
    assert.deepEqual(formatted(diagnostics), []);
    const owner = definitions.owners[0]!;
    assert.equal(owner.description, 'Team Clinical, literal ${NOT_A_VARIABLE}');
    assert.deepEqual(owner.channels, [
      { type: 'slack', webhook: 'https://hooks.slack.com/services/SECRET-SLACK' },
      { type: 'pagerduty', routingKey: 'SECRET-PD-KEY' },
    ]);

    // Definitions can be stored or printed with the variables put back.
    const redacted = redactSecrets(definitions.owners, secrets);
    assert.deepEqual(redacted[0]!.channels, [
      { type: 'slack', webhook: '${SLACK_WEBHOOK}' },
      { type: 'pagerduty', routingKey: '${PD_ROUTING_KEY}' },
    ]);
    assert.equal(owner.channels[1]!.type === 'pagerduty' && owner.channels[1]!.routingKey, 'SECRET-PD-KEY');
  });

  it('a `${` spelled with an escape in a double-quoted string is interpolated too, on every load', async () => {
    // `\x24` is `$`: the text never spells `${`, the value does.
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': 'kind: owner\nname: clinical-data\ndescription: "Team \\x24{TEAM_NAME}"\n',
    });
    const unset = await loadDefinitions(root, { env: {} });
    assert.deepEqual(
      unset.diagnostics.map(({ code, at }) => `${code} ${at.line}:${at.column}`),
      ['missing-env 3:14'],
    );
    const set = await loadDefinitions(root, { env: { TEAM_NAME: 'Clinical' } });
    assert.deepEqual(formatted(set.diagnostics), []);
    assert.equal(set.definitions.owners[0]!.description, 'Team Clinical');
  });

  it('reports each unset variable by name, at the value that uses it', async () => {
    const root = await writeCatalogRepo({ 'owners/clinical-data.yaml': OWNER });
    const { diagnostics } = await loadDefinitions(root, { env: { TEAM_NAME: 'Clinical' } });
    assert.deepEqual(formatted(diagnostics), [
      'owners/clinical-data.yaml:5:23: error missing-env: environment variable `SLACK_WEBHOOK` is not set (used by `channels[0].slack.webhook`); export it before running tessera',
      'owners/clinical-data.yaml:6:31: error missing-env: environment variable `PD_ROUTING_KEY` is not set (used by `channels[1].pagerduty.routing_key`); export it before running tessera',
    ]);
  });

  it('never prints a secret value, even when the value is wrong', async () => {
    const root = await writeCatalogRepo({ 'owners/clinical-data.yaml': OWNER });
    const env = { TEAM_NAME: 'x', SLACK_WEBHOOK: 'SECRET-not-a-url', PD_ROUTING_KEY: 'SECRET-PD-KEY' };
    const { diagnostics } = await loadDefinitions(root, { env });
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.code, 'invalid-value');
    assert.doesNotMatch(formatted(diagnostics).join('\n'), /SECRET/);
  });

  it('treats an unset hash_key variable as an error, or a warning in dev mode', async () => {
    const root = await writeCatalogRepo({
      'tessera.yaml': 'governance:\n  profile: hipaa-safe-harbor\n  hash_key: ${TESSERA_HASH_KEY}\n',
    });
    const strict = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(strict.diagnostics), [
      'tessera.yaml:3:13: error missing-env: environment variable `TESSERA_HASH_KEY` is not set (used by `governance.hash_key` in tessera.yaml); masked HASH values need it outside dev mode (until it is set, dev mode hashes with a random key this catalog generated for itself)',
    ]);
    assert.deepEqual(strict.definitions.project.governance, { profile: 'hipaa-safe-harbor' });

    const dev = await loadDefinitions(root, { env: {}, devMode: true });
    assert.deepEqual(
      dev.diagnostics.map((diagnostic) => [diagnostic.code, diagnostic.severity]),
      [['missing-env', 'warning']],
    );

    const set = await loadDefinitions(root, { env: { TESSERA_HASH_KEY: 'a-long-random-key' } });
    assert.deepEqual(set.diagnostics, []);
    assert.equal(set.definitions.project.governance.hashKey, 'a-long-random-key');
  });
});
