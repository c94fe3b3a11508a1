import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROTO_INCLUDE_DIR, loadDefinitions } from '../../src/definitions/index.ts';
import type { FieldDef, FieldType } from '../../src/model/index.ts';
import { OWNER_YAML, formatted, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

const RESULT_PROTO = `syntax = "proto3";
package lab;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
import "google/type/date.proto";
import "common/units.proto";

// A lab result.
message Result {
  // Result id.
  string id = 1 [(tessera.field) = { primary_key: true }];
  int32 a = 2;
  int64 b = 3;
  uint32 c = 4;
  uint64 d = 5;
  float e = 6;
  double f = 7;
  bool g = 8;
  bytes h = 9;
  google.protobuf.Timestamp taken_at = 10;
  google.type.Date taken_on = 11;
  Status status = 12;
  repeated string tags = 13;
  Range range = 14;
  optional string note = 15; // Free text.
  string amount = 16 [(tessera.field) = { decimal: "18,2" }];
  units.Unit unit = 17;
  repeated Range history = 18;
  oneof value {
    double numeric = 19;
    string text = 20;
  }

  enum Status {
    STATUS_UNSPECIFIED = 0;
    PRELIMINARY = 1;
    FINAL = 2;
  }
  // Reference range.
  message Range {
    double low = 1;
    double high = 2;
  }
}
`;

const UNITS_PROTO = `syntax = "proto3";
package units;
enum Unit {
  MG = 0;
  ML = 1;
}
`;

function brief(fields: readonly FieldDef[]): [string, FieldType, boolean][] {
  return fields.map((field) => [field.name, field.type, field.nullable]);
}

const scalar = (sql: string) => ({ kind: 'scalar', sql }) as FieldType;

describe('protobuf schemas', () => {
  it('ships tessera/options.proto and google/type/date.proto', () => {
    assert.ok(existsSync(join(PROTO_INCLUDE_DIR, 'tessera/options.proto')));
    assert.ok(existsSync(join(PROTO_INCLUDE_DIR, 'google/type/date.proto')));
  });

  it('maps every supported protobuf type to its column type', async () => {
    const root = await writeCatalogRepo({
      'owners/o.yaml': OWNER_YAML,
      'schemas/test.proto': RESULT_PROTO,
      'schemas/common/units.proto': UNITS_PROTO,
      'tables/results.yaml': tableYaml('lab.results', 'lab.Result'),
    });
    const { definitions, diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), []);
    const table = definitions.tables[0]!;
    assert.equal(table.description, 'A lab result.');
    const range: FieldType = {
      kind: 'struct',
      name: 'lab.Result.Range',
      fields: [
        {
          name: 'low',
          number: 1,
          type: scalar('DOUBLE'),
          nullable: false,
          at: { file: 'schemas/test.proto', line: 41, column: 12 },
        },
        {
          name: 'high',
          number: 2,
          type: scalar('DOUBLE'),
          nullable: false,
          at: { file: 'schemas/test.proto', line: 42, column: 12 },
        },
      ],
    };
    assert.deepEqual(brief(table.schema!.fields), [
      ['id', scalar('VARCHAR'), false],
      ['a', scalar('INTEGER'), false],
      ['b', scalar('BIGINT'), false],
      ['c', scalar('UINTEGER'), false],
      ['d', scalar('UBIGINT'), false],
      ['e', scalar('FLOAT'), false],
      ['f', scalar('DOUBLE'), false],
      ['g', scalar('BOOLEAN'), false],
      ['h', scalar('BLOB'), false],
      ['taken_at', scalar('TIMESTAMPTZ'), false],
      ['taken_on', scalar('DATE'), false],
      ['status', { kind: 'enum', name: 'lab.Result.Status', values: ['PRELIMINARY', 'FINAL'] }, false],
      ['tags', { kind: 'list', element: scalar('VARCHAR') }, false],
      ['range', range, false],
      ['note', scalar('VARCHAR'), true],
      ['amount', { kind: 'decimal', precision: 18, scale: 2 }, false],
      ['unit', { kind: 'enum', name: 'units.Unit', values: ['MG', 'ML'] }, false],
      ['history', { kind: 'list', element: range }, false],
      ['numeric', scalar('DOUBLE'), true],
      ['text', scalar('VARCHAR'), true],
    ]);
    const byName = new Map(table.schema!.fields.map((field) => [field.name, field]));
    assert.equal(byName.get('id')!.description, 'Result id.');
    assert.equal(byName.get('id')!.primaryKey, true);
    assert.equal(byName.get('note')!.description, 'Free text.');
    assert.deepEqual(byName.get('status')!.allowed, ['PRELIMINARY', 'FINAL']);
    assert.deepEqual(byName.get('text')!.at, { file: 'schemas/test.proto', line: 31, column: 12 });
  });

  it('reports a proto syntax error with the proto file, line and column', async () => {
    const root = await writeCatalogRepo({
      'owners/o.yaml': OWNER_YAML,
      'schemas/test.proto':
        'syntax = "proto3";\npackage lab;\n\nmessage Result {\n  string id = 1\n  int32 count = 2;\n}\n',
      'tables/results.yaml': tableYaml('lab.results', 'lab.Result'),
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      "schemas/test.proto:6:3: error proto-parse: proto does not parse: illegal token 'int32', ';' expected",
    ]);
    assert.equal(definitions.tables[0]!.schema, undefined);
  });

  it('reports unmapped types, bad annotations and unresolvable references, keeping the other fields', async () => {
    const root = await writeCatalogRepo({
      'owners/o.yaml': OWNER_YAML,
      'schemas/test.proto': `syntax = "proto3";
package lab;
import "tessera/options.proto";
import "google/protobuf/duration.proto";

message Result {
  string id = 1;
  map<string, int32> counts = 2;
  google.protobuf.Duration took = 3;
  Node tree = 4;
  string code = 5 [(tessera.field) = { mask: REDACT }];
  int32 zip = 6 [(tessera.field) = { sensitivity: PII, mask: ZIP3 }];
  string level = 7 [(tessera.field) = { sensitivity: SECRET, colour: "red" }];
  optional string key = 8 [(tessera.field) = { primary_key: true }];
}

message Node {
  repeated Node children = 1;
}
`,
      'tables/results.yaml': tableYaml('lab.results', 'lab.Result'),
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    const supported =
      'supported: string, int32, int64, uint32, uint64 (and the sint/fixed/sfixed forms), float, double, bool, bytes, enums, nested messages, repeated fields, google.protobuf.Timestamp, google.type.Date, and `(tessera.field) = { decimal: "18,2" }` on a string or number';
    assert.deepEqual(formatted(diagnostics), [
      `schemas/test.proto:8:22: error unmapped-type: message lab.Result: field \`counts\` has type \`map<string, int32>\`, which has no column type (use a repeated nested message with key and value fields instead); ${supported}`,
      `schemas/test.proto:9:28: error unmapped-type: message lab.Result: field \`took\` has type \`google.protobuf.Duration\`, which has no column type; ${supported}`,
      'schemas/test.proto:11:10: error mask-without-sensitivity: message lab.Result: field `code` has `mask: REDACT` but no sensitivity; add `sensitivity: PHI` (or PII, CONFIDENTIAL) to its `(tessera.field)` options',
      "schemas/test.proto:12:9: error mask-type-mismatch: message lab.Result: field `zip`: mask ZIP3 does not apply to INTEGER columns; use HASH, REDACT or NULLIFY, or change the field's type",
      'schemas/test.proto:13:10: error invalid-option: message lab.Result: field `level`: `(tessera.field).sensitivity` must be one of PII, PHI, CONFIDENTIAL',
      'schemas/test.proto:13:10: error invalid-option: message lab.Result: field `level`: unknown option `(tessera.field).colour`; allowed: primary_key, sensitivity, mask, allowed, decimal',
      'schemas/test.proto:14:19: error invalid-option: message lab.Result: field `key`: a primary key must be a non-optional, non-repeated scalar field',
      `schemas/test.proto:18:17: error unmapped-type: message lab.Node: field \`children\` has type \`lab.Node\`, which has no column type (\`lab.Node\` contains itself, and a column cannot nest without end); ${supported}`,
    ]);
    assert.deepEqual(
      definitions.tables[0]!.schema!.fields.map((field) => field.name),
      ['id', 'tree', 'code', 'zip', 'level', 'key'],
    );
  });

  it('reports bad schema references, missing imports and unknown types', async () => {
    const root = await writeCatalogRepo({
      'owners/o.yaml': OWNER_YAML,
      'schemas/test.proto':
        'syntax = "proto3";\npackage lab;\nmessage Result {\n  string id = 1;\n}\nmessage Other {\n  string id = 1;\n}\n',
      'schemas/imports.proto':
        'syntax = "proto3";\npackage imp;\nimport "nowhere/missing.proto";\nmessage M {\n  string id = 1;\n}\n',
      'schemas/types.proto':
        'syntax = "proto3";\npackage typ;\nmessage M {\n  // Mentions Missing in a comment.\n  Missing id = 1;\n}\n',
      'tables/t.yaml': [
        'kind: table\nname: a.no_hash\nowner: clinical-data\nschema: schemas/test.proto\n',
        'kind: table\nname: a.no_file\nowner: clinical-data\nschema: schemas/nope.proto#lab.Result\n',
        'kind: table\nname: a.no_message\nowner: clinical-data\nschema: schemas/test.proto#lab.Reslt\n',
        'kind: table\nname: a.imports\nowner: clinical-data\nschema: schemas/imports.proto#imp.M\n',
        'kind: table\nname: a.types\nowner: clinical-data\nschema: schemas/types.proto#typ.M\n',
      ].join('---\n'),
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'schemas/imports.proto:3:8: error proto-import: import "nowhere/missing.proto" not found; imports resolve against the importing file\'s folder, then the repo root (tessera/options.proto and google/type/date.proto are built in)',
      "schemas/types.proto:5:3: error proto-parse: proto does not resolve: unknown type 'Missing' in Type .typ.M; define it or import the file that does",
      'tables/t.yaml:4:9: error invalid-schema-ref: table a.no_hash: `schema` must be `path/to/file.proto#package.Message` (e.g. `schemas/clinical.proto#clinical.Patient`)',
      'tables/t.yaml:9:9: error missing-file: table a.no_file: schema file `schemas/nope.proto` does not exist (paths are relative to the repo)',
      'tables/t.yaml:14:9: error unknown-message: table a.no_message: `schemas/test.proto` defines no message `lab.Reslt`; it defines `lab.Result`, `lab.Other`',
    ]);
  });
});
