// `source: { type: salesforce, … }` in task YAML: what validate accepts, and the problems it reports
// at the offending key with the fix, never echoing a secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, PATIENT_PROTO, formatted, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

async function load(source: string, env: Record<string, string> = {}) {
  const root = await writeCatalogRepo({
    'tessera.yaml': 'name: t\ngovernance:\n  hash_key: ${TESSERA_HASH_KEY}\n',
    'owners/o.yaml': OWNER_YAML,
    'schemas/test.proto': PATIENT_PROTO,
    'tables/t.yaml': tableYaml('clinical.patients', 'clinical.Patient'),
    'tasks/t.yaml': `kind: task
name: load_patients
type: ingestion
target: clinical.patients
mode: merge
source:
${source}`,
  });
  return loadDefinitions(root, { env: { TESSERA_HASH_KEY: 'test-key', ...env }, cache: false });
}

const ENV = { SF_USER: 'reader@example.org', SF_PASSWORD: 'pw+token', SF_SECRET: 'consumer-secret' };

describe('salesforce sources in task YAML', () => {
  it('reads the object, fields, login and bulk settings, with defaults for the rest', async () => {
    const { definitions, diagnostics } = await load(
      '  type: salesforce\n  object: Patient__c\n  fields: [Id, Name, SystemModstamp]\n  username: ${SF_USER}\n  password: ${SF_PASSWORD}\n  client_id: 3MVG9-key\n  client_secret: ${SF_SECRET}\n',
      ENV,
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.tasks[0]!.source?.salesforce, {
      object: 'Patient__c',
      fields: ['Id', 'Name', 'SystemModstamp'],
      loginUrl: 'https://login.salesforce.com',
      username: 'reader@example.org',
      password: 'pw+token',
      clientId: '3MVG9-key',
      clientSecret: 'consumer-secret',
      apiVersion: '62.0',
      bulk: 'auto',
      bulkThreshold: 10_000,
    });
  });

  it('reports the missing keys, a plain password and a client_id without its secret', async () => {
    const { diagnostics } = await load(
      '  type: salesforce\n  object: Account\n  password: hunter22-token\n  client_id: 3MVG9-key\n',
    );
    const messages = formatted(diagnostics);
    assert.ok(
      messages.some((line) =>
        line.includes('error missing-key: task load_patients: a salesforce source needs `username`'),
      ),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((line) =>
        /^tasks\/t\.yaml:9:13: error plain-secret: task load_patients: `source\.password` is written in the repo/.test(
          line,
        ),
      ),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((line) =>
        /^tasks\/t\.yaml:10:3: error missing-key: task load_patients: `client_id` needs `client_secret` too/.test(
          line,
        ),
      ),
      messages.join('\n'),
    );
    assert.equal(messages.join('\n').includes('hunter22'), false);
  });

  it('refuses a bad object name, bulk mode and api version at their keys', async () => {
    const { diagnostics } = await load(
      '  type: salesforce\n  object: Patient c\n  username: ${SF_USER}\n  password: ${SF_PASSWORD}\n  bulk: sometimes\n  api_version: v62\n',
      ENV,
    );
    const messages = formatted(diagnostics).join('\n');
    assert.match(messages, /tasks\/t\.yaml:8:11: .*an API name: letters, digits and `_`/);
    assert.match(messages, /tasks\/t\.yaml:11:9: .*auto.*always.*never/);
    assert.match(messages, /tasks\/t\.yaml:12:16: .*a Salesforce API version, e\.g\. `62\.0`/);
  });

  it('refuses salesforce keys on another source type, and database keys on a salesforce source', async () => {
    const { diagnostics } = await load(
      '  type: salesforce\n  object: Account\n  username: ${SF_USER}\n  password: ${SF_PASSWORD}\n  cursor: LastModifiedDate\n',
      ENV,
    );
    assert.ok(
      formatted(diagnostics).some((line) =>
        line.includes('a salesforce source is always read past `SystemModstamp`; remove `cursor`'),
      ),
      formatted(diagnostics).join('\n'),
    );
    const other = await load('  type: csv\n  uri: data/p.csv\n  object: Account\n');
    assert.ok(
      formatted(other.diagnostics).some((line) =>
        line.includes(
          'error unexpected-key: task load_patients: `object` belongs to salesforce sources, not csv; remove it',
        ),
      ),
      formatted(other.diagnostics).join('\n'),
    );
  });
});
