// `s3:` in tessera.yaml and `s3://` source uris, as `validate` checks them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, formatted, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

const PATIENT_PROTO = `syntax = "proto3";
package clinical;
import "tessera/options.proto";
message Patient {
  string patient_id = 1 [(tessera.field) = { primary_key: true }];
}
`;

async function load(files: Record<string, string>) {
  const root = await writeCatalogRepo({
    'owners/o.yaml': OWNER_YAML,
    'schemas/test.proto': PATIENT_PROTO,
    'tables/p.yaml': tableYaml('clinical.patients', 'clinical.Patient'),
    ...files,
  });
  return loadDefinitions(root, { env: {}, cache: false });
}

function task(source: string): Record<string, string> {
  return {
    'tasks/t.yaml': `kind: task
name: ingest_patients
type: ingestion
target: clinical.patients
source: ${source}
`,
  };
}

describe('s3: in tessera.yaml', () => {
  it('reads endpoint, region and path_style', async () => {
    const { definitions, diagnostics } = await load({
      'tessera.yaml': 's3: { endpoint: "http://127.0.0.1:9000", region: eu-west-1, path_style: true }\n',
    });
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.s3, {
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      pathStyle: true,
    });
  });

  it('reports a bad endpoint and an unknown key at their lines', async () => {
    const { diagnostics } = await load({
      'tessera.yaml': 's3:\n  endpoint: minio:9000\n  path-style: true\n',
    });
    assert.deepEqual(formatted(diagnostics), [
      'tessera.yaml:2:13: error invalid-value: tessera.yaml: `s3.endpoint` must be an http:// or https:// URL',
      'tessera.yaml:3:3: error unknown-key: tessera.yaml: unknown key `path-style` in `s3`; allowed keys: endpoint, region, path_style',
    ]);
  });
});

describe('s3:// source uris', () => {
  it('accepts a bucket and a glob over keys', async () => {
    const { definitions, diagnostics } = await load(
      task('{ type: csv, uri: "s3://exports/patients/*.csv" }'),
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.equal(definitions.tasks[0]!.source?.uri, 's3://exports/patients/*.csv');
  });

  const refused: [string, string, string][] = [
    [
      'no key',
      '{ type: csv, uri: "s3://exports" }',
      'tasks/t.yaml:5:27: error invalid-value: task ingest_patients: `s3://exports` must name a bucket and its objects, e.g. `s3://exports/prefix/*.csv`',
    ],
    [
      'a folder',
      '{ type: ndjson, uri: "s3://exports/patients/" }',
      'tasks/t.yaml:5:30: error invalid-value: task ingest_patients: `s3://exports/patients/` names a folder; name its objects with a glob such as `s3://exports/patients/*.ndjson`',
    ],
    [
      'a bucket name S3 refuses',
      '{ type: csv, uri: "s3://My_Exports/p.csv" }',
      'tasks/t.yaml:5:27: error invalid-value: task ingest_patients: `My_Exports` is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)',
    ],
    [
      'a type that is not a file format',
      '{ type: salesforce, uri: "s3://exports/p.csv" }',
      "tasks/t.yaml:5:34: error invalid-value: task ingest_patients: an s3:// uri names files: set the source's `type` to their format (csv, json, ndjson, parquet), not salesforce",
    ],
  ];
  for (const [name, source, expected] of refused) {
    it(`refuses ${name}, at the uri's line and column`, async () => {
      const { diagnostics } = await load(task(source));
      assert.deepEqual(formatted(diagnostics), [expected]);
    });
  }
});
