import { quoteLiteral } from '../engines/engine.ts';

/** SQL turning the source's null markers (`null_values`, by default the empty string) into NULL. */
export function nullMarkersToNull(reference: string, nullValues: string[]): string {
  if (nullValues.length === 0) return reference;
  return `CASE WHEN ${reference} IN (${nullValues.map(quoteLiteral).join(', ')}) THEN NULL ELSE ${reference} END`;
}
