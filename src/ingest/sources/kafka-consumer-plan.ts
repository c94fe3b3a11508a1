/**
 * How a `type: kafka` task becomes a kafkajs client and consumer: pure, so the mapping is tested
 * without a broker. `url` is `kafka://broker:9092,broker2:9092` (`kafka+ssl://` for TLS; a
 * `user:password@` is SASL, `options.sasl_mechanism` plain by default or scram-sha-256/512).
 */
import { RunFailedError } from '../../diagnostics/errors.ts';
import type { StreamBatchDef, TaskDef } from '../../model/index.ts';
import { batchOf, consumerName, displayUrl, eventStreamOf } from './stream-staging.ts';

const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** What a Kafka task's cursor holds: the next offset to read in each partition of the topic. */
export interface KafkaCursor {
  topic: string;
  /** Partition → the offset after the last one published (what `commitOffsets` commits). */
  offsets: Record<string, string>;
}

export interface KafkaConsumerPlan {
  /** `new Kafka(client)`. */
  client: {
    clientId: string;
    brokers: string[];
    ssl: boolean;
    sasl?: { mechanism: SaslMechanism; username: string; password: string };
  };
  /** `kafka.consumer(consumer)`: the group is the task's `consumer`, else `tessera-<task>`. */
  consumer: { groupId: string; allowAutoTopicCreation: false };
  /** `consumer.subscribe(subscription)`: a new group reads the topic from its beginning. */
  subscription: { topic: string; fromBeginning: true };
  /** `consumer.run(run)`: offsets are committed only after publication, never automatically. */
  run: { autoCommit: false };
  /**
   * Partitions to `seek` to before reading: the cursor's offsets, so what a run published but did
   * not commit (it died in between) is not read again. Others start at the group's committed offset.
   */
  seeks: { topic: string; partition: number; offset: string }[];
  batch: StreamBatchDef;
}

export function kafkaConsumerPlan(task: TaskDef, cursor: unknown): KafkaConsumerPlan {
  const source = task.source!;
  const { url, topic = '' } = eventStreamOf(task);
  const problem = (message: string) =>
    new RunFailedError(`task ${task.name}: ${message} (${task.at.file})`, {
      task: task.name,
      table: task.target,
    });
  const match = /^(kafka|kafka\+ssl):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/?$/.exec(url);
  if (!match) {
    throw problem(
      `source url ${displayUrl(url)} is not a Kafka address; write it as kafka://broker:9092,broker2:9092 (kafka+ssl:// for TLS)`,
    );
  }
  const [, scheme, user, password, hosts] = match;
  const brokers = hosts!.split(',').map((host) => (host.includes(':') ? host : `${host}:9092`));
  const mechanism = source.options.sasl_mechanism ?? 'plain';
  if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
    throw problem(
      `source option \`sasl_mechanism\` must be one of ${SASL_MECHANISMS.join(', ')}, got ${JSON.stringify(mechanism)}`,
    );
  }
  const previous = kafkaCursor(cursor, topic);
  return {
    client: {
      clientId: `tessera-${task.name}`,
      brokers,
      ssl: scheme === 'kafka+ssl',
      ...(user
        ? {
            sasl: {
              mechanism: mechanism as SaslMechanism,
              username: decodeURIComponent(user),
              password: decodeURIComponent(password ?? ''),
            },
          }
        : {}),
    },
    consumer: { groupId: consumerName(task), allowAutoTopicCreation: false },
    subscription: { topic, fromBeginning: true },
    run: { autoCommit: false },
    seeks: Object.entries(previous?.offsets ?? {}).map(([partition, offset]) => ({
      topic,
      partition: Number(partition),
      offset,
    })),
    batch: batchOf(task),
  };
}

/** The cursor of a previous run on this topic, or undefined (first run, `--full-refresh`, another topic). */
export function kafkaCursor(cursor: unknown, topic: string): KafkaCursor | undefined {
  const value = cursor as Partial<KafkaCursor> | undefined;
  if (!value || value.topic !== topic || typeof value.offsets !== 'object' || value.offsets === null) {
    return undefined;
  }
  return { topic, offsets: { ...value.offsets } };
}
