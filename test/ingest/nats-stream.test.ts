// `type: nats`: JetStream micro-batches read at least once from the stream and published exactly
// once, de-duplicated on Nats-Msg-Id, bad messages quarantined by their stream position.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { applied, natsAvailable, query, runOnce, runUntilCaughtUp, streamRepo } from './nats-fixture.ts';

const { skip } = await natsAvailable();

const COUNTS = 'select count(*)::int as n, count(distinct event_id)::int as ids from ops.events';

function events(from: number, count: number, amount = (index: number) => index) {
  return Array.from({ length: count }, (_, offset) => {
    const index = from + offset;
    return { id: `e${index}`, body: { event_id: `e${index}`, amount: amount(index) } };
  });
}

test(
  '20,000 messages, then 6,000 more repeating 1,000 earlier ids: every id is published once',
  { skip },
  async (t) => {
    const stream = await applied(await streamRepo());
    t.after(() => stream.close());
    await stream.publish(events(0, 20_000));
    const first = await runUntilCaughtUp(stream.repo);
    assert.equal(first.runs.at(-1)?.status, 'skipped');
    assert.deepEqual(await query(stream.repo, COUNTS), [{ n: 20_000, ids: 20_000 }]);

    // 5,000 new ids, and 1,000 ids published before (with other amounts, which must not land).
    await stream.publish([
      ...events(20_000, 5_000),
      ...Array.from({ length: 1_000 }, (_, index) => ({
        id: `e${index * 7}`,
        body: { event_id: `e${index * 7}`, amount: -1 },
      })),
    ]);
    assert.equal(await stream.messageCount(), 26_000, 'the stream itself kept the repeated ids');
    const second = await runUntilCaughtUp(stream.repo);
    assert.deepEqual(
      await query(
        stream.repo,
        `${COUNTS.replace(' from', ', count(*) filter (where amount < 0)::int as repeated from')}`,
      ),
      [{ n: 25_000, ids: 25_000, repeated: 0 }],
    );
    assert.ok(
      second.log.some((line) =>
        / 1000 already published \(same sequence or Nats-Msg-Id\) are skipped$/.test(line),
      ),
      second.log.join('\n'),
    );
    assert.match(
      second.runs.at(-1)!.error ?? '',
      /^nothing new: no message on stream TESSERA_TEST_\w+ \(tessera-test\.\S+\) at nats:\/\/127\.0\.0\.1:4222 after sequence 26000 within 1000 ms$/,
    );
  },
);

test(
  'a message that does not conform is quarantined as STREAM:SEQ and the rest are published',
  { skip },
  async (t) => {
    // A batch of exactly the messages published: the run ends once it has them all, not at max_wait.
    const stream = await applied(await streamRepo({ batch: '{ max_rows: 3, max_wait: 1s }' }));
    t.after(() => stream.close());
    await stream.publish([
      { body: { event_id: 'a', amount: 1 } },
      { body: { event_id: 'b', amount: 'twelve' } },
      { body: { event_id: 'c', amount: 3, note: 'not a field' } },
    ]);
    const { run, log } = await runOnce(stream.repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.badRows, 1);
    assert.ok(
      log.includes(
        `1 bad rows quarantined, e.g. ${stream.stream}:2 column amount: value "twelve" is not a number`,
      ),
      log.join('\n'),
    );
    assert.ok(
      log.includes(`${stream.stream}: ignored source columns that match no field: note`),
      log.join('\n'),
    );
    assert.deepEqual(await query(stream.repo, 'select event_id, amount from ops.events order by 1'), [
      { event_id: 'a', amount: 1 },
      { event_id: 'c', amount: 3 },
    ]);
  },
);

test(
  'a message that is not a JSON object fails the run naming STREAM:SEQ, and nothing is acknowledged',
  { skip },
  async (t) => {
    const stream = await applied(await streamRepo({ batch: '{ max_rows: 2, max_wait: 1s }' }));
    t.after(() => stream.close());
    await stream.publish([{ body: { event_id: 'a', amount: 1 } }]);
    await stream.publishRaw([new TextEncoder().encode('{"event_id": "b", amount')]);
    const { run } = await runOnce(stream.repo);
    assert.equal(run.status, 'failed');
    assert.match(
      run.error ?? '',
      new RegExp(
        `^task load_events: message ${stream.stream}:2 is not JSON \\(.+\\); publish it again corrected and delete this one from the stream, or fix \`format\` on the task \\(tasks/t\\.yaml\\)$`,
      ),
    );
    await assert.rejects(
      query(stream.repo, 'select count(*) from ops.events'),
      /has no published version yet/,
    );
  },
);

test(
  'format: protobuf decodes each message with the table message: timestamps, int64, unset optional fields',
  { skip },
  async (t) => {
    const proto = `syntax = "proto3";
package ops;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
message Event {
  string event_id = 1 [(tessera.field) = { primary_key: true }];
  google.protobuf.Timestamp happened_at = 2;
  int64 qty = 3;
  optional string note = 4;
  double amount = 5;
}
`;
    const stream = await applied(
      await streamRepo({
        schema: proto,
        extraSource: '  format: protobuf\n',
        mode: 'replace',
        batch: '{ max_rows: 2, max_wait: 1s }',
      }),
    );
    t.after(() => stream.close());
    const root = new protobuf.Root();
    protobuf.parse(
      proto.replace('import "tessera/options.proto";\n', '').replace(/ \[\(tessera[^\]]*\]/, ''),
      root,
      { keepCase: true },
    );
    const common = protobuf.common as unknown as Record<string, { nested: protobuf.INamespace['nested'] }>;
    root.addJSON(common['google/protobuf/timestamp.proto']!.nested!);
    root.resolveAll();
    const Event = root.lookupType('ops.Event');
    const encode = (value: Record<string, unknown>) => Event.encode(Event.fromObject(value)).finish();
    await stream.publishRaw([
      encode({
        event_id: 'a',
        happened_at: { seconds: 1_767_225_600, nanos: 250_000_000 },
        qty: '9007199254740993',
        note: 'first',
      }),
      encode({ event_id: 'b', happened_at: { seconds: 0 }, qty: 0, amount: 2.5 }),
    ]);
    const { run } = await runOnce(stream.repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.deepEqual(
      await query(
        stream.repo,
        "select event_id, strftime(happened_at, '%Y-%m-%dT%H:%M:%S.%g') as happened_at, qty::varchar as qty, note, amount from ops.events order by 1",
      ),
      [
        {
          event_id: 'a',
          happened_at: '2026-01-01T00:00:00.250',
          qty: '9007199254740993',
          note: 'first',
          amount: 0,
        },
        { event_id: 'b', happened_at: '1970-01-01T00:00:00.000', qty: '0', note: null, amount: 2.5 },
      ],
    );

    await stream.publishRaw([new TextEncoder().encode('{"event_id": "c"}')]);
    const failed = await runOnce(stream.repo);
    assert.equal(failed.run.status, 'failed');
    assert.match(
      failed.run.error ?? '',
      new RegExp(
        `^task load_events: message ${stream.stream}:3 is not a ops\\.Event message \\(.+\\); publish it again corrected`,
      ),
    );
  },
);
