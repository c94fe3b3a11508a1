// A YAML syntax error is reported on the line to fix, and a file that does not parse adds no
// cascade: the tables it declares are unknown, not missing, so references to them are not errors.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { formatted, OWNER_YAML, writeCatalogRepo } from './catalog-repo-fixture.ts';

const load = async (files: Record<string, string>) => {
  const root = await writeCatalogRepo({ 'owners/clinical-data.yaml': OWNER_YAML, ...files });
  try {
    return formatted((await loadDefinitions(root, { env: {}, cache: false })).diagnostics);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

it('points at an unclosed quote or bracket, not at the line after it', async () => {
  assert.deepEqual(
    await load({
      'tables/quote.yaml': 'kind: table\nname: "clinical.a\nowner: clinical-data\n',
      'tables/map.yaml':
        'kind: table\nname: clinical.b\nowner: clinical-data\nretention: { keep_versions: 3\n',
    }),
    [
      'tables/map.yaml:4:12: error yaml-parse: YAML does not parse: this `{` is never closed: end the map with `}` on this line, or indent its continuation lines; until it parses, references to `clinical.b` are not checked',
      'tables/quote.yaml:2:7: error yaml-parse: YAML does not parse: this `"` is never closed: end the string with `"`',
    ],
  );
});

it('reports references to the tables of a file that does not parse once, not as unknown tables', async () => {
  assert.deepEqual(
    await load({
      'tables/patients.yaml': 'kind: table\nname: clinical.patients\nowner: clinical-data\nschema: [oops\n',
      'tables/visits.yaml': 'kind: table\nname: clinical.visits\nowner: clinical-data\n',
      'tasks/visits.yaml': `kind: task
name: build_visits
type: projection
target: clinical.visits
depends_on: [clinical.patients]
sql: select * from clinical.patients
`,
    }),
    [
      'tables/patients.yaml:4:9: error yaml-parse: YAML does not parse: this `[` is never closed: end the list with `]` on this line, or indent its continuation lines; until it parses, references to `clinical.patients` are not checked',
    ],
  );
});
