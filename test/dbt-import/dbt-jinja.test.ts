// dbt Jinja on import: the common subset renders as dbt would; anything else is an error naming
// the line, never a guess. SQL that DuckDB does not accept after rendering is left for `validate`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JinjaError, renderModel } from '../../src/dbt-import/jinja.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const context = {
  ref: (name: string) => (name === 'orders' ? 'raw.orders' : undefined),
  source: (source: string, table: string) =>
    source === 'crm' && table === 'contacts' ? 'crm.contacts' : undefined,
  vars: { since: '2026-01-01' },
  self: 'dbt.me',
};

test('ref, source, config, var, is_incremental, set, for, if, comments and whitespace control render', () => {
  const rendered = renderModel(
    `{{ config(materialized='incremental', schema='marts') }}
{#- a comment -#}
{%- set cols = ['a', 'b'] %}
select {% for c in cols %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ ref('orders') }} join {{ source('crm', 'contacts') }} using (id)
where day >= '{{ var('since') }}' and n < {{ var('limit', 10) }}
{%- if is_incremental() %} and id > (select max(id) from {{ this }}){% endif %}
`,
    context,
  );
  assert.equal(
    rendered.sql,
    "\nselect a, b\nfrom raw.orders join crm.contacts using (id)\nwhere day >= '2026-01-01' and n < 10\n",
  );
  assert.deepEqual(rendered.config, { materialized: 'incremental', schema: 'marts' });
  assert.deepEqual(rendered.refs, ['orders']);
  assert.equal(rendered.usedIsIncremental, true);
});

test('what Tessera does not render is an error on its line', () => {
  const cases: [string, number, RegExp][] = [
    ['select\n  {{ dbt_utils.star(ref("orders")) }}\nfrom x', 2, /`dbt_utils\.star` is not a macro/],
    ['select 1\n\n{{ adapter.dispatch("m")() }}', 3, /`adapter\.dispatch` is not a macro/],
    ['select {{ cents_to_dollars("amount") }}', 1, /`cents_to_dollars` is not a macro/],
    ['select 1\n{% materialization x %}{% endmaterialization %}', 2, /unknown block tag: materialization/],
    ['select 1\nfrom t\nwhere {{ x | my_filter }}', 3, /`my_filter` is not a filter/],
    ['select 1\nfrom {{ ref("missing") }}', 2, /ref\('missing'\) names no model or seed/],
    ['select {{ var("nope") }}', 1, /var\('nope'\) has no value in dbt_project\.yml vars and no default/],
    ['select {{ target.schema }}', 1, /not defined|undefined/],
  ];
  for (const [text, line, message] of cases) {
    assert.throws(
      () => renderModel(text, context),
      (error: unknown) => {
        assert.ok(error instanceof JinjaError, String(error));
        assert.equal(error.line, line, `${text}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-dbt-jinja-'));
});
after(() => rm(root, { recursive: true, force: true }));

test('a model whose rendered SQL DuckDB refuses is written and `validate` names its file', async () => {
  const files: Record<string, string> = {
    'dbt_project.yml': 'name: tiny\n',
    'seeds/items.csv': 'id,label\n1,a\n2,b\n',
    'models/top_items.sql': "select top 1 *\nfrom {{ ref('items') }}\n",
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, 'tiny', path)), { recursive: true });
    await writeFile(join(root, 'tiny', path), text);
  }
  const out = join(root, 'catalog');
  const imported = await tesseraInProcess(['import', 'dbt', join(root, 'tiny'), '--out', out]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /models\/top_items\.sql: model → projection dbt\.top_items/);
  const validate = await tesseraInProcess(['validate'], { cwd: out });
  assert.equal(validate.code, 2);
  assert.match(validate.stdout + validate.stderr, /sql\/dbt\/top_items\.sql:\d+:\d+: error sql-/);
  const again = await tesseraInProcess(['import', 'dbt', join(root, 'tiny'), '--out', out]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /is not empty; name a new or empty folder/);
});
