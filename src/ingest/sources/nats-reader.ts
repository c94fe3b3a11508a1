/**
 * `type: nats`: a micro-batch from a JetStream stream through a durable pull consumer, at least
 * once, acknowledged only after the version is published. The catalog cursor (the last published
 * stream sequence and the message ids seen recently) is the truth: a consumer that holds messages
 * a run fetched but never acknowledged (the run died or was cancelled) is restarted at the
 * sequence after the cursor, so they come again in order, and a message whose sequence or id was
 * already published is skipped (acknowledged, never staged twice).
 */
import {
  AckPolicy,
  DeliverPolicy,
  connect,
  nanos,
  type ConsumerConfig,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { RunFailedError, TesseraError } from '../../diagnostics/errors.ts';
import type { TaskDef } from '../../model/index.ts';
import type { SourceReader, SourceReadRequest } from './source-reader.ts';
import { recordDecoderFor } from './stream-record-decoder.ts';
import {
  STREAM_POSITION_COLUMN,
  batchOf,
  consumerName,
  displayUrl,
  eventStreamOf,
  integerOption,
  stageMessages,
  stagedTask,
} from './stream-staging.ts';

/** How many recent message ids the cursor keeps to recognise a repeated `Nats-Msg-Id` (`options.dedupe_window`). */
export const DEFAULT_DEDUPE_WINDOW = 100_000;
/** Fetched and not acknowledged for this long, a message is redelivered (a run lasting longer sees it twice, and skips it). */
const ACK_WAIT_MS = 60 * 60 * 1000;

/** What a NATS task's cursor holds. */
export interface NatsCursor {
  stream: string;
  /** The last stream sequence read by a published run: every earlier message is in a version. */
  seq: number;
  /** `Nats-Msg-Id`s of the most recent published messages (oldest first), at most the dedupe window. */
  ids: string[];
}

export const readNatsSource: SourceReader = async (request) => {
  const { task, log } = request;
  const { url, stream = '', subject = '' } = eventStreamOf(task);
  const durable = consumerName(task);
  const batch = batchOf(task);
  const window = integerOption(task, 'dedupe_window', DEFAULT_DEDUPE_WINDOW);
  const decoder = await recordDecoderFor(task, request.schema, request.repoRoot);
  const previous = natsCursor(request.cursor, stream);
  const where = `stream ${stream} (${subject}) at ${displayUrl(url)}`;

  const connection = await connectTo(task, url);
  let fetched: JsMsg[] = [];
  const release = async (settle: (message: JsMsg) => void): Promise<void> => {
    for (const message of fetched) settle(message);
    fetched = [];
    await connection.flush();
    await connection.close();
  };
  try {
    const manager = await connection.jetstreamManager();
    await alignConsumer(manager, { task, stream, subject, durable, maxRows: batch.maxRows, previous, log });
    const consumer = await connection.jetstream().consumers.get(stream, durable);
    fetched = await fetchBatch(consumer, batch.maxRows, batch.maxWaitMs, request.signal);
    request.signal?.throwIfAborted();

    // Keep what is new: past the cursor, not repeated in this batch, not an id already published.
    const seenIds = new Set(previous?.ids ?? []);
    const seenSequences = new Set<number>();
    const kept: { position: number; payload: Uint8Array }[] = [];
    const newIds: string[] = [];
    let lastSequence = previous?.seq ?? 0;
    let repeats = 0;
    for (const message of fetched) {
      const sequence = message.seq;
      lastSequence = Math.max(lastSequence, sequence);
      if (sequence <= (previous?.seq ?? 0) || seenSequences.has(sequence)) {
        repeats++;
        continue;
      }
      seenSequences.add(sequence);
      const id = message.headers?.get('Nats-Msg-Id') || undefined;
      if (id !== undefined) {
        if (seenIds.has(id)) {
          repeats++;
          continue;
        }
        seenIds.add(id);
        newIds.push(id);
      }
      kept.push({ position: sequence, payload: message.data });
    }
    log(
      `read ${fetched.length} message(s) from ${where} with consumer ${durable}` +
        (repeats > 0 ? `; ${repeats} already published (same sequence or Nats-Msg-Id) are skipped` : ''),
    );
    if (kept.length === 0) {
      // Repeats only: they are in published versions already, so acknowledging them loses nothing.
      await release((message) => message.ack());
      return {
        task,
        nothingNew:
          fetched.length === 0
            ? `nothing new: no message on ${where} after sequence ${previous?.seq ?? 0} within ${batch.maxWaitMs} ms`
            : `nothing new: the ${fetched.length} message(s) read from ${where} were all published before`,
      };
    }
    const file = await stageMessages({
      task,
      stagingFolder: request.stagingFolder,
      fileName: 'messages.ndjson',
      label: stream,
      messages: kept,
      decoder,
    });
    const cursor: NatsCursor = {
      stream,
      seq: lastSequence,
      ids: window === 0 ? [] : [...(previous?.ids ?? []), ...newIds].slice(-window),
    };
    return {
      task: stagedTask(task, file),
      positions: { column: STREAM_POSITION_COLUMN, fileLabels: { [file]: stream } },
      cursor,
      afterPublish: () => release((message) => message.ack()),
      // Redelivered at once to the next run (which also restarts the consumer at the cursor).
      abandon: () => release((message) => message.nak()),
    };
  } catch (error) {
    await release((message) => message.nak()).catch(() => undefined);
    if (error instanceof TesseraError || request.signal?.aborted) throw error;
    throw new RunFailedError(
      `task ${task.name}: reading ${where} failed: ${error instanceof Error ? error.message : String(error)}`,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
};

/** The cursor of a previous run of this stream, or undefined (first run, `--full-refresh`, another stream). */
function natsCursor(cursor: unknown, stream: string): NatsCursor | undefined {
  const value = cursor as Partial<NatsCursor> | undefined;
  if (!value || value.stream !== stream || typeof value.seq !== 'number') return undefined;
  return { stream, seq: value.seq, ids: Array.isArray(value.ids) ? value.ids : [] };
}

async function connectTo(task: TaskDef, url: string): Promise<NatsConnection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RunFailedError(
      `task ${task.name}: source url ${displayUrl(url)} is not a URL; write it as nats://host:4222 (${task.at.file})`,
      { task: task.name, table: task.target },
    );
  }
  const credentials = parsed.username
    ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
    : {};
  try {
    return await connect({
      servers: `${parsed.hostname}:${parsed.port || 4222}`,
      name: `tessera ${task.name}`,
      ...credentials,
    });
  } catch (error) {
    throw new RunFailedError(
      `task ${task.name}: cannot connect to NATS at ${displayUrl(url)}: ${error instanceof Error ? error.message : String(error)}; check that the server runs and the source's \`url\` (${task.at.file})`,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
}

/**
 * Makes the durable consumer deliver, in order, what follows the cursor. It is kept when nothing
 * it delivered waits for an acknowledgement; otherwise (a run died or was cancelled holding
 * messages) it is created again starting after the cursor.
 */
async function alignConsumer(
  manager: JetStreamManager,
  input: {
    task: TaskDef;
    stream: string;
    subject: string;
    durable: string;
    maxRows: number;
    previous: NatsCursor | undefined;
    log: SourceReadRequest['log'];
  },
): Promise<void> {
  const { task, stream, subject, durable, previous } = input;
  try {
    await manager.streams.info(stream);
  } catch (error) {
    if (!/stream not found/i.test(String(error))) throw error;
    throw new RunFailedError(
      `task ${task.name}: JetStream has no stream ${stream}; create it (nats stream add ${stream} --subjects '${subject}') or fix the source's \`stream\` (${task.at.file})`,
      { task: task.name, table: task.target },
    );
  }
  const info = await manager.consumers.info(stream, durable).catch((error: unknown) => {
    if (/consumer not found/i.test(String(error))) return undefined;
    throw error;
  });
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    filter_subject: subject,
    max_ack_pending: Math.max(input.maxRows, 1000),
  };
  const start = (previous?.seq ?? 0) + 1;
  const aligned =
    info !== undefined &&
    info.config.filter_subject === subject &&
    info.num_ack_pending === 0 &&
    info.num_redelivered === 0 &&
    (previous !== undefined || info.delivered.stream_seq === 0);
  if (aligned) {
    if (info.config.max_ack_pending !== config.max_ack_pending || info.config.ack_wait !== config.ack_wait) {
      await manager.consumers.update(stream, durable, {
        max_ack_pending: config.max_ack_pending!,
        ack_wait: config.ack_wait!,
      });
    }
    return;
  }
  if (info) {
    input.log(
      `consumer ${durable} restarts at sequence ${start}: ` +
        (info.num_ack_pending > 0
          ? `${info.num_ack_pending} message(s) it delivered were never acknowledged (a run stopped before acknowledging them)`
          : 'its position does not follow the cursor of the last published version'),
    );
    await manager.consumers.delete(stream, durable);
  }
  await manager.consumers.add(stream, {
    ...config,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start,
  });
}

/** Up to `maxRows` messages, for at most `maxWaitMs` (stopped early when the run is aborted). */
async function fetchBatch(
  consumer: Awaited<ReturnType<ReturnType<NatsConnection['jetstream']>['consumers']['get']>>,
  maxRows: number,
  maxWaitMs: number,
  signal: AbortSignal | undefined,
): Promise<JsMsg[]> {
  const messages: JsMsg[] = [];
  const deadline = Date.now() + maxWaitMs;
  while (messages.length < maxRows && Date.now() < deadline && !signal?.aborted) {
    const remaining = deadline - Date.now();
    const iterator = await consumer.fetch({
      max_messages: maxRows - messages.length,
      // The client's shortest pull; the timer below ends the fetch at the deadline.
      expires: Math.max(1000, remaining),
    });
    const stop = () => iterator.stop();
    const timer = setTimeout(stop, remaining);
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const message of iterator) {
        messages.push(message);
        if (messages.length >= maxRows) iterator.stop();
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }
  return messages;
}

/**
 * Delete the task's durable consumer (a sample's own, made for one read): the messages it was
 * handed and released stay in the stream for every other consumer. Missing already is fine.
 */
export async function dropNatsConsumer(task: TaskDef): Promise<void> {
  const { url, stream = '' } = eventStreamOf(task);
  const connection = await connectTo(task, url);
  try {
    const manager = await connection.jetstreamManager();
    await manager.consumers.delete(stream, consumerName(task)).catch((error: unknown) => {
      if (!/consumer not found/i.test(String(error))) throw error;
    });
  } finally {
    await connection.close();
  }
}
