// The YAML of event-stream sources (nats, kafka): what each type needs, reported at its line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const TABLE = 'kind: table\nname: a.b\nowner: clinical-data\n';
const PROTO = 'syntax = "proto3";\npackage a;\nmessage Row {\n  string id = 1;\n}\n';
const TABLES = `kind: table\nname: a.b\nowner: clinical-data\nschema: schemas/a.proto#a.Row\n---\nkind: table\nname: a.c\nowner: clinical-data\nschema: schemas/a.proto#a.Row\n`;

describe('event-stream sources', () => {
  it('reads nats and kafka sources into typed keys, with the micro-batch defaults', async () => {
    const root = await writeCatalogRepo({
      'owners/a.yaml': OWNER_YAML,
      'schemas/a.proto': PROTO,
      'tables/b.yaml': TABLES,
      'tasks/t.yaml': `kind: task
name: from_nats
type: ingestion
target: a.b
source:
  type: nats
  url: nats://127.0.0.1:4222
  stream: ORDERS
  subject: orders.>
  batch: { max_rows: 500, max_wait: 2s }
  format: protobuf
mode: append
---
kind: task
name: from_kafka
type: ingestion
target: a.c
source: { type: kafka, url: "kafka://k1:9092,k2:9092", topic: orders, consumer: orders-loader, batch: { max_rows: 10 } }
mode: append
`,
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(
      [...definitions.tasks].sort((a, b) => b.name.localeCompare(a.name)).map((task) => task.source),
      [
        {
          type: 'nats',
          options: {},
          columns: {},
          eventStream: {
            url: 'nats://127.0.0.1:4222',
            stream: 'ORDERS',
            subject: 'orders.>',
            batch: { maxRows: 500, maxWaitMs: 2000 },
            format: 'protobuf',
          },
        },
        {
          type: 'kafka',
          options: {},
          columns: {},
          eventStream: {
            url: 'kafka://k1:9092,k2:9092',
            topic: 'orders',
            consumer: 'orders-loader',
            batch: { maxRows: 10, maxWaitMs: 5000 },
          },
        },
      ],
    );
  });

  it('reports every key a stream type lacks, and keys of another source type, at their line', async () => {
    const root = await writeCatalogRepo({
      'owners/a.yaml': OWNER_YAML,
      'tables/b.yaml': TABLE,
      'tasks/t.yaml': `kind: task
name: n
type: ingestion
target: a.b
source:
  type: nats
  url: nats://loader:hunter2@127.0.0.1:4222
  topic: orders
  format: avro
  batch: { max_rows: 0 }
---
kind: task
name: k
type: ingestion
target: a.b
source: { type: kafka, subject: orders.> }
---
kind: task
name: c
type: ingestion
target: a.b
source:
  type: csv
  uri: b.csv
  batch: { max_rows: 5 }
schedule: { on: stream }
`,
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:5:1: error missing-key: task n: a nats source needs `stream` (the JetStream stream, e.g. ORDERS)',
      'tasks/t.yaml:5:1: error missing-key: task n: a nats source needs `subject` (e.g. orders.created or orders.>)',
      'tasks/t.yaml:7:8: error plain-secret: task n: the password in `source.url` is written in the repo, where everyone who can read it sees it; give it as `${VAR}` (e.g. `nats://user:${PASSWORD}@host:4222`) and export the variable where tessera runs',
      'tasks/t.yaml:8:3: error unexpected-key: task n: `topic` belongs to kafka sources, not nats; remove it',
      'tasks/t.yaml:9:11: error invalid-value: task n: `source.format` must be one of `json`, `protobuf`',
      'tasks/t.yaml:10:22: error invalid-value: task n: `source.batch.max_rows` must be at least 1',
      'tasks/t.yaml:16:1: error missing-key: task k: a kafka source needs `url` (kafka://broker:9092,broker2:9092)',
      'tasks/t.yaml:16:1: error missing-key: task k: a kafka source needs `topic` (e.g. orders)',
      'tasks/t.yaml:16:24: error unexpected-key: task k: `subject` belongs to nats sources, not kafka; remove it',
      'tasks/t.yaml:25:3: error unexpected-key: task c: `batch` belongs to event-stream sources (nats, kafka), not csv; remove it',
      'tasks/t.yaml:26:17: error invalid-schedule: task c: `{ on: stream }` runs event-stream sources (nats, kafka) continuously; a csv source takes a cron expression, `{ every: … }` or `{ on: source_change }`',
    ]);
  });
});
