// `tessera import dbt` on a small dbt project written here: seeds, staging models, a model using
// {% for %} over a {% set %} list, every mapped test kind, unsupported Jinja, a PHI-looking column;
// then validate, apply, run --all and query, compared with values computed here from the seed CSVs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { mapTest } from '../../src/dbt-import/dbt-import.ts';

const CUSTOMERS = `id,first_name,email,country
1,Ada,ada@example.org,FR
2,Bo,bo@example.net,DE
3,Cy,cy@example.com,FR
`;
const ORDERS = `order_id,customer_id,amount,status,ordered_on
10,1,12.5,placed,2026-01-02
11,1,7.25,shipped,2026-01-03
12,2,30,returned,2026-01-03
13,3,4.75,shipped,2026-01-04
14,3,10,placed,2026-01-05
`;

const PROJECT: Record<string, string> = {
  'dbt_project.yml': `name: shop
version: '1.0'
model-paths: [models]
seed-paths: [seeds]
vars:
  min_amount: 5
models:
  shop:
    staging:
      +schema: staging
      +materialized: view
    marts:
      +schema: marts
      +materialized: table
seeds:
  shop:
    +schema: raw
    orders:
      +column_types:
        order_id: varchar
    extra:
      +enabled: "{{ var('load_extra', false) }}"
`,
  'seeds/extra/big.csv': 'id\n1\n',
  'seeds/customers.csv': CUSTOMERS,
  'seeds/orders.csv': ORDERS,
  'seeds/seeds.yml': `version: 2
seeds:
  - name: customers
    description: Customers of the shop.
    columns:
      - name: id
        tests: [unique, not_null]
      - name: email
        description: The customer's e-mail address.
`,
  'models/staging/stg_orders.sql': `{{ config(materialized='incremental') }}
{#- orders above the minimum amount -#}
select order_id, customer_id, amount, status
from {{ ref('orders') }}
where amount >= {{ var('min_amount') }}
{% if is_incremental() %}  and order_id > (select max(order_id) from {{ this }}){% endif %}
`,
  'models/staging/stg_customers.sql': `select id as customer_id, first_name, email, country from {{ ref('customers') }}
`,
  'models/staging/schema.yml': `version: 2
models:
  - name: stg_orders
    description: Orders of at least min_amount.
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [order_id, customer_id]
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              values: [placed, shipped, returned]
      - name: customer_id
        data_tests:
          - relationships:
              to: ref('stg_customers')
              field: customer_id
      - name: amount
        data_tests:
          - dbt_utils.accepted_range:
              min_value: 0
          - dbt_utils.not_constant
`,
  'models/marts/customer_status.sql': `{%- set statuses = ['placed', 'shipped', 'returned'] -%}
select c.customer_id,
       c.country,
{%- for s in statuses %}
       sum(case when o.status = '{{ s }}' then o.amount else 0 end) as {{ s }}_amount{{ "," if not loop.last }}
{%- endfor %}
from {{ ref('stg_customers') }} c
join {{ ref('stg_orders') }} o on o.customer_id = c.customer_id
group by 1, 2
`,
  'models/sources.yml': `version: 2
sources:
  - name: crm
    description: The CRM's replica.
    tables:
      - name: contacts
        description: One row per contact.
        columns:
          - name: contact_id
            data_type: integer
            data_tests: [unique]
          - name: phone
            description: The contact's phone number.
      - name: notes
`,
  'models/marts/after_starred.sql': "select count(*) as n from {{ ref('starred') }}\n",
  'models/marts/starred.sql': `select
  {{ dbt_utils.star(ref('stg_orders')) }}
from {{ ref('stg_orders') }}
`,
};

let root: string;
let project: string;
let out: string;
let imported: { code: number; stdout: string; stderr: string };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-dbt-'));
  project = join(root, 'shop');
  out = join(root, 'catalog');
  for (const [path, text] of Object.entries(PROJECT)) {
    await mkdir(dirname(join(project, path)), { recursive: true });
    await writeFile(join(project, path), text);
  }
  imported = await tesseraInProcess(['import', 'dbt', project, '--out', out]);
});
after(() => (process.env.KEEP_DBT ? undefined : rm(root, { recursive: true, force: true })));

/** Rows of a CSV written above (no quoting in these fixtures). */
function csvRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])));
}

test('the imported repo validates, applies, runs, and answers with the values the seeds imply', async () => {
  assert.equal(imported.code, 0, imported.stderr);
  const validate = await tesseraInProcess(['validate'], { cwd: out });
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);
  const apply = await tesseraInProcess(['apply'], { cwd: out });
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  const run = await tesseraInProcess(['run', '--all'], { cwd: out });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const query = await tesseraInProcess(
    ['--json', 'query', 'select * from marts.customer_status order by customer_id'],
    { cwd: out },
  );
  assert.equal(query.code, 0, query.stderr);
  const rows = JSON.parse(query.stdout) as Record<string, unknown>[];

  // Independently: orders of at least min_amount (5), summed per customer and status.
  const customers = csvRows(CUSTOMERS);
  const orders = csvRows(ORDERS).filter((o) => Number(o.amount) >= 5);
  const expected = customers
    .filter((c) => orders.some((o) => o.customer_id === c.id))
    .map((c) => {
      const sum = (status: string) =>
        orders
          .filter((o) => o.customer_id === c.id && o.status === status)
          .reduce((total, o) => total + Number(o.amount), 0);
      return {
        customer_id: Number(c.id),
        country: c.country,
        placed_amount: sum('placed'),
        shipped_amount: sum('shipped'),
        returned_amount: sum('returned'),
      };
    });
  assert.deepEqual(
    rows.map((r) => ({
      customer_id: Number(r.customer_id),
      country: r.country,
      placed_amount: Number(r.placed_amount),
      shipped_amount: Number(r.shipped_amount),
      returned_amount: Number(r.returned_amount),
    })),
    expected,
  );
});

test('a model with a macro Tessera does not render is skipped and reported with file:line', () => {
  assert.match(
    imported.stdout,
    /models\/marts\/starred\.sql:2:\d+: model starred skipped: `dbt_utils\.star` is not a macro Tessera renders/,
  );
  assert.match(
    imported.stdout,
    /models\/marts\/after_starred\.sql: model after_starred not converted: it reads model starred, which is not converted\. Its rendered SQL is in sql\/marts\/after_starred\.sql/,
  );
});

test('each test kind maps to its expectation; an unmapped one is reported', async () => {
  const tables = parseAllDocuments(await readFile(join(out, 'tables/dbt.yaml'), 'utf8')).map(
    (doc) => doc.toJS() as { name: string; validations?: unknown[] },
  );
  const stg = tables.find((t) => t.name === 'staging.stg_orders');
  assert.deepEqual(stg?.validations, [
    { expect_compound_columns_to_be_unique: { column_list: ['order_id', 'customer_id'] } },
    { expect_column_values_to_be_unique: { column: 'order_id' } },
    { expect_column_values_to_not_be_null: { column: 'order_id' } },
    { expect_column_values_to_be_in_set: { column: 'status', value_set: ['placed', 'shipped', 'returned'] } },
    {
      expect_column_values_to_be_present_in_other_table: {
        column: 'customer_id',
        other_table_name: 'staging.stg_customers',
        other_column_name: 'customer_id',
      },
    },
    { expect_column_values_to_be_between: { column: 'amount', min_value: 0 } },
  ]);
  assert.match(imported.stdout, /staging\.stg_orders\.amount: test dbt_utils\.not_constant has no exact/);
  assert.deepEqual(
    mapTest({ accepted_values: { values: ['a'], config: { where: 'x > 1' } } }, 'c', () => undefined),
    {
      unsupported: 'accepted_values: its where config has no exact counterpart; write the validation by hand',
    },
  );
});

test('a column that looks like PHI is listed with a suggested mask, not masked', async () => {
  assert.match(
    imported.stdout,
    /raw\.customers\.email: looks like PII\/PHI, email addresses \(.*\); not masked .*mask: HASH/,
  );
  const proto = await readFile(join(out, 'schemas/raw/customers.proto'), 'utf8');
  assert.doesNotMatch(proto, /\(tessera\.field\)/);
  const query = await tesseraInProcess(['--json', 'query', 'select email from raw.customers order by id'], {
    cwd: out,
  });
  assert.deepEqual(
    (JSON.parse(query.stdout) as { email: string }[]).map((r) => r.email),
    csvRows(CUSTOMERS).map((c) => c.email),
  );
});

test('a source becomes a table whose ingestion is left to the user, and said so', async () => {
  assert.match(imported.stdout, /models\/sources\.yml: source crm\.contacts → table crm\.contacts/);
  assert.match(imported.stdout, /crm\.contacts: a dbt source: no ingestion task was written; add one/);
  assert.match(imported.stdout, /source crm\.notes lists no columns, so no table was written/);
  const proto = await readFile(join(out, 'schemas/crm/contacts.proto'), 'utf8');
  assert.match(proto, /optional int64 contact_id = 1;/);
  assert.match(imported.stdout, /crm\.contacts\.phone: looks like PII\/PHI, telephone numbers/);
});

test('the summary says what was converted, what needs a human and why', async () => {
  assert.match(imported.stdout, /^converted \(\d+\):$/m);
  assert.match(
    imported.stdout,
    /seeds\/orders\.csv: seed → table raw\.orders, ingested from data\/seeds\/orders\.csv/,
  );
  assert.match(
    imported.stdout,
    /models\/marts\/customer_status\.sql: model → projection marts\.customer_status/,
  );
  assert.match(
    await readFile(join(out, 'schemas/raw/orders.proto'), 'utf8'),
    /optional string order_id = 1;[^]*optional double amount = 3;/,
    "the seed's column_types config wins over the sniffed type",
  );
  assert.match(imported.stdout, /^needs a human \(\d+\):$/m);
  assert.match(
    imported.stdout,
    /seeds\/extra\/big\.csv: seed big is disabled in dbt \(enabled: .*\); not imported/,
  );
  assert.match(imported.stdout, /model stg_orders: incremental in dbt; Tessera rebuilds it in full/);
  assert.match(imported.stdout, /model stg_customers: dbt would make a view/);
  const description = (
    parseYaml(
      (await readFile(join(out, 'tables/dbt.yaml'), 'utf8'))
        .split('---\n')
        .find((d) => d.includes('raw.customers'))!,
    ) as { description: string }
  ).description;
  assert.equal(description, 'Customers of the shop.');
});
