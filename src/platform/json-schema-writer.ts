import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildJsonSchemas } from '../definitions/json-schemas.ts';
import { FileAccessError } from '../diagnostics/errors.ts';

/**
 * Write the JSON Schemas of every `kind` and of `tessera.yaml` into `dir` (created if missing),
 * replacing files of the same names; returns the file names written, sorted.
 */
export async function writeJsonSchemas(dir: string): Promise<string[]> {
  const schemas = buildJsonSchemas();
  try {
    await mkdir(dir, { recursive: true });
    for (const [file, schema] of Object.entries(schemas)) {
      await writeFile(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    }
  } catch (error) {
    throw new FileAccessError(
      `cannot write the JSON Schemas to ${dir}: ${(error as Error).message}; choose a folder you can write to`,
      { cause: error },
    );
  }
  return Object.keys(schemas).sort();
}
