/**
 * The readers of sources that are not local files, by what a task names: `source.type`, or `s3`
 * for a file-format source whose `uri` is `s3://…`. Each reader lives in its own file here.
 */
import type { TaskDef } from '../../model/index.ts';
import type { SourceReader } from './source-reader.ts';

export type { SourceReader, SourceReadRequest, StagedSource } from './source-reader.ts';

/** Registered readers; a source with none is read by the file pipeline directly. */
const READERS: Partial<Record<string, () => Promise<SourceReader>>> = {
  postgres: async () => (await import('./postgres-reader.ts')).readPostgresSource,
  mysql: async () => (await import('./mysql-reader.ts')).readMysqlSource,
  nats: async () => (await import('./nats-reader.ts')).readNatsSource,
  kafka: async () => (await import('./kafka-reader.ts')).readKafkaSource,
};

/** The reader key of a task's source: `s3` for an `s3://` uri, else its type. */
export function sourceReaderKey(task: TaskDef): string | undefined {
  const source = task.source;
  if (!source) return undefined;
  if (source.uri?.startsWith('s3://')) return 's3';
  return source.type;
}

/** The reader for this task's source, or `undefined` when the file pipeline reads it as it is. */
export async function sourceReaderFor(task: TaskDef): Promise<SourceReader | undefined> {
  const key = sourceReaderKey(task);
  const load = key === undefined ? undefined : READERS[key];
  return load ? load() : undefined;
}
