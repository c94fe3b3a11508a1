import { duckdbDialect } from '../engines/dialect.ts';
import { quoteIdentifier } from '../engines/engine.ts';
import type { FieldDef } from '../model/index.ts';
import type { Storage } from '../storage/index.ts';

/**
 * The engine relation over a version's files as stored (the dialect's `filesRelation`), every stored column
 * included (precomputed hash columns too). Only for the governed query path, whose secure relation
 * selects the columns it exposes by name.
 */
export function parquetRelation(storage: Storage, files: string[]): string {
  return duckdbDialect.filesRelation!(files.map((key) => storage.localPath(key)));
}

/**
 * A SELECT of exactly the table's fields from a version's files: what platform-internal reads
 * (projection inputs, validations) see. Columns a file stores beyond the fields, such as
 * precomputed hashes, stay out.
 */
export function tableSelect(storage: Storage, files: string[], fields: FieldDef[]): string {
  const columns = fields.map((field) => quoteIdentifier(field.name)).join(', ');
  return `SELECT ${columns} FROM ${parquetRelation(storage, files)}`;
}

/** `tableSelect` as a relation to use after FROM. */
export function tableRelation(storage: Storage, files: string[], fields: FieldDef[]): string {
  return `(${tableSelect(storage, files, fields)})`;
}
