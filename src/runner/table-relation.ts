import { quoteLiteral } from '../engines/engine.ts';
import type { Storage } from '../storage/index.ts';

/** The engine relation that reads a version's files: `read_parquet([...])`. */
export function parquetRelation(storage: Storage, files: string[]): string {
  const paths = files.map((key) => quoteLiteral(storage.localPath(key))).join(', ');
  return `read_parquet([${paths}], union_by_name = true)`;
}
