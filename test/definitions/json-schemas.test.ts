import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { buildJsonSchemas, JSON_SCHEMA_FOLDER } from '../../src/definitions/json-schemas.ts';
import { jsonSchemaChecker } from '../support/json-schema-checker.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/example/healthcare');
const SCHEMA_LINE = /^# yaml-language-server: \$schema=(\S+)\n/;
const CHECKERS = [
  ['draft 2020-12', jsonSchemaChecker('2020-12')],
  ['draft-07, as VS Code reads them', jsonSchemaChecker('draft-07')],
] as const;
const check = CHECKERS[0][1];

function yamlFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

describe('JSON Schemas for editors', () => {
  it("the example repo's json-schemas/ are exactly what the definitions export", () => {
    const folder = join(EXAMPLE, JSON_SCHEMA_FOLDER);
    const exported = buildJsonSchemas();
    assert.deepEqual(readdirSync(folder).sort(), Object.keys(exported).sort());
    for (const [file, schema] of Object.entries(exported)) {
      assert.equal(
        readFileSync(join(folder, file), 'utf8'),
        `${JSON.stringify(schema, null, 2)}\n`,
        `${file} is stale: run \`node bin/tessera.js schema export src/example/healthcare/${JSON_SCHEMA_FOLDER}\``,
      );
    }
  });

  it('every YAML file of the example names its schema on its first line and passes it', () => {
    const files = yamlFiles(EXAMPLE);
    assert.ok(files.length >= 8, `found only ${files.length} YAML files`);
    for (const path of files) {
      const file = relative(EXAMPLE, path);
      const text = readFileSync(path, 'utf8');
      const reference = SCHEMA_LINE.exec(text)?.[1];
      assert.ok(reference, `${file} does not start with a yaml-language-server $schema line`);
      const schemaPath = relative(EXAMPLE, resolve(dirname(path), reference));
      assert.equal(
        schemaPath,
        join(
          JSON_SCHEMA_FOLDER,
          file === 'tessera.yaml' ? 'tessera.schema.json' : 'tessera-document.schema.json',
        ),
        file,
      );
      for (const [draft, checkAs] of CHECKERS) {
        assert.deepEqual(
          checkAs(schemaPath.slice(JSON_SCHEMA_FOLDER.length + 1), text),
          [],
          `${file}, ${draft}`,
        );
      }
    }
  });

  it('a document per kind names each allowed key with its title and description', () => {
    const schemas = buildJsonSchemas();
    const table = schemas['table.schema.json']!;
    assert.equal(table.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(table.title, 'Tessera table');
    assert.equal(table.additionalProperties, false);
    const properties = table.properties as Record<string, { description?: string }>;
    assert.deepEqual(Object.keys(properties), [
      'kind',
      'name',
      'owner',
      'description',
      'schema',
      'schema_version',
      'freshness',
      'validations',
      'subscribers',
      'retention',
      'store',
    ]);
    assert.match(properties.schema_version!.description!, /breaking/);
    assert.equal(schemas['tessera.schema.json']!.title, 'tessera.yaml');
  });
});

/**
 * Each case is a file the loader refuses with an error; the JSON Schema must refuse it too, so an
 * editor flags the mistake as it is typed.
 */
const REFUSED: {
  name: string;
  /** The JSON pointer of the value the schema must flag. */
  schemaFlags: string;
  file: string;
  yaml: string;
  schemaFile?: string;
  loaderCode: string;
}[] = [
  {
    name: 'an unknown key',
    schemaFlags: '/',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: a.b\nowner: clinical-data\nownr: x\n',
    loaderCode: 'unknown-key',
  },
  {
    name: 'a duration without a unit',
    schemaFlags: '/freshness/warn_after',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: a.b\nowner: clinical-data\nfreshness: { warn_after: 26 }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'a duration spelled wrong',
    schemaFlags: '/freshness/warn_after',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: a.b\nowner: clinical-data\nfreshness: { warn_after: 26 hours }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'an unknown channel type',
    schemaFlags: '/channels/0',
    file: 'owners/o.yaml',
    yaml: 'kind: owner\nname: clinical-data\nchannels:\n  - teams: { webhook: "https://example.org" }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'a channel map naming two types',
    schemaFlags: '/channels/0',
    file: 'owners/o.yaml',
    yaml: 'kind: owner\nname: clinical-data\nchannels:\n  - console: {}\n    email: { to: a@example.org }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'an unknown key inside a channel',
    schemaFlags: '/channels/0',
    file: 'owners/o.yaml',
    yaml: 'kind: owner\nname: clinical-data\nchannels:\n  - slack: { hook: "https://example.org" }\n',
    loaderCode: 'unknown-key',
  },
  {
    name: 'a channel webhook that is not an http URL',
    schemaFlags: '/channels/0/slack/webhook',
    file: 'owners/o.yaml',
    yaml: 'kind: owner\nname: clinical-data\nchannels:\n  - slack: { webhook: hooks.example.org }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'an unknown event kind',
    schemaFlags: '/channels/0/console/on/0',
    file: 'owners/o.yaml',
    yaml: 'kind: owner\nname: clinical-data\nchannels:\n  - console: { on: [task_crashed] }\n',
    loaderCode: 'invalid-value',
  },
  {
    name: 'an unknown schedule macro',
    schemaFlags: '/schedule',
    file: 'tasks/t.yaml',
    yaml: 'kind: task\nname: t\ntype: ingestion\ntarget: a.b\nsource: { type: csv, uri: b.csv }\nschedule: "@fortnightly"\n',
    loaderCode: 'invalid-schedule',
  },
  {
    name: 'a schedule map with an unknown key',
    schemaFlags: '/schedule',
    file: 'tasks/t.yaml',
    yaml: 'kind: task\nname: t\ntype: ingestion\ntarget: a.b\nsource: { type: csv, uri: b.csv }\nschedule: { every: 15m, at: 3 }\n',
    loaderCode: 'unknown-key',
  },
  {
    name: 'a validation naming two expectations',
    schemaFlags: '/validations/0',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: a.b\nowner: clinical-data\nvalidations:\n  - expect_a: { column: x }\n    expect_b: { column: y }\n',
    loaderCode: 'invalid-validation',
  },
  {
    name: 'a validation whose arguments are not a map',
    schemaFlags: '/validations/0/expect_column_values_to_be_unique',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: a.b\nowner: clinical-data\nvalidations:\n  - expect_column_values_to_be_unique: patient_id\n',
    loaderCode: 'invalid-validation',
  },
  {
    name: 'a table name without a namespace',
    schemaFlags: '/name',
    file: 'tables/t.yaml',
    yaml: 'kind: table\nname: patients\nowner: clinical-data\n',
    loaderCode: 'invalid-name',
  },
  {
    name: 'an unknown kind',
    schemaFlags: '/kind',
    file: 'tables/t.yaml',
    yaml: 'kind: view\nname: a.b\n',
    loaderCode: 'unknown-kind',
  },
  {
    name: 'a project setting with an unknown key',
    schemaFlags: '/',
    file: 'tessera.yaml',
    schemaFile: 'tessera.schema.json',
    yaml: 'name: p\ncatalogue: sqlite:x.db\n',
    loaderCode: 'unknown-key',
  },
  {
    name: 'an SMTP URL of another scheme',
    schemaFlags: '/notifications/smtp/url',
    file: 'tessera.yaml',
    schemaFile: 'tessera.schema.json',
    yaml: 'notifications:\n  smtp: { url: "http://mail.example.org", from: tessera@example.org }\n',
    loaderCode: 'invalid-value',
  },
];

describe('the JSON Schemas refuse what the loader refuses', () => {
  for (const refused of REFUSED) {
    it(refused.name, async () => {
      const root = await writeCatalogRepo({
        'owners/clinical-data.yaml': OWNER_YAML,
        [refused.file]: refused.yaml,
      });
      const { diagnostics } = await loadDefinitions(root, { env: {}, cache: false });
      const errors = formatted(diagnostics.filter((diagnostic) => diagnostic.severity === 'error'));
      assert.ok(
        errors.some((line) => line.startsWith(refused.file) && line.includes(`error ${refused.loaderCode}:`)),
        `the loader should refuse it with ${refused.loaderCode}; it said:\n${errors.join('\n')}`,
      );
      for (const [draft, checkAs] of CHECKERS) {
        const problems = checkAs(refused.schemaFile ?? 'tessera-document.schema.json', refused.yaml);
        assert.ok(
          problems.some((problem) => problem.startsWith(`document 1: ${refused.schemaFlags} `)),
          `${draft}: the schema should flag ${refused.schemaFlags}; it said:\n${problems.join('\n')}`,
        );
      }
    });
  }

  it('accepts `${VARIABLE}` where a URL, an address or a duration is expected, as the loader does', async () => {
    const files = {
      'tessera.yaml':
        'notifications:\n  smtp: { url: "${SMTP_URL}", from: "${MAIL_FROM}" }\n  reminders: { every: "${REMIND_EVERY}" }\n',
      'owners/o.yaml':
        'kind: owner\nname: clinical-data\nchannels:\n  - slack: { webhook: "${SLACK_WEBHOOK}" }\n  - console:\n',
    };
    const root = await writeCatalogRepo(files);
    const env = {
      SMTP_URL: 'smtp://u:p@mail.example.org:587',
      MAIL_FROM: 'tessera@example.org',
      REMIND_EVERY: '4h',
      SLACK_WEBHOOK: 'https://hooks.example.org/x',
    };
    const { diagnostics } = await loadDefinitions(root, { env, cache: false });
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(check('tessera.schema.json', files['tessera.yaml']), []);
    assert.deepEqual(check('tessera-document.schema.json', files['owners/o.yaml']), []);
  });
});
