import { LineCounter, isScalar, parseAllDocuments, type YAMLError } from 'yaml';
import type { Diagnostic } from '../diagnostics/index.ts';
import { YamlDocument } from './yaml-document.ts';

/**
 * Parse every document of one YAML file (`---` separated). Syntax errors become `yaml-parse`
 * diagnostics; a document with errors is dropped so its half-parsed data never reaches the Defs.
 * `unparsedNames` are the names such documents seem to declare (`name: x` lines): they are
 * unknown, not missing, so references to them are not reported until the file parses.
 */
export function readYamlFile(
  file: string,
  text: string,
): { documents: YamlDocument[]; diagnostics: Diagnostic[]; unparsedNames: string[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: YamlDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const unparsedNames: string[] = [];
  for (const document of parsed) {
    const yamlDocument = new YamlDocument(file, text, lineCounter, document);
    const names =
      document.errors.length > 0 ? namesWritten(text.slice(document.range[0], document.range[2])) : [];
    document.errors.forEach((error, index) => {
      const { offset, message } = whereTheMistakeIs(text, error);
      const unchecked =
        index === 0 && names.length > 0
          ? `; until it parses, references to ${names.map((name) => `\`${name}\``).join(', ')} are not checked`
          : '';
      diagnostics.push({
        code: 'yaml-parse',
        severity: 'error',
        message: `YAML does not parse: ${message}${unchecked}`,
        at: yamlDocument.position(offset),
      });
    });
    unparsedNames.push(...names);
    // A file of comments, or a trailing `---`, holds an empty document: nothing to load.
    const empty =
      document.contents === null || (isScalar(document.contents) && document.contents.value === null);
    if (document.errors.length === 0 && !empty) documents.push(yamlDocument);
  }
  return { documents, diagnostics, unparsedNames };
}

/**
 * The parser notices an unclosed `[`, `{` or quote only where the next line starts (or at the end
 * of the file): point at the bracket or quote that is never closed instead, on the line to fix.
 */
function whereTheMistakeIs(text: string, error: YAMLError): { offset: number; message: string } {
  const message = firstLine(error.message);
  const flow =
    /^Flow (sequence|map) in block collection must be sufficiently indented and end with a ([\]}])/.exec(
      message,
    );
  if (error.code === 'BAD_INDENT' && flow) {
    const opening = unclosedBracket(text, error.pos[0], flow[2] === ']' ? '[' : '{', flow[2]!);
    if (opening !== undefined) {
      return {
        offset: opening,
        message: `this \`${text[opening]}\` is never closed: end the ${flow[1] === 'sequence' ? 'list' : 'map'} with \`${flow[2]}\` on this line, or indent its continuation lines`,
      };
    }
  }
  const quote = /^Missing closing (["'])quote/.exec(message);
  if (error.code === 'MISSING_CHAR' && quote) {
    const opening = text.lastIndexOf(quote[1]!, error.pos[0] - 1);
    if (opening >= 0) {
      return {
        offset: opening,
        message: `this \`${quote[1]}\` is never closed: end the string with \`${quote[1]}\``,
      };
    }
  }
  return { offset: error.pos[0], message };
}

/** The offset of the `open` bracket before `end` that no `close` bracket after it matches. */
function unclosedBracket(text: string, end: number, open: string, close: string): number | undefined {
  let depth = 0;
  for (let offset = end - 1; offset >= 0; offset--) {
    if (text[offset] === close) depth++;
    else if (text[offset] === open && depth-- === 0) return offset;
  }
  return undefined;
}

/** The `name: x` values written in a document's text (at any indentation, optionally quoted). */
function namesWritten(text: string): string[] {
  return [...text.matchAll(/^[ \t]*(?:-[ \t]+)?name:[ \t]*(["']?)([\w.-]+)\1[ \t]*(?:#.*)?$/gm)].map(
    (match) => match[2]!,
  );
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
