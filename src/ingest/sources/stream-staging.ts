/**
 * What the event-stream readers (nats, kafka) share: the micro-batch and consumer settings of a
 * task, and staging messages as NDJSON records that carry their stream position.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailedError } from '../../diagnostics/errors.ts';
import type { EventStreamSourceDef, SourceDef, StreamBatchDef, TaskDef } from '../../model/index.ts';
import { PRIVATE_DIRECTORY_MODE } from '../../storage/index.ts';
import type { RecordDecoder } from './stream-record-decoder.ts';

/** The column each staged record's stream position is written to (it feeds no field). */
export const STREAM_POSITION_COLUMN = '__tessera_stream_position';

/** One run reads at most this many messages, waiting at most this long, unless `batch` says otherwise. */
export const DEFAULT_BATCH: StreamBatchDef = { maxRows: 10_000, maxWaitMs: 5_000 };

/** Source options the stream readers understand themselves (the rest go to the NDJSON conform). */
export const STREAM_OPTIONS = ['dedupe_window'];

/** A nats or kafka task's stream settings (the loader refuses such a task without a `url`). */
export function eventStreamOf(task: TaskDef): EventStreamSourceDef {
  const settings = task.source?.eventStream;
  if (!settings)
    throw new Error(`task ${task.name}: a ${task.source?.type} source without its stream settings`);
  return settings;
}

/** The durable consumer (NATS) or consumer group (Kafka) of a task: `consumer`, else `tessera-<task>`. */
export function consumerName(task: TaskDef): string {
  return eventStreamOf(task).consumer ?? `tessera-${task.name}`;
}

export function batchOf(task: TaskDef): StreamBatchDef {
  return eventStreamOf(task).batch ?? DEFAULT_BATCH;
}

/** A server URL without its password, for messages and logs. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** One message read from a stream, as the reader stages it. */
export interface StreamMessage {
  /** Its position: a NATS stream sequence, a Kafka offset. */
  position: number;
  payload: Uint8Array;
}

/**
 * Writes messages as NDJSON records (one file) under the staging folder, each with its position in
 * `STREAM_POSITION_COLUMN`; returns the file. A message that does not decode to an object fails the
 * run naming `label:position`.
 */
export async function stageMessages(input: {
  task: TaskDef;
  stagingFolder: string;
  fileName: string;
  label: string;
  messages: StreamMessage[];
  decoder: RecordDecoder;
}): Promise<string> {
  const { task, messages, decoder, label } = input;
  const lines: string[] = [];
  for (const message of messages) {
    const record = decoder.decode(message.payload);
    if (typeof record === 'string') {
      throw new RunFailedError(
        `task ${task.name}: message ${label}:${message.position} ${record}; ` +
          `publish it again corrected and delete this one from the stream, or fix \`format\` on the task (${task.at.file})`,
        { task: task.name, table: task.target },
      );
    }
    record[STREAM_POSITION_COLUMN] = message.position;
    lines.push(JSON.stringify(record));
  }
  const folder = join(input.stagingFolder, 'source');
  await mkdir(folder, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const file = join(folder, input.fileName);
  await writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  return file;
}

/** The task as the file pipeline reads the staged NDJSON files (the stream's own options left out). */
export function stagedTask(task: TaskDef, uri: string): TaskDef {
  const source = task.source as SourceDef;
  const options = Object.fromEntries(
    Object.entries(source.options).filter(([name]) => !STREAM_OPTIONS.includes(name)),
  );
  return { ...task, source: { type: 'ndjson', uri, options, columns: source.columns } };
}

/** A positive integer source option, or its default; anything else fails the run naming it. */
export function integerOption(task: TaskDef, name: string, fallback: number): number {
  const value = task.source?.options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RunFailedError(
      `task ${task.name}: source option \`${name}\` must be a whole number of zero or more, got ${JSON.stringify(value)} (${task.at.file})`,
      { task: task.name, table: task.target },
    );
  }
  return value;
}
