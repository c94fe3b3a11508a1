/**
 * `type: kafka`: a micro-batch from a topic through a consumer group (kafkajs), offsets committed
 * only after the version is published. The catalog cursor holds each partition's next offset and
 * the consumer seeks there first, so a run that died between publication and commit reads nothing
 * twice, and one that died before publication reads its messages again.
 */
import { Kafka, logLevel, type Consumer, type KafkaConfig } from 'kafkajs';
import { RunFailedError, TesseraError } from '../../diagnostics/errors.ts';
import type { SourceReader } from './source-reader.ts';
import { kafkaConsumerPlan, kafkaCursor, type KafkaCursor } from './kafka-consumer-plan.ts';
import { recordDecoderFor } from './stream-record-decoder.ts';
import {
  STREAM_POSITION_COLUMN,
  displayUrl,
  eventStreamOf,
  stageMessages,
  stagedTask,
  type StreamMessage,
} from './stream-staging.ts';

export const readKafkaSource: SourceReader = async (request) => {
  const { task, log } = request;
  const plan = kafkaConsumerPlan(task, request.cursor);
  const topic = plan.subscription.topic;
  const where = `topic ${topic} at ${displayUrl(eventStreamOf(task).url)}`;
  const decoder = await recordDecoderFor(task, request.schema, request.repoRoot);
  const previous = kafkaCursor(request.cursor, topic);

  // The plan's SASL union is the one kafkajs takes, spelled per mechanism there.
  const kafka = new Kafka({ ...plan.client, logLevel: logLevel.NOTHING } as KafkaConfig);
  const consumer: Consumer = kafka.consumer(plan.consumer);
  const byPartition = new Map<number, StreamMessage[]>();
  const next = new Map<number, bigint>(
    Object.entries(previous?.offsets ?? {}).map(([partition, offset]) => [Number(partition), BigInt(offset)]),
  );
  let count = 0;
  let tombstones = 0;
  // Set when the batch is complete: what the consumer still hands over belongs to the next run.
  let closed = false;
  try {
    await consumer.connect();
    await consumer.subscribe(plan.subscription);
    await new Promise<void>((resolve, reject) => {
      const finish = () => {
        closed = true;
        clearTimeout(timer);
        consumer.pause([{ topic }]);
        resolve();
      };
      const timer = setTimeout(finish, plan.batch.maxWaitMs);
      request.signal?.addEventListener('abort', finish, { once: true });
      consumer
        .run({
          ...plan.run,
          eachMessage: async ({ partition, message }) => {
            if (closed) return;
            const offset = BigInt(message.offset);
            // Below the cursor: published by an earlier run that died before committing.
            if (offset < (next.get(partition) ?? 0n)) return;
            next.set(partition, offset + 1n);
            if (message.value === null) {
              tombstones++;
              return;
            }
            const messages = byPartition.get(partition) ?? [];
            messages.push({ position: Number(offset), payload: message.value });
            byPartition.set(partition, messages);
            if (++count >= plan.batch.maxRows) finish();
          },
        })
        .catch(reject);
      for (const seek of plan.seeks) consumer.seek(seek);
    });
    request.signal?.throwIfAborted();
    log(
      `read ${count} message(s) from ${where} with consumer group ${plan.consumer.groupId}` +
        (tombstones > 0 ? `; ${tombstones} without a value (tombstones) are skipped` : ''),
    );
    const cursor: KafkaCursor = {
      topic,
      offsets: Object.fromEntries(
        [...next].map(([partition, offset]) => [String(partition), String(offset)]),
      ),
    };
    const commit = async () => {
      await consumer.commitOffsets(
        Object.entries(cursor.offsets).map(([partition, offset]) => ({
          topic,
          partition: Number(partition),
          offset,
        })),
      );
      await consumer.disconnect();
    };
    if (count === 0) {
      await commit();
      return { task, nothingNew: `nothing new: no message on ${where} within ${plan.batch.maxWaitMs} ms` };
    }
    const fileLabels: Record<string, string> = {};
    for (const [partition, messages] of byPartition) {
      const file = await stageMessages({
        task,
        stagingFolder: request.stagingFolder,
        fileName: `partition-${partition}.ndjson`,
        label: `${topic}/${partition}`,
        messages,
        decoder,
      });
      fileLabels[file] = `${topic}/${partition}`;
    }
    const folder = Object.keys(fileLabels)[0]!.replace(/[^/]+$/, '');
    return {
      task: stagedTask(task, `${folder}*.ndjson`),
      positions: { column: STREAM_POSITION_COLUMN, fileLabels },
      cursor,
      afterPublish: commit,
      abandon: () => consumer.disconnect(),
    };
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    if (error instanceof TesseraError || request.signal?.aborted) throw error;
    throw new RunFailedError(
      `task ${task.name}: reading ${where} failed: ${error instanceof Error ? error.message : String(error)}; check that the brokers run and the source's \`url\` and \`topic\` (${task.at.file})`,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
};
