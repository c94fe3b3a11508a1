import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../../src/diagnostics/index.ts';
import { formatDiagnostic } from '../../src/diagnostics/index.ts';

/** Write a small catalog repo (path → content) into a fresh temp folder and return its path. */
export async function writeCatalogRepo(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-definitions-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Diagnostics as `file:line:col: severity code: message` lines, for readable assertions. */
export function formatted(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map(formatDiagnostic);
}

/** The first diagnostic with `code`, or a failure listing every diagnostic found. */
export function diagnosticWithCode(diagnostics: readonly Diagnostic[], code: string): Diagnostic {
  const found = diagnostics.find((diagnostic) => diagnostic.code === code);
  if (!found) throw new Error(`no ${code} diagnostic among:\n${formatted(diagnostics).join('\n')}`);
  return found;
}

export const OWNER_YAML = `kind: owner
name: clinical-data
`;

/** The SPEC §1 example schema. */
export const PATIENT_PROTO = `syntax = "proto3";
package clinical;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";

// One row per patient known to the platform.
message Patient {
  // Stable identifier from the source EHR.
  string patient_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn        = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
  string first_name = 3 [(tessera.field) = { sensitivity: PHI, mask: REDACT }];
  google.protobuf.Timestamp birth_date = 4 [(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }];
  string zip        = 5 [(tessera.field) = { sensitivity: PHI, mask: ZIP3 }];
  optional google.protobuf.Timestamp death_date = 6 [(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }];
  string gender     = 7 [(tessera.field) = { allowed: ["F", "M", "U"] }];
  double healthcare_expenses = 8;
}
`;

/** A table using `message` from `schemas/test.proto`, owned by clinical-data. */
export function tableYaml(name: string, message: string): string {
  return `kind: table
name: ${name}
owner: clinical-data
schema: schemas/test.proto#${message}
`;
}
