/**
 * The readers of sources that are not local files, by what a task names: `source.type`, or `s3`
 * for a file-format source whose `uri` is `s3://…`. Each reader lives in its own file here.
 */
import type { S3Settings, TaskDef } from '../../model/index.ts';
import type { SourceReader } from './source-reader.ts';

export type { SourceReader, SourceReadRequest, StagedSource } from './source-reader.ts';

/** Registered readers; a source with none is read by the file pipeline directly. */
const READERS: Partial<Record<string, () => Promise<SourceReader>>> = {
  postgres: async () => (await import('./postgres-reader.ts')).readPostgresSource,
  mysql: async () => (await import('./mysql-reader.ts')).readMysqlSource,
  s3: async () => (await import('./s3-reader.ts')).readS3Source,
  nats: async () => (await import('./nats-reader.ts')).readNatsSource,
  kafka: async () => (await import('./kafka-reader.ts')).readKafkaSource,
  salesforce: async () => (await import('./salesforce-reader.ts')).readSalesforceSource,
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

/**
 * The objects an `s3://` source uri matches (as `s3://bucket/key`) and a fingerprint over their keys
 * and ETags, which changes when an object is added, replaced or removed (`on: source_change`).
 * Throws what S3 said, with what to check, when the bucket cannot be listed.
 */
export async function fingerprintObjectSource(
  settings: S3Settings | undefined,
  uri: string,
): Promise<{ objects: string[]; fingerprint: string }> {
  const { parseS3Uri } = await import('./s3-location.ts');
  const { describeS3Error, fingerprintObjects } = await import('./s3-objects.ts');
  const location = parseS3Uri(uri);
  if (!location)
    throw new Error(`\`${uri}\` must name a bucket and its objects, e.g. \`s3://bucket/prefix/*.csv\``);
  try {
    return await fingerprintObjects(settings, location);
  } catch (error) {
    throw new Error(describeS3Error(error, settings), { cause: error });
  }
}
