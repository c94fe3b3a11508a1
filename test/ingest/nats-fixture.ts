// A catalog repo whose task reads a NATS JetStream stream of its own (unique names, so test files
// running at once never share one), and helpers to publish, run and read what was published.
import { randomBytes } from 'node:crypto';
import { connect, headers, nanos, type NatsConnection } from 'nats';
import { Platform } from '../../src/platform.ts';
import type { Run, RunLogLine } from '../../src/model/index.ts';
import { requireService, type ServiceAvailability } from '../support/services.ts';
import { writeRepo } from '../support/cli.ts';

export const NATS_URL = 'nats://127.0.0.1:4222';

export function natsAvailable(): Promise<ServiceAvailability> {
  return requireService('NATS JetStream at 127.0.0.1:4222', async () => {
    const connection = await connect({ servers: '127.0.0.1:4222', timeout: 2000 });
    try {
      await (await connection.jetstreamManager()).getAccountInfo();
    } finally {
      await connection.close();
    }
  });
}

export interface StreamRepo {
  repo: string;
  stream: string;
  subject: string;
  connection: NatsConnection;
  /** Publish JSON messages, each with its `Nats-Msg-Id` when `id` is given. */
  publish(messages: { id?: string; body: unknown }[]): Promise<void>;
  /** Publish raw payloads. */
  publishRaw(payloads: Uint8Array[]): Promise<void>;
  /** Messages the stream holds. */
  messageCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A repo with table `ops.events` (event_id primary key, amount double) and task `load_events`
 * reading a new stream. The stream's own duplicate window is 100 ms (its least), so a message id repeated later
 * reaches the stream and Tessera's de-duplication is what drops it.
 */
export async function streamRepo(
  options: {
    batch?: string;
    extraSource?: string;
    mode?: string;
    schema?: string;
    extraFiles?: Record<string, string>;
  } = {},
): Promise<StreamRepo> {
  const unique = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const stream = `TESSERA_TEST_${unique}`.toUpperCase();
  const subject = `tessera-test.${unique}.events`;
  const connection = await connect({ servers: '127.0.0.1:4222' });
  const manager = await connection.jetstreamManager();
  await manager.streams.add({ name: stream, subjects: [subject], duplicate_window: nanos(100) });
  const repo = await writeRepo({
    'tessera.yaml': 'name: streams\n',
    'owners/o.yaml': 'kind: owner\nname: ops\n',
    'schemas/s.proto':
      options.schema ??
      `syntax = "proto3";
package ops;
import "tessera/options.proto";
message Event {
  string event_id = 1 [(tessera.field) = { primary_key: true }];
  double amount = 2;
}
`,
    'tables/t.yaml': 'kind: table\nname: ops.events\nowner: ops\nschema: schemas/s.proto#ops.Event\n',
    'tasks/t.yaml': `kind: task
name: load_events
type: ingestion
target: ops.events
source:
  type: nats
  url: ${NATS_URL}
  stream: ${stream}
  subject: ${subject}
  batch: ${options.batch ?? '{ max_rows: 20000, max_wait: 1s }'}
${options.extraSource ?? ''}mode: ${options.mode ?? 'append'}
bad_rows: { action: quarantine }
`,
    ...options.extraFiles,
  });
  const jetstream = connection.jetstream();
  const inChunks = async <T>(items: T[], send: (item: T) => Promise<unknown>) => {
    for (let start = 0; start < items.length; start += 1000) {
      await Promise.all(items.slice(start, start + 1000).map(send));
    }
  };
  return {
    repo,
    stream,
    subject,
    connection,
    publish: (messages) =>
      inChunks(messages, (message) => {
        const data = new TextEncoder().encode(JSON.stringify(message.body));
        if (message.id === undefined) return jetstream.publish(subject, data);
        const header = headers();
        header.set('Nats-Msg-Id', message.id);
        return jetstream.publish(subject, data, { headers: header });
      }),
    publishRaw: (payloads) => inChunks(payloads, (payload) => jetstream.publish(subject, payload)),
    async messageCount() {
      return (await manager.streams.info(stream)).state.messages;
    },
    async close() {
      await manager.streams.delete(stream).catch(() => undefined);
      await connection.close();
    },
  };
}

/** One `tessera run load_events`, with the run's log lines. */
export async function runOnce(repo: string): Promise<{ run: Run; log: string[] }> {
  const log: string[] = [];
  const platform = await Platform.open({ repo });
  try {
    const [run] = await platform.run({ tasks: ['load_events'] }, (line: RunLogLine) =>
      log.push(line.message),
    );
    return { run: run!, log };
  } finally {
    await platform.close();
  }
}

/** Runs until one ends `skipped` (nothing new); every other run must succeed. */
export async function runUntilCaughtUp(repo: string): Promise<{ runs: Run[]; log: string[] }> {
  const runs: Run[] = [];
  const lines: string[] = [];
  for (;;) {
    const { run, log } = await runOnce(repo);
    runs.push(run);
    lines.push(...log);
    if (run.status === 'skipped') return { runs, log: lines };
    if (run.status !== 'succeeded') throw new Error(`run ${run.status}: ${run.error}\n${log.join('\n')}`);
    if (runs.length > 50) throw new Error('more than 50 runs without catching up');
  }
}

export async function query(repo: string, sql: string): Promise<Record<string, unknown>[]> {
  const platform = await Platform.open({ repo });
  try {
    return (await platform.query(sql)).rows;
  } finally {
    await platform.close();
  }
}

export async function applied(stream: StreamRepo): Promise<StreamRepo> {
  const platform = await Platform.open({ repo: stream.repo });
  try {
    await platform.apply();
  } finally {
    await platform.close();
  }
  return stream;
}
