// `type: kafka`: the mapping from a task to the kafkajs client and consumer (always), and a topic
// read into versions against a real broker when KAFKA_BROKERS names one (no broker can be
// installed here: the one documented exception to "no skips in CI").
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaConsumerPlan } from '../../src/ingest/sources/kafka-consumer-plan.ts';
import type { EventStreamSourceDef, TaskDef } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { writeRepo } from '../support/cli.ts';

function kafkaTask(
  eventStream: Partial<EventStreamSourceDef> & { url: string },
  options: Record<string, unknown> = {},
): TaskDef {
  return {
    name: 'load_orders',
    type: 'ingestion',
    target: 'shop.orders',
    source: { type: 'kafka', options, columns: {}, eventStream: { topic: 'orders', ...eventStream } },
    mode: 'append',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: { file: 'tasks/orders.yaml', line: 1, column: 1 },
  };
}

test('a kafka task maps to a client, a consumer group that never auto-commits, and seeks to its cursor', () => {
  const plan = kafkaConsumerPlan(kafkaTask({ url: 'kafka://k1:9092,k2' }), {
    topic: 'orders',
    offsets: { '0': '120', '3': '7' },
  });
  assert.deepEqual(plan, {
    client: { clientId: 'tessera-load_orders', brokers: ['k1:9092', 'k2:9092'], ssl: false },
    consumer: { groupId: 'tessera-load_orders', allowAutoTopicCreation: false },
    subscription: { topic: 'orders', fromBeginning: true },
    run: { autoCommit: false },
    seeks: [
      { topic: 'orders', partition: 0, offset: '120' },
      { topic: 'orders', partition: 3, offset: '7' },
    ],
    batch: { maxRows: 10_000, maxWaitMs: 5_000 },
  });
});

test('kafka+ssl with credentials is TLS and SASL; the group and batch come from the task', () => {
  const plan = kafkaConsumerPlan(
    kafkaTask(
      {
        url: 'kafka+ssl://loader:s%40cret@broker.example.org:9093/',
        consumer: 'orders-loader',
        batch: { maxRows: 500, maxWaitMs: 2_000 },
      },
      { sasl_mechanism: 'scram-sha-512' },
    ),
    // A cursor of another topic (the task was pointed elsewhere) is not used.
    { topic: 'payments', offsets: { '0': '9' } },
  );
  assert.deepEqual(plan.client, {
    clientId: 'tessera-load_orders',
    brokers: ['broker.example.org:9093'],
    ssl: true,
    sasl: { mechanism: 'scram-sha-512', username: 'loader', password: 's@cret' },
  });
  assert.equal(plan.consumer.groupId, 'orders-loader');
  assert.deepEqual(plan.seeks, []);
  assert.deepEqual(plan.batch, { maxRows: 500, maxWaitMs: 2_000 });
});

test('a url that is not kafka://… and an unknown SASL mechanism fail the run saying how to write them', () => {
  assert.throws(() => kafkaConsumerPlan(kafkaTask({ url: 'http://loader:pw@k1:9092' }), undefined), {
    message:
      'task load_orders: source url http://loader:***@k1:9092 is not a Kafka address; write it as kafka://broker:9092,broker2:9092 (kafka+ssl:// for TLS) (tasks/orders.yaml)',
  });
  assert.throws(
    () => kafkaConsumerPlan(kafkaTask({ url: 'kafka://k1:9092' }, { sasl_mechanism: 'gssapi' }), undefined),
    {
      message:
        'task load_orders: source option `sasl_mechanism` must be one of plain, scram-sha-256, scram-sha-512, got "gssapi" (tasks/orders.yaml)',
    },
  );
});

const brokers = process.env.KAFKA_BROKERS;
test(
  'a topic is read in micro-batches, published, and its offsets committed only after publication',
  { skip: brokers ? false : 'KAFKA_BROKERS is not set: no Kafka broker to test against' },
  async (t) => {
    const topic = `tessera-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    const kafka = new Kafka({
      clientId: 'tessera-test',
      brokers: brokers!.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    t.after(async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, count: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: count }, (_, index) => ({
          key: String(from + index),
          value: JSON.stringify({ order_id: `o${from + index}`, amount: from + index }),
        })),
      });
    await send(0, 1_500);
    const repo = await writeRepo({
      'tessera.yaml': 'name: kafka\n',
      'owners/o.yaml': 'kind: owner\nname: shop\n',
      'schemas/s.proto':
        'syntax = "proto3";\npackage shop;\nimport "tessera/options.proto";\nmessage Order {\n  string order_id = 1 [(tessera.field) = { primary_key: true }];\n  double amount = 2;\n}\n',
      'tables/t.yaml': 'kind: table\nname: shop.orders\nowner: shop\nschema: schemas/s.proto#shop.Order\n',
      'tasks/t.yaml': `kind: task\nname: load_orders\ntype: ingestion\ntarget: shop.orders\nsource: { type: kafka, url: "kafka://${brokers}", topic: ${topic}, batch: { max_rows: 1000, max_wait: 3s } }\nmode: append\n`,
    });
    const platform = await Platform.open({ repo });
    t.after(() => platform.close());
    await platform.apply();
    const statuses: string[] = [];
    for (let index = 0; index < 5; index++) {
      const [run] = await platform.run({ tasks: ['load_orders'] });
      statuses.push(run!.status);
      if (run!.status === 'skipped') break;
      assert.equal(run!.status, 'succeeded', run!.error);
    }
    await send(1_500, 200);
    const [last] = await platform.run({ tasks: ['load_orders'] });
    assert.equal(last!.status, 'succeeded', last!.error);
    await producer.disconnect();
    const counts = await platform.query(
      'select count(*)::int as n, count(distinct order_id)::int as ids from shop.orders',
    );
    assert.deepEqual(counts.rows, [{ n: 1_700, ids: 1_700 }]);
    assert.equal(statuses.at(-1), 'skipped');
  },
);
