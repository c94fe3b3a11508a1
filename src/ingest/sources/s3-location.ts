/** Where an `s3://bucket/key-or-glob` source uri points, and which keys it matches. Pure: no network. */
export interface S3Location {
  /** The uri as written. */
  uri: string;
  bucket: string;
  /** The key, or a glob over keys: `*` and `?` stay within one `/`-separated segment, `**` crosses them. */
  pattern: string;
  /** The literal start of the pattern, before any glob character: what is listed. */
  listPrefix: string;
  /** Whether the pattern has glob characters (otherwise it names one key). */
  isGlob: boolean;
}

const GLOB_CHARACTERS = /[*?[]/;

/** Parse an `s3://` uri; `undefined` when it does not name a bucket and a key (validate reports that). */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) return undefined;
  const bucket = match[1]!;
  const pattern = match[2]!;
  const firstGlob = pattern.search(GLOB_CHARACTERS);
  return {
    uri,
    bucket,
    pattern,
    listPrefix: firstGlob === -1 ? pattern : pattern.slice(0, firstGlob),
    isGlob: firstGlob !== -1,
  };
}

/** `s3://bucket/key`: how messages, bad rows and the quarantine name an object. */
export function objectUri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Whether `key` is one the location names. */
export function keyMatcher(location: S3Location): (key: string) => boolean {
  if (!location.isGlob) return (key) => key === location.pattern;
  const pattern = globToRegExp(location.pattern);
  return (key) => pattern.test(key);
}

/** A glob over `/`-separated keys or relative paths as a regular expression (as DuckDB's globs read them). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index]!;
    if (character === '*') {
      if (glob[index + 1] === '*') {
        const slashFollows = glob[index + 2] === '/';
        source += slashFollows ? '(?:.*/)?' : '.*';
        index += slashFollows ? 2 : 1;
      } else {
        source += '[^/]*';
      }
    } else if (character === '?') {
      source += '[^/]';
    } else if (character === '[') {
      const end = glob.indexOf(']', index + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      const body = glob
        .slice(index + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      source += `[${body}]`;
      index = end;
    } else {
      source += character.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}
