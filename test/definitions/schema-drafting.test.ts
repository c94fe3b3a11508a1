import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { draftSchemaFiles, loadDefinitions, suggestPhi } from '../../src/definitions/index.ts';
import { formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

describe('suggestPhi', () => {
  const cases: [string, Parameters<typeof suggestPhi>[0], string, string][] = [
    ['first name', { name: 'first_name' }, 'names', 'REDACT'],
    ['camelCase last name', { name: 'lastName' }, 'names', 'REDACT'],
    ['ssn by name', { name: 'ssn' }, 'social security numbers', 'HASH'],
    ['mrn', { name: 'patient_mrn' }, 'medical record numbers', 'HASH'],
    ['birth date', { name: 'birth_date', type: 'DATE' }, 'dates related', 'DATE_YEAR'],
    ['dob', { name: 'DOB', type: 'TIMESTAMP' }, 'dates related', 'DATE_YEAR'],
    ['phone', { name: 'home_phone' }, 'telephone numbers', 'REDACT'],
    ['email', { name: 'email' }, 'email addresses', 'HASH'],
    ['zip', { name: 'zip' }, 'postal codes', 'ZIP3'],
    ['street address', { name: 'street_address' }, 'geographic', 'REDACT'],
    ['age', { name: 'age', type: 'INTEGER' }, 'ages over 89', 'AGE_90_PLUS'],
    ['ip', { name: 'ip_address' }, 'IP addresses', 'HASH'],
    ['license', { name: 'license_number' }, 'certificate and license', 'HASH'],
  ];
  for (const [label, column, category, mask] of cases) {
    it(`flags ${label} by its name`, () => {
      const found = suggestPhi(column);
      assert.ok(found, `${column.name} not flagged`);
      assert.equal(found.by, 'name');
      assert.ok(found.category.startsWith(category), found.category);
      assert.equal(found.mask, mask);
    });
  }

  it('flags SSNs, emails, phones and ZIP+4 by the shape of their values', () => {
    const ssn = suggestPhi({ name: 'ident', samples: ['123-45-6789', '987-65-4321', null] });
    assert.deepEqual([ssn?.by, ssn?.category, ssn?.mask], ['values', 'social security numbers', 'HASH']);
    assert.match(ssn!.reason, /100% of 2 sampled values look like an SSN/);
    const email = suggestPhi({ name: 'contact', samples: ['a@b.org', 'x.y@mail.example.com'] });
    assert.equal(email?.category, 'email addresses');
    const phone = suggestPhi({
      name: 'contact2',
      samples: ['(617) 555-0101', '+1 617-555-0199', '617.555.0123'],
    });
    assert.equal(phone?.category, 'telephone numbers');
    const zip = suggestPhi({ name: 'loc', samples: ['02139-4307', '90210-1234'] });
    assert.equal(zip?.mask, 'ZIP3');
  });

  it('flags by a description when name and values say nothing', () => {
    const found = suggestPhi({ name: 'c7', description: "The patient's date of birth" });
    assert.equal(found?.by, 'description');
    assert.equal(found?.mask, 'DATE_YEAR');
  });

  it('does not flag look-alikes: counts, flags, ids, mixed values, plain numbers', () => {
    for (const name of [
      'zip_code_count',
      'email_count',
      'has_email',
      'is_phone_verified',
      'patient_id',
      'gender',
      'state',
      'birth_year',
      'amount',
    ]) {
      assert.equal(suggestPhi({ name }), undefined, `${name} flagged`);
    }
    assert.equal(suggestPhi({ name: 'code', samples: ['123-45-6789', 'A-1', 'B-2', 'C-3'] }), undefined);
    assert.equal(suggestPhi({ name: 'n', type: 'BIGINT', samples: [6175550101, 6175550102] }), undefined);
    assert.equal(suggestPhi({ name: 'order_ref', samples: ['1234567890', '2345678901'] }), undefined);
  });
});

describe('draftSchemaFiles', () => {
  const draft = draftSchemaFiles({
    table: 'clinical.patients',
    owner: 'clinical-data',
    rowsSampled: 3,
    sourceLabel: 'data/patients.csv',
    source: { type: 'csv', uri: 'data/patients.csv', options: { header: true } },
    columns: [
      { name: 'Id', type: 'BIGINT', nullCount: 0, distinctCount: 3 },
      { name: 'SSN', type: 'VARCHAR', nullCount: 0, distinctCount: 3, samples: ['123-45-6789'] },
      { name: 'First Name', type: 'VARCHAR', nullCount: 0, distinctCount: 2 },
      { name: 'birth_date', type: 'DATE', nullCount: 0, distinctCount: 3, dateFormat: '%m/%d/%Y' },
      { name: 'seen_at', type: 'TIMESTAMP', nullCount: 1, distinctCount: 2, dateFormat: '%d.%m.%Y %H:%M' },
      { name: 'zip', type: 'BIGINT', nullCount: 0, distinctCount: 3 },
      { name: 'contact', type: 'VARCHAR', nullCount: 1, distinctCount: 2, samples: ['a@b.org', 'c@d.net'] },
      { name: 'zip_code_count', type: 'BIGINT', nullCount: 0, distinctCount: 3 },
      { name: 'balance', type: 'DECIMAL(18,2)', nullCount: 0, distinctCount: 3 },
      { name: 'tags', type: 'VARCHAR[]', nullCount: 0, distinctCount: 3 },
    ],
  });
  const file = (prefix: string) => draft.files.find((entry) => entry.path.startsWith(prefix))!.text;

  it('types fields, marks required ones and guesses an id-like unique key, saying it is a guess', () => {
    const proto = file('schemas/');
    assert.match(proto, /int64 id = 1 \[\(tessera.field\) = \{ primary_key: true \}\];/);
    assert.match(proto, /primary key: a guess/);
    assert.match(
      proto,
      /\n {2}google.type.Date birth_date = 4 \[\(tessera.field\) = \{ sensitivity: PHI, mask: DATE_YEAR \}\];/,
    );
    assert.match(proto, /optional google.protobuf.Timestamp seen_at = 5;/);
    assert.match(proto, /int64 zip_code_count = 8;/);
    assert.match(proto, /string balance = 9 \[\(tessera.field\) = \{ decimal: "18,2" \}\];/);
    assert.match(proto, /string tags = 10;/);
    assert.equal(draft.primaryKey, 'id');
  });

  it('flags PHI with a comment saying why and a mask that fits the type', () => {
    const proto = file('schemas/');
    assert.match(proto, /Likely PHI \(social security numbers\): its name suggests.*Suggested mask: HASH\./);
    assert.match(proto, /string ssn = 2 \[\(tessera.field\) = \{ sensitivity: PHI, mask: HASH \}\];/);
    assert.match(
      proto,
      /string first_name = 3 \[\(tessera.field\) = \{ sensitivity: PHI, mask: REDACT \}\];/,
    );
    assert.match(proto, /leading zeros/);
    assert.match(proto, /string zip = 6 \[\(tessera.field\) = \{ sensitivity: PHI, mask: ZIP3 \}\];/);
    assert.match(proto, /look like an email address/);
    assert.match(
      proto,
      /optional string contact = 7 \[\(tessera.field\) = \{ sensitivity: PHI, mask: HASH \}\];/,
    );
  });

  it('writes non-ISO date formats and renamed columns into the task source', () => {
    const task = file('tasks/');
    assert.match(task, /date_formats:\s*\n\s*- "%m\/%d\/%Y"/);
    assert.match(task, /timestamp_formats:\s*\n\s*- "%d.%m.%Y %H:%M"/);
    assert.match(task, /First Name: first_name/);
    assert.doesNotMatch(task, /Id: id/);
  });

  it('makes a repo that loads without errors and with the PHI annotated', async () => {
    const root = await writeCatalogRepo({
      'owners/owners.yaml': 'kind: owner\nname: clinical-data\n',
      'tessera.yaml': 'name: drafted\ngovernance:\n  profile: hipaa-safe-harbor\n  hash_key: ${HASH_KEY}\n',
      ...Object.fromEntries(draft.files.map((entry) => [entry.path, entry.text])),
    });
    const { definitions, diagnostics } = await loadDefinitions(root, {
      env: { HASH_KEY: 'a-long-random-key' },
    });
    assert.deepEqual(formatted(diagnostics), []);
    const table = definitions.tables.find((entry) => entry.name === 'clinical.patients');
    const ssn = table?.schema?.fields.find((field) => field.name === 'ssn');
    assert.equal(ssn?.mask, 'HASH');
  });
});
