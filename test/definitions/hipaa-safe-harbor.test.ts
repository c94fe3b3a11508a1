import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions, safeHarborIdentifierOf } from '../../src/definitions/index.ts';
import type { FieldType } from '../../src/model/index.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const PATIENT_PROTO = `syntax = "proto3";
package clinical;
import "tessera/options.proto";
import "google/type/date.proto";

message Patient {
  string patient_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn = 2 [(tessera.field) = { sensitivity: PHI }];
  string mrn = 3 [(tessera.field) = { sensitivity: PHI, mask: SHOW_LAST_4 }];
  string first_name = 4;
  google.type.Date birth_date = 5 [(tessera.field) = { sensitivity: PII, mask: DATE_YEAR }];
  string email = 6 [(tessera.field) = { sensitivity: PHI, mask: EMAIL_DOMAIN }];
  int32 age = 7;
  string gender = 8;
  Address address = 9;
  int32 birth_year = 10;
  string ip_address = 11 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
}

message Address {
  string state = 1;
  string city = 2;
  string zip = 3 [(tessera.field) = { sensitivity: PHI, mask: ZIP3 }];
}
`;

function repo(tesseraYaml: string) {
  return writeCatalogRepo({
    'tessera.yaml': tesseraYaml,
    'owners/clinical-data.yaml': OWNER_YAML,
    'schemas/clinical.proto': PATIENT_PROTO,
    'tables/patients.yaml':
      'kind: table\nname: clinical.patients\nowner: clinical-data\nschema: schemas/clinical.proto#clinical.Patient\n',
  });
}

describe('hipaa-safe-harbor profile', () => {
  it('requires masks on PHI, refuses SHOW_LAST_4 and flags unannotated identifiers, at the .proto line', async () => {
    const root = await repo('governance:\n  profile: hipaa-safe-harbor\n  hash_key: ${HASH_KEY}\n');
    const { diagnostics } = await loadDefinitions(root, { env: { HASH_KEY: 'a-long-random-key' } });
    assert.deepEqual(formatted(diagnostics), [
      'schemas/clinical.proto:8:10: error phi-without-mask: table clinical.patients: field `ssn` is PHI but has no mask; add `mask: HASH` (or another mask) to its `(tessera.field)` options',
      'schemas/clinical.proto:9:10: error mask-not-allowed: table clinical.patients: field `mrn` uses SHOW_LAST_4, which the hipaa-safe-harbor profile refuses because it reveals part of the identifier; use HASH or REDACT',
      'schemas/clinical.proto:10:10: error safe-harbor-identifier: table clinical.patients: field `first_name` looks like a Safe Harbor identifier (names) but is not marked PHI with a mask; add `[(tessera.field) = { sensitivity: PHI, mask: REDACT }]`, or rename the field if it holds no personal data',
      'schemas/clinical.proto:11:20: error safe-harbor-identifier: table clinical.patients: field `birth_date` looks like a Safe Harbor identifier (dates related to an individual (birth, death, admission, discharge)) but is not marked PHI with a mask; add `[(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }]`, or rename the field if it holds no personal data',
      'schemas/clinical.proto:13:9: error safe-harbor-identifier: table clinical.patients: field `age` looks like a Safe Harbor identifier (ages over 89) but is not marked PHI with a mask; add `[(tessera.field) = { sensitivity: PHI, mask: AGE_90_PLUS }]`, or rename the field if it holds no personal data',
      'schemas/clinical.proto:22:10: error safe-harbor-identifier: table clinical.patients: field `address.city` looks like a Safe Harbor identifier (geographic subdivisions smaller than a state) but is not marked PHI with a mask; add `[(tessera.field) = { sensitivity: PHI, mask: REDACT }]`, or rename the field if it holds no personal data',
    ]);
  });

  it('does not apply without the profile', async () => {
    const root = await repo('governance:\n  hash_key: ${HASH_KEY}\n');
    const { diagnostics } = await loadDefinitions(root, { env: { HASH_KEY: 'a-long-random-key' } });
    assert.deepEqual(formatted(diagnostics), []);
  });

  it('requires a hash key outside dev mode', async () => {
    const root = await repo('governance:\n  profile: hipaa-safe-harbor\n');
    const strict = await loadDefinitions(root, { env: {} });
    assert.deepEqual(
      formatted(strict.diagnostics.filter((diagnostic) => diagnostic.code === 'missing-hash-key')),
      [
        'tessera.yaml:1:1: error missing-hash-key: governance.hash_key is not set; HASH masks need a secret key for keyed hashing: add `hash_key: ${TESSERA_HASH_KEY}` under `governance` in tessera.yaml and export the variable (until then dev mode hashes with a random key this catalog generated for itself; outside dev mode the key is required)',
      ],
    );
    const dev = await loadDefinitions(root, { env: {}, devMode: true });
    assert.deepEqual(
      dev.diagnostics
        .filter((diagnostic) => diagnostic.code === 'missing-hash-key')
        .map((diagnostic) => diagnostic.severity),
      ['warning'],
    );
  });

  it('recognises Safe Harbor identifiers by field name, not ordinary columns', () => {
    const varchar: FieldType = { kind: 'scalar', sql: 'VARCHAR' };
    const date: FieldType = { kind: 'scalar', sql: 'DATE' };
    const integer: FieldType = { kind: 'scalar', sql: 'INTEGER' };
    const category = (name: string, type: FieldType = varchar) =>
      safeHarborIdentifierOf(name, type)?.category;
    assert.equal(category('name'), 'names');
    assert.equal(category('lastName'), 'names');
    assert.equal(category('patient_ssn'), 'social security numbers');
    assert.equal(category('medical_record_number'), 'medical record numbers');
    assert.equal(category('home_phone'), 'telephone numbers');
    assert.equal(category('fax'), 'fax numbers');
    assert.equal(category('email_address'), 'email addresses');
    assert.equal(category('ip_address'), 'IP addresses');
    assert.equal(category('street_address'), 'geographic subdivisions smaller than a state');
    assert.equal(category('zip_code'), 'postal codes');
    assert.equal(category('dob'), 'dates related to an individual (birth, death, admission, discharge)');
    assert.equal(
      category('discharged_at', date),
      'dates related to an individual (birth, death, admission, discharge)',
    );
    assert.equal(category('age', integer), 'ages over 89');
    assert.equal(category('account_number'), 'account numbers');
    assert.equal(category('drivers_license'), 'certificate and license numbers');
    assert.equal(category('vin'), 'vehicle identifiers');
    assert.equal(category('device_serial'), 'device identifiers and serial numbers');
    assert.equal(category('website_url'), 'URLs');
    assert.equal(category('fingerprint'), 'biometric identifiers');
    assert.equal(category('photo'), 'full-face photographs');
    assert.equal(category('medicaid_id'), 'health plan beneficiary numbers');
    for (const ordinary of [
      'patient_id',
      'gender',
      'state',
      'drug_name',
      'healthcare_expenses',
      'birth_year',
      'encounter_id',
      'page',
    ]) {
      assert.equal(category(ordinary, ordinary === 'birth_year' ? integer : varchar), undefined, ordinary);
    }
    assert.equal(category('death_flag', { kind: 'scalar', sql: 'BOOLEAN' }), undefined);
  });
});
