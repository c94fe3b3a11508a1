import type { SourceLocation } from '../model/index.ts';

/** One problem found in the catalog repo. Loaders collect all of them and report them at once. */
export interface Diagnostic {
  /** Stable machine code, e.g. `unknown-key`, `missing-owner`, `proto-parse`. */
  code: string;
  severity: 'error' | 'warning';
  /** What is wrong and how to fix it. */
  message: string;
  at: SourceLocation;
}

/** `path:line:col: error CODE: message` — the format editors and CI annotators understand. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const { file, line, column } = diagnostic.at;
  return `${file}:${line}:${column}: ${diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
