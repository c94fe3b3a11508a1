/**
 * The smallest catalog repo that shows every kind of file (`tessera init DIR` without
 * `--example`): settings, one owner, one annotated schema, an ingested table and a projection of
 * it, a CSV source with a few rows, the projection's SQL and one role. Plain text, so the user
 * reads each file as it is meant to be written; `json-schemas/` is added by the writer.
 */

/** File path (relative to the repo) → content, for a project named `name`. */
export function blankRepoFiles(name: string): Record<string, string> {
  const schema = (path: string) => `# yaml-language-server: $schema=${path}\n`;
  const documentSchema = schema('../json-schemas/tessera-document.schema.json');
  return {
    'tessera.yaml': `${schema('json-schemas/tessera.schema.json')}name: ${name}
catalog: sqlite:.tessera/catalog.db
storage: file:.tessera/warehouse
engine: duckdb
# governance:
#   hash_key: \${TESSERA_HASH_KEY}   # the key HASH masks use; without it the catalog generates one
`,
    '.gitignore': '# Tessera state: the catalog database, the warehouse, run folders\n.tessera/\n',
    'owners/data-team.yaml': `${documentSchema}kind: owner
name: data-team
description: Answers for the tables below; rename it and list your team.
members: [you@example.org]
channels:
  # Prints each notification where the task ran. Add e.g. \`- email: { to: [team@example.org] }\`.
  - console: {}
`,
    'schemas/shop.proto': `syntax = "proto3";
package shop;

import "tessera/options.proto";
import "google/protobuf/timestamp.proto";

// One row per order placed in the shop.
message Order {
  // The order's id in the source system.
  string order_id = 1 [(tessera.field) = { primary_key: true }];
  // Who placed it: personal data, shown as its domain to anyone not granted PII.
  string customer_email = 2 [(tessera.field) = { sensitivity: PII, mask: EMAIL_DOMAIN }];
  google.protobuf.Timestamp ordered_at = 3;
  // Order total in EUR.
  double amount = 4;
  // One of the statuses below.
  string status = 5 [(tessera.field) = { allowed: ["placed", "shipped", "cancelled"] }];
}
`,
    'tables/shop.yaml': `${documentSchema}kind: table
name: shop.orders
owner: data-team
schema: schemas/shop.proto#shop.Order
freshness: { warn_after: 26h }
validations:
  - expect_column_values_to_be_unique: { column: order_id }
  - expect_column_values_to_be_between: { column: amount, min_value: 0 }
---
# A projection's target: no schema, it is inferred from the SQL.
kind: table
name: shop.daily_revenue
owner: data-team
description: Orders and revenue per day, cancelled orders left out.
validations:
  - expect_table_row_count_to_be_between: { min_value: 1 }
`,
    'tasks/shop.yaml': `${documentSchema}kind: task
name: ingest_orders
type: ingestion
target: shop.orders
source:
  type: csv
  uri: data/orders.csv
  options: { header: true }
schedule: '@hourly'
---
kind: task
name: build_daily_revenue
type: projection
target: shop.daily_revenue
sql: sql/daily_revenue.sql
`,
    'sql/daily_revenue.sql': `-- Runs whenever shop.orders publishes a new version.
select cast(ordered_at as date) as day,
       count(*) as orders,
       cast(sum(amount) as decimal(12, 2)) as revenue
from shop.orders
where status <> 'cancelled'
group by 1
order by 1
`,
    'access/roles.yaml': `${documentSchema}kind: role
name: analyst
members: [group:analysts]
grants:
  - tables: ['shop.*']
# unmask: [PII]   # to see customer_email in clear
---
kind: principal
name: ana@example.org
groups: [analysts]
`,
    'data/orders.csv': `order_id,customer_email,ordered_at,amount,status
o-1001,lea@example.org,2026-03-01T09:15:00Z,42.50,shipped
o-1002,sam@mail.example,2026-03-01T11:40:00Z,18.00,shipped
o-1003,lea@example.org,2026-03-01T16:05:00Z,7.25,cancelled
o-1004,kim@example.net,2026-03-02T08:30:00Z,99.90,placed
o-1005,sam@mail.example,2026-03-02T19:55:00Z,23.40,shipped
`,
    'README.md': `# ${name}

A Tessera catalog repo. Try it:

\`\`\`sh
tessera validate        # every problem at once, with file:line:col
tessera apply           # register tables and tasks in the catalog
tessera run --all       # ingest data/orders.csv, then build shop.daily_revenue
tessera query "select * from shop.daily_revenue"
tessera query "select customer_email from shop.orders" --as ana@example.org   # masked
\`\`\`

Then make it yours: rename the owner, describe your data in \`schemas/\`, point the task in
\`tasks/\` at your files. Editors check the YAML with the JSON Schemas in \`json-schemas/\`.
`,
  };
}
