import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../model/index.ts';
import { makePrivateDirectory, PRIVATE_FILE_MODE } from './private-files.ts';
import { describeS3Error, openS3Client } from './s3-client.ts';
import { LocalFileStorage } from './local-file-storage.ts';
import type { Storage } from './storage.ts';

/** Where `storage: s3://bucket/prefix` points; `undefined` when the url is not one. */
export function parseS3StorageUrl(url: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([^?#]*))?$/.exec(url);
  if (!match) return undefined;
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  if (prefix.split('/').some((part) => part === '.' || part === '..') || prefix.includes('//'))
    return undefined;
  if (prefix.startsWith('/')) return undefined;
  return { bucket: match[1]!, prefix };
}

/**
 * Table files in an S3 bucket under a prefix: `s3://bucket/prefix/<namespace>/<name>/<runId>/part-N.parquet`.
 *
 * A run stages locally (a private folder under `localRoot`, laid out like the keys); `commitFile`
 * uploads the file to its key, refusing to replace an object that exists (published objects are
 * immutable), and keeps the staged file as the local copy. The engine reads local files only:
 * `ensureLocal` downloads the objects a read needs into the same folder (a private temporary file
 * renamed into place, one download per key however many readers ask at once). The catalog's
 * version row is what publishes: an object no version references is invisible.
 */
export class S3FileStorage implements Storage {
  readonly url: string;
  readonly readableDirectories: string[];
  private readonly root: string;
  /** The local copies, laid out like the keys: staged files, and objects downloaded for reads. */
  private readonly cache: LocalFileStorage;
  private readonly client: S3Client;
  private readonly downloads = new Map<string, Promise<void>>();

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    localRoot: string,
    private readonly settings: S3Settings | undefined,
  ) {
    this.root = resolve(localRoot);
    this.cache = new LocalFileStorage(this.root);
    this.url = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.readableDirectories = [this.root];
    this.client = openS3Client(settings);
  }

  async createStagingFolder(table: string, runId: string): Promise<string> {
    return this.cache.createStagingFolder(table, runId);
  }

  async commitFile(localPath: string): Promise<string> {
    // The staged file becomes the local copy of its object: private, under the key it uploads to.
    const key = await this.cache.commitFile(localPath);
    const objectKey = this.objectKey(key);
    const exists = await this.send('check', key, () =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey })).then(
        () => true,
        (error: unknown) => {
          const name = (error as { name?: string }).name;
          if (name === 'NotFound' || name === 'NoSuchKey') return false;
          throw error;
        },
      ),
    );
    if (exists) {
      throw new Error(
        `cannot upload ${this.objectUri(key)}: the object already exists and published objects are never replaced`,
      );
    }
    const { size } = await stat(localPath);
    await this.send('upload', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: createReadStream(localPath),
          ContentLength: size,
        }),
      ),
    );
    return key;
  }

  localPath(key: string): string {
    return this.cache.localPath(key);
  }

  async ensureLocal(keys: string[]): Promise<void> {
    await Promise.all([...new Set(keys)].map((key) => this.download(key)));
  }

  async sizeOf(keys: string[]): Promise<number> {
    const sizes = await Promise.all(
      keys.map(async (key) => {
        const local = await stat(this.localPath(key)).catch(() => undefined);
        if (local) return local.size;
        const head = await this.send('read', key, () =>
          this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
        );
        return head.ContentLength ?? 0;
      }),
    );
    return sizes.reduce((total, size) => total + size, 0);
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.send('delete', key, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
      );
    }
    await this.cache.delete(keys);
  }

  async discardStaging(table: string, runId: string): Promise<void> {
    await this.cache.discardStaging(table, runId);
    // What a failed run uploaded before it failed is referenced by no version: remove it too.
    const runKey = [...table.split('.'), runId].join('/');
    const listPrefix = `${this.objectKey(runKey)}/`;
    let continuationToken: string | undefined;
    do {
      const page = await this.send('list', runKey, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: listPrefix,
            ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
          }),
        ),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: item.Key }));
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  /** Close the client's connections. */
  close(): void {
    this.client.destroy();
  }

  private download(key: string): Promise<void> {
    const running = this.downloads.get(key);
    if (running) return running;
    const done = this.fetchIfMissing(key).finally(() => this.downloads.delete(key));
    this.downloads.set(key, done);
    return done;
  }

  private async fetchIfMissing(key: string): Promise<void> {
    const path = this.localPath(key);
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return;
    const folder = dirname(path);
    const owned: string[] = [];
    for (let parent = dirname(folder); parent.startsWith(this.root); parent = dirname(parent))
      owned.unshift(parent);
    await makePrivateDirectory(folder, owned);
    const temporary = `${path}.download-${randomBytes(6).toString('hex')}`;
    try {
      await this.send('read', key, async () => {
        const response = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
        );
        if (!response.Body) throw new Error('the object has no body');
        await pipeline(response.Body as Readable, createWriteStream(temporary, { mode: PRIVATE_FILE_MODE }));
      });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  private async send<T>(action: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new Error(
        `cannot ${action} ${this.objectUri(key)}: ${describeS3Error(error, this.settings, `\`storage\` (${this.url})`)}`,
        { cause: error },
      );
    }
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private objectUri(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }
}
