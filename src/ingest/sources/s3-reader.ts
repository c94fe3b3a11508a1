/**
 * `uri: s3://bucket/prefix/*.csv` (csv, json, ndjson, parquet): list the keys the uri matches,
 * download them into the run's staging folder and hand them to the file pipeline, which names each
 * bad row by its object (`s3://bucket/key:line`).
 *
 * The cursor is every object read, key → ETag. With `mode: append` a run reads only the objects not
 * in it; one whose ETag differs from the one read fails the run (appending it again would duplicate
 * its rows, and its old rows cannot be taken back): `merge` and `replace` take changes. Without a
 * cursor (the first run, or after `tessera run --full-refresh`) every matching object is read, and
 * an append task's version then replaces the table's rows with them, so a full refresh never
 * appends everything a second time. `replace` and `merge` always read every matching object.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { RunFailedError } from '../../diagnostics/errors.ts';
import type { TaskDef } from '../../model/index.ts';
import { PRIVATE_DIRECTORY_MODE } from '../../storage/index.ts';
import { objectUri, parseS3Uri, type S3Location } from './s3-location.ts';
import {
  describeS3Error,
  downloadObject,
  listMatchingObjects,
  openS3Client,
  type ListedObject,
} from './s3-objects.ts';
import type { SourceReader, SourceReadRequest, StagedSource } from './source-reader.ts';

/** What an S3 source's cursor holds: the bucket and every object read so far, key → ETag. */
export interface S3Cursor {
  bucket: string;
  objects: Record<string, string>;
}

export const readS3Source: SourceReader = async (request) => {
  const { task, project, log } = request;
  const context = { task: task.name, table: task.target };
  const uri = task.source?.uri ?? '';
  const location = parseS3Uri(uri);
  if (!location || !task.source) {
    throw new RunFailedError(
      `task ${task.name}: source uri \`${uri}\` must name a bucket and its objects, e.g. \`s3://bucket/prefix/*.csv\``,
      context,
    );
  }
  const client = openS3Client(project.s3);
  try {
    let listed: ListedObject[];
    try {
      listed = await listMatchingObjects(client, location, request.signal);
    } catch (error) {
      request.signal?.throwIfAborted();
      throw new RunFailedError(
        `task ${task.name}: cannot list ${objectUri(location.bucket, location.listPrefix)}: ${describeS3Error(error, project.s3)}`,
        context,
        { cause: error },
      );
    }
    const previous = previousObjects(request.cursor, location.bucket);
    const incremental = task.mode === 'append' && previous !== undefined;
    if (!incremental && listed.length === 0) throw noMatch(task, location);

    let toRead = listed;
    if (incremental) {
      const changed = listed.filter(
        (object) => previous[object.key] !== undefined && previous[object.key] !== object.etag,
      );
      if (changed.length > 0) throw changedAfterRead(task, location.bucket, changed, previous);
      toRead = listed.filter((object) => previous[object.key] === undefined);
      const readBefore = Object.keys(previous).length;
      if (toRead.length === 0) {
        return {
          task,
          nothingNew: `nothing new: no object matching ${uri} is new since the last run (${plural(readBefore, 'object')} read before)`,
        };
      }
      log(`${matching(listed.length, uri)}; reading the ${toRead.length} new (${readBefore} read before)`);
    } else {
      log(`${matching(listed.length, uri)}; reading all of them`);
      if (task.mode === 'append') {
        log(
          'no cursor (the first run, or --full-refresh): the version holds every object read, replacing the rows appended before',
        );
      }
    }

    const folder = join(request.stagingFolder, 'source');
    await mkdir(folder, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    const format = task.source.type;
    const width = Math.max(6, String(toRead.length).length);
    const fileLabels: Record<string, string> = {};
    const read: Record<string, string> = {};
    let bytes = 0;
    for (const [index, object] of toRead.entries()) {
      const file = join(folder, `${String(index + 1).padStart(width, '0')}.${format}`);
      read[object.key] = await download(client, task, location, object, file, request);
      fileLabels[file] = objectUri(location.bucket, object.key);
      bytes += object.size;
    }
    log(`downloaded ${plural(toRead.length, 'object')} (${bytes} bytes) from s3://${location.bucket}`);

    const cursor: S3Cursor = {
      bucket: location.bucket,
      objects: incremental ? { ...previous, ...read } : read,
    };
    const staged: StagedSource = {
      task: {
        ...task,
        // Without a cursor an append reads everything: replacing keeps each object's rows once.
        mode: task.mode === 'append' && !incremental ? 'replace' : task.mode,
        source: { ...task.source, uri: join(folder, `*.${format}`) },
      },
      cursor,
      fileLabels,
    };
    return staged;
  } finally {
    client.destroy();
  }
};

/** Download one listed object; the ETag returned is the one of what was read. */
async function download(
  client: S3Client,
  task: TaskDef,
  location: S3Location,
  object: ListedObject,
  file: string,
  request: SourceReadRequest,
): Promise<string> {
  try {
    return await downloadObject(client, location.bucket, object.key, file, request.signal);
  } catch (error) {
    request.signal?.throwIfAborted();
    throw new RunFailedError(
      `task ${task.name}: cannot read ${objectUri(location.bucket, object.key)}: ${describeS3Error(error, request.project.s3)}`,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
}

/** The objects read before from this bucket; `undefined` without a usable cursor. */
function previousObjects(cursor: unknown, bucket: string): Record<string, string> | undefined {
  if (cursor === null || typeof cursor !== 'object') return undefined;
  const { bucket: readFrom, objects } = cursor as Partial<S3Cursor>;
  if (readFrom !== bucket || objects === null || typeof objects !== 'object') return undefined;
  return objects;
}

function noMatch(task: TaskDef, location: S3Location): RunFailedError {
  const listedAt = objectUri(location.bucket, location.listPrefix);
  const hint = location.isGlob
    ? ''
    : `; to read the objects under it, use a glob such as \`${location.uri.replace(/\/$/, '')}/*.${task.source?.type ?? 'csv'}\``;
  return new RunFailedError(
    `task ${task.name}: no object matches source uri \`${location.uri}\` (listed ${listedAt})${hint}`,
    { task: task.name, table: task.target },
  );
}

function changedAfterRead(
  task: TaskDef,
  bucket: string,
  changed: ListedObject[],
  previous: Record<string, string>,
): RunFailedError {
  const named = changed
    .slice(0, 3)
    .map(
      (object) =>
        `${objectUri(bucket, object.key)} (ETag ${previous[object.key]} when read, ${object.etag} now)`,
    )
    .join(', ');
  const more = changed.length > 3 ? ` and ${changed.length - 3} more` : '';
  const verb = changed.length === 1 ? 'changed after it was' : 'changed after they were';
  return new RunFailedError(
    `task ${task.name}: ${named}${more} ${verb} read; mode: append reads each object once and cannot take back the rows it appended. ` +
      `To take changes, set mode: merge (upsert on the primary key) or mode: replace on task ${task.name} (${task.at.file}); ` +
      `to read every object again into a fresh version, run \`tessera run ${task.name} --full-refresh\``,
    { task: task.name, table: task.target },
  );
}

/** `1 object matches s3://…`, `2 objects match s3://…`. */
function matching(count: number, uri: string): string {
  return `${plural(count, 'object')} ${count === 1 ? 'matches' : 'match'} ${uri}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
