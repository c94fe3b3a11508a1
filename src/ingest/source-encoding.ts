import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RunFailedError } from '../diagnostics/errors.ts';
import { SOURCE_ENCODINGS, type SourceEncoding, type TaskDef } from '../model/index.ts';

/** Bytes looked at to tell text from UTF-16 or binary data. */
const SNIFFED_BYTES = 64 * 1024;
const PRIVATE_FILE_MODE = 0o600;

/** Text files as the engine reads them: UTF-8, converted copies standing in for other encodings. */
export interface ReadableSourceFiles {
  /** The files to read, in the order given (a converted copy in place of its original). */
  files: string[];
  /** How messages name each file to read: the original's label, never a converted copy's path. */
  labels: Map<string, string>;
  /** One line per converted file, for the run log. */
  log: string[];
  /** Delete the converted copies. */
  cleanup(): Promise<void>;
}

/**
 * Makes a text source readable as UTF-8. UTF-8 files are checked, not copied: one that is UTF-16
 * (a byte-order mark, or NUL bytes every other byte), a Parquet file or other binary data fails
 * the run naming the file and the fix. Other encodings are converted in one streaming pass into
 * `stagingFolder` (DuckDB 1.5's `read_csv` reads UTF-16 only little-endian — a big-endian file
 * reads as no rows — has no windows-1252 without the encodings extension, and `read_json` takes
 * no encoding at all). UTF-16 follows its byte-order mark, else the NUL bytes' positions, else
 * little-endian. latin-1 is ISO-8859-1 byte for byte; windows-1252 as the WHATWG Encoding
 * Standard defines it (what TextDecoder implements).
 */
export async function readableSourceFiles(
  task: TaskDef,
  encoding: SourceEncoding,
  files: string[],
  labels: ReadonlyMap<string, string>,
  copies: { stagingFolder: string; rawCopies: boolean },
): Promise<ReadableSourceFiles> {
  const context = { task: task.name, table: task.target };
  const label = (file: string) => labels.get(file) ?? file;
  if (encoding === 'utf-8') {
    for (const file of files) {
      const problem = notUtf8Text(await firstBytes(file));
      if (problem) throw new RunFailedError(`task ${task.name}: ${label(file)} ${problem}`, context);
    }
    return { files, labels: new Map(labels), log: [], cleanup: async () => {} };
  }
  if (!copies.rawCopies) {
    throw new RunFailedError(
      `task ${task.name}: ${label(files[0]!)} is ${encoding} text, read through a UTF-8 copy on disk, but ${task.target} is stored de-identified and its raw values are never written to disk; convert the source to UTF-8 first (e.g. \`iconv -f ${encoding === 'latin-1' ? 'iso-8859-1' : encoding} -t utf-8\`) and drop \`encoding\` from the task's source options`,
      context,
    );
  }
  const converted: string[] = [];
  const readable = new Map<string, string>();
  const log: string[] = [];
  const cleanup = async () => {
    await Promise.all(converted.map((file) => rm(file, { force: true })));
  };
  try {
    for (const [index, file] of files.entries()) {
      const head = await firstBytes(file);
      if (encoding !== 'utf-16' && binaryOffset(head) !== undefined) {
        throw new RunFailedError(
          `task ${task.name}: ${label(file)} is not ${encoding} text: ${notTextReason(head)}`,
          context,
        );
      }
      if (
        encoding.startsWith('utf-16') &&
        !hasUtf16Mark(head) &&
        head.length > 0 &&
        binaryOffset(head) === undefined
      ) {
        throw new RunFailedError(
          `task ${task.name}: ${label(file)} does not look like UTF-16 text (no byte-order mark, and none of the NUL bytes UTF-16 gives ASCII characters); if it is UTF-8, remove \`encoding\` from the task's source options`,
          context,
        );
      }
      const decoder = decoderFor(encoding, head);
      const copy = join(copies.stagingFolder, `__tessera_utf8_${index}${extname(file)}`);
      converted.push(copy);
      try {
        await pipeline(
          createReadStream(file),
          decodingTransform(decoder),
          createWriteStream(copy, { mode: PRIVATE_FILE_MODE }),
        );
      } catch (error) {
        throw new RunFailedError(
          `task ${task.name}: ${label(file)} is not valid ${decoder.name} text (${error instanceof Error ? error.message : String(error)}); check \`options.encoding\` of the task's source`,
          context,
          { cause: error },
        );
      }
      readable.set(copy, label(file));
      log.push(`${label(file)}: read as ${decoder.name}, converted to UTF-8`);
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { files: converted, labels: readable, log, cleanup };
}

/** What `options.encoding` may say, for messages. */
export const ACCEPTED_ENCODINGS = SOURCE_ENCODINGS.join(', ');

interface Decoder {
  /** The encoding as logged: `UTF-16LE`, `latin-1`, … */
  name: string;
  decode(chunk: Buffer, final: boolean): string;
}

function decoderFor(encoding: Exclude<SourceEncoding, 'utf-8'>, head: Buffer): Decoder {
  if (encoding === 'latin-1') {
    return { name: 'latin-1', decode: (chunk) => chunk.toString('latin1') };
  }
  const label =
    encoding === 'windows-1252' ? 'windows-1252' : encoding === 'utf-16' ? utf16ByteOrder(head) : encoding;
  const decoder = new TextDecoder(label, { fatal: true });
  const names: Record<string, string> = {
    'utf-16le': 'UTF-16LE',
    'utf-16be': 'UTF-16BE',
    'windows-1252': 'windows-1252',
  };
  return {
    name: names[label] ?? label,
    decode: (chunk, final) => decoder.decode(chunk, { stream: !final }),
  };
}

function hasUtf16Mark(head: Buffer): boolean {
  return (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
}

/** A byte-order mark decides; without one, where ASCII's NUL bytes fall; else little-endian. */
function utf16ByteOrder(head: Buffer): 'utf-16le' | 'utf-16be' {
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  const { even, odd } = nulParity(head);
  return even > odd ? 'utf-16be' : 'utf-16le';
}

function decodingTransform(decoder: Decoder): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        callback(null, decoder.decode(chunk, false));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        callback(null, decoder.decode(Buffer.alloc(0), true));
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

async function firstBytes(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFFED_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFFED_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Why a file read as UTF-8 is not: completes "data/x.csv …"; undefined when it may well be text. */
function notUtf8Text(head: Buffer): string | undefined {
  const fix = "set `options: { encoding: utf-16 }` on the task's source";
  if (hasUtf16Mark(head)) {
    return `is UTF-16 text (it starts with a UTF-16 byte-order mark), but the source is read as UTF-8; ${fix}`;
  }
  if (binaryOffset(head) === undefined) return undefined;
  if (looksLikeUtf16(head)) {
    return `looks like UTF-16 text without a byte-order mark (every other byte is NUL), but the source is read as UTF-8; ${fix}`;
  }
  return `is not a text file: ${notTextReason(head)}`;
}

/** Why a file is not text: a Parquet file, or a NUL byte; with what to do about it. */
function notTextReason(head: Buffer): string {
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') {
    return "it is a Parquet file; set `type: parquet` on the task's source";
  }
  return `it holds a NUL byte at offset ${binaryOffset(head)}, as binary data does; check the source's uri, or set \`options.encoding\` (${ACCEPTED_ENCODINGS})`;
}

function binaryOffset(head: Buffer): number | undefined {
  const offset = head.indexOf(0);
  return offset === -1 ? undefined : offset;
}

function nulParity(head: Buffer): { even: number; odd: number } {
  let even = 0;
  let odd = 0;
  for (let index = 0; index < head.length; index++) {
    if (head[index] === 0) {
      if (index % 2 === 0) even++;
      else odd++;
    }
  }
  return { even, odd };
}

/** Mostly ASCII in UTF-16: NUL bytes at least every fourth byte, nearly all on one parity. */
function looksLikeUtf16(head: Buffer): boolean {
  const { even, odd } = nulParity(head);
  const pairs = Math.floor(head.length / 2);
  if (pairs === 0) return false;
  const [more, fewer] = even > odd ? [even, odd] : [odd, even];
  return more >= pairs / 2 && fewer <= more / 10;
}
