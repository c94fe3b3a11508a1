import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { SourceLocation } from '../model/index.ts';

/** A step into a YAML value: a map key or a list index. */
export type PathSegment = string | number;

/** `channels[0].slack.webhook`: a path as messages show it. */
export function formatYamlPath(path: readonly PathSegment[]): string {
  return path.reduce<string>(
    (text, segment) =>
      typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment,
    '',
  );
}

/** What checks after parsing need of a document: its data and where its keys and values are. */
export interface LocatableDocument {
  /** The file, relative to the catalog repo, with `/` separators. */
  readonly file: string;
  /** The document as plain JS data, after `${ENV}` interpolation. */
  readonly data: unknown;
  /** See `YamlDocument.locate`. */
  locate(path: readonly PathSegment[], part?: 'key' | 'value'): SourceLocation;
  /** See `YamlDocument.locateInValue`. */
  locateInValue(path: readonly PathSegment[], pattern: RegExp): SourceLocation | undefined;
}

/**
 * A document whose YAML is parsed only when something asks for a position or its data: a file
 * validated from the cache is never parsed again unless a diagnostic points into it.
 */
export class LazyYamlDocument implements LocatableDocument {
  private parsed: YamlDocument | undefined;

  constructor(
    readonly file: string,
    private readonly parse: () => YamlDocument,
  ) {}

  private get document(): YamlDocument {
    this.parsed ??= this.parse();
    return this.parsed;
  }

  get data(): unknown {
    return this.document.data;
  }

  locate(path: readonly PathSegment[], part: 'key' | 'value' = 'value'): SourceLocation {
    return this.document.locate(path, part);
  }

  locateInValue(path: readonly PathSegment[], pattern: RegExp): SourceLocation | undefined {
    return this.document.locateInValue(path, pattern);
  }
}

/**
 * One YAML document of a catalog-repo file, with its data (after `${ENV}` interpolation)
 * and the source positions needed to point diagnostics at the offending key or value.
 */
export class YamlDocument implements LocatableDocument {
  constructor(
    /** The file, relative to the catalog repo, with `/` separators. */
    readonly file: string,
    /** The file's full text (positions are offsets into it). */
    readonly text: string,
    private readonly lineCounter: LineCounter,
    /** The parsed document; interpolation has already rewritten its string scalars. */
    readonly document: Document.Parsed,
  ) {}

  private cachedData: { value: unknown } | undefined;

  /** The document as plain JS data (computed once: call it after interpolation). */
  get data(): unknown {
    this.cachedData ??= { value: this.document.toJS({ maxAliasCount: 1000 }) as unknown };
    return this.cachedData.value;
  }

  /** Where the document starts: its first key, or line 1 when it is empty. */
  get start(): SourceLocation {
    const contents = this.document.contents;
    return contents?.range ? this.position(contents.range[0]) : { file: this.file, line: 1, column: 1 };
  }

  /**
   * The position of the key (`part: 'key'`) or value at `path`. When the path does not exist
   * (a missing key), the deepest existing ancestor: its key when it has one, else its start.
   */
  locate(path: readonly PathSegment[], part: 'key' | 'value' = 'value'): SourceLocation {
    let node: unknown = this.document.contents;
    let pair: Pair | undefined;
    for (const segment of path) {
      const next = this.child(node, segment);
      if (!next) return this.nodeLocation(pair?.key ?? node);
      node = next.node;
      pair = next.pair;
    }
    if (part === 'key' && pair?.key) return this.nodeLocation(pair.key);
    return this.nodeLocation(node ?? pair?.key);
  }

  /** The position of the first match of `pattern` inside the source text of the value at `path`. */
  locateInValue(path: readonly PathSegment[], pattern: RegExp): SourceLocation | undefined {
    let node: unknown = this.document.contents;
    for (const segment of path) {
      node = this.child(node, segment)?.node;
      if (!node) return undefined;
    }
    const range = (node as Node).range;
    if (!range) return undefined;
    const source = this.text.slice(range[0], range[1]);
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(source);
    return match ? this.position(range[0] + match.index) : undefined;
  }

  /** The YAML node at `path`, when it exists. */
  nodeAt(path: readonly PathSegment[]): Node | undefined {
    let node: unknown = this.document.contents;
    for (const segment of path) {
      node = this.child(node, segment)?.node;
      if (!node) return undefined;
    }
    return node as Node;
  }

  /** A 1-based position in this file from a character offset. */
  position(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  private child(node: unknown, segment: PathSegment): { node: unknown; pair?: Pair } | undefined {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && scalarKey(item.key) === String(segment));
      return pair ? { node: pair.value, pair } : undefined;
    }
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      return item === undefined ? undefined : { node: item };
    }
    return undefined;
  }

  private nodeLocation(node: unknown): SourceLocation {
    const range = (node as Node | undefined)?.range;
    return range ? this.position(range[0]) : this.start;
  }
}

function scalarKey(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}
