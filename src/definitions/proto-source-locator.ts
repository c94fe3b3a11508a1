import type { SourceLocation } from '../model/index.ts';

/**
 * Finds declarations in a .proto file's text. protobufjs records which file a type came from
 * but not where in it, so positions are recovered by searching the text with comments blanked.
 */
export class ProtoSourceLocator {
  private readonly code: string;
  private readonly lineStarts: number[];
  private readonly messageOffsets = new Map<string, number | undefined>();

  constructor(
    /** The file as reported in diagnostics (relative to the repo). */
    readonly file: string,
    text: string,
  ) {
    this.code = blankComments(text);
    this.lineStarts = [0];
    for (let index = 0; index < text.length; index++)
      if (text[index] === '\n') this.lineStarts.push(index + 1);
  }

  /** `message Name {` for a fully qualified message (`pkg.Outer.Inner`), or line 1. */
  message(fullName: string): SourceLocation {
    return this.position(this.messageOffset(fullName) ?? 0);
  }

  /** The `name = number` of a field of a message; falls back to the message, then to line 1. */
  field(messageFullName: string, fieldName: string, fieldNumber: number): SourceLocation {
    const start = this.messageOffset(messageFullName);
    const pattern = new RegExp(`\\b${escape(fieldName)}\\s*=\\s*${fieldNumber}\\b`, 'g');
    const offset = this.search(pattern, start ?? 0) ?? this.search(pattern, 0);
    if (offset !== undefined) return this.position(offset);
    return this.position(start ?? 0);
  }

  /** The first whole-word occurrence of `token` outside comments, or the `occurrence`-th (1-based). */
  token(token: string, occurrence = 1): SourceLocation | undefined {
    const pattern = new RegExp(`(?<![\\w.])${escape(token)}(?![\\w])`, 'g');
    let found: number | undefined;
    for (let count = 0; count < occurrence; count++) {
      const next = this.search(pattern, found === undefined ? 0 : found + 1);
      if (next === undefined) return found === undefined ? undefined : this.position(found);
      found = next;
    }
    return found === undefined ? undefined : this.position(found);
  }

  /** Column of `token` on a 1-based line (for parse errors that only give the line). */
  onLine(line: number, token?: string): SourceLocation {
    const start = this.lineStarts[line - 1] ?? 0;
    const end = this.lineStarts[line] ?? this.code.length;
    const text = this.code.slice(start, end);
    const index = token ? text.indexOf(token) : -1;
    const column = index >= 0 ? index : Math.max(text.search(/\S/), 0);
    return { file: this.file, line, column: column + 1 };
  }

  private messageOffset(fullName: string): number | undefined {
    // Asked once per field: a file of many messages would be searched from its top every time.
    if (this.messageOffsets.has(fullName)) return this.messageOffsets.get(fullName);
    const offset = this.searchMessage(fullName);
    this.messageOffsets.set(fullName, offset);
    return offset;
  }

  private searchMessage(fullName: string): number | undefined {
    // Walk `message A { ... message B` by name; package segments never appear as `message X`.
    let offset: number | undefined;
    for (const segment of fullName.replace(/^\./, '').split('.')) {
      const next = this.search(new RegExp(`\\bmessage\\s+${escape(segment)}\\b`, 'g'), offset ?? 0);
      if (next !== undefined) offset = next;
    }
    return offset;
  }

  private search(pattern: RegExp, from: number): number | undefined {
    pattern.lastIndex = from;
    const match = pattern.exec(this.code);
    return match?.index;
  }

  private position(offset: number): SourceLocation {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { file: this.file, line: low + 1, column: offset - this.lineStarts[low]! + 1 };
  }
}

/** Replace comment text with spaces, keeping every offset (and newline) where it was. */
function blankComments(text: string): string {
  return text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, (match) =>
    match.startsWith('/') ? match.replace(/[^\n]/g, ' ') : match,
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
