import { LineCounter, isScalar, parseAllDocuments } from 'yaml';
import type { Diagnostic } from '../diagnostics/index.ts';
import { YamlDocument } from './yaml-document.ts';

/**
 * Parse every document of one YAML file (`---` separated). Syntax errors become `yaml-parse`
 * diagnostics; a document with errors is dropped so its half-parsed data never reaches the Defs.
 */
export function readYamlFile(
  file: string,
  text: string,
): { documents: YamlDocument[]; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: YamlDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const document of parsed) {
    const yamlDocument = new YamlDocument(file, text, lineCounter, document);
    for (const error of document.errors) {
      diagnostics.push({
        code: 'yaml-parse',
        severity: 'error',
        message: `YAML does not parse: ${firstLine(error.message)}`,
        at: yamlDocument.position(error.pos[0]),
      });
    }
    // A file of comments, or a trailing `---`, holds an empty document: nothing to load.
    const empty =
      document.contents === null || (isScalar(document.contents) && document.contents.value === null);
    if (document.errors.length === 0 && !empty) documents.push(yamlDocument);
  }
  return { documents, diagnostics };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
