import type { FieldDef, FieldType, MaskKind, Sensitivity } from '../model/index.ts';
import type { OutputColumnLineage } from '../sql/index.ts';

/** Most protective first: when an output derives from several sensitive inputs, it takes the first. */
const SENSITIVITY_ORDER: Sensitivity[] = ['PHI', 'PII', 'CONFIDENTIAL'];

export interface InheritedSensitivity {
  field: string;
  sensitivity: Sensitivity;
  mask: MaskKind;
  /** `table.column` of the sensitive input it came from. */
  from: string;
}

/**
 * Sensitivity follows the data (SPEC §5): an output column derived from a sensitive input column
 * (renamed, cast, concatenated, aggregated…) inherits its sensitivity and a mask. A direct copy
 * keeps the input's mask; a derived value keeps it when the mask still fits the output type, and
 * otherwise falls back to the mask that fits any value of that type (REDACT for text, NULLIFY else).
 */
export function inheritSensitivity(
  outputs: FieldDef[],
  lineage: OutputColumnLineage[],
  fieldOf: (table: string, column: string) => FieldDef | undefined,
): { fields: FieldDef[]; inherited: InheritedSensitivity[] } {
  const inherited: InheritedSensitivity[] = [];
  const fields = outputs.map((output) => {
    if (output.sensitivity) return output;
    const sources =
      lineage.find((column) => column.name.toLowerCase() === output.name.toLowerCase())?.sources ?? [];
    const sensitive = sources
      .map((source) => ({ source, field: fieldOf(source.table, source.column) }))
      .filter((candidate): candidate is { source: typeof candidate.source; field: FieldDef } =>
        Boolean(candidate.field?.sensitivity),
      )
      .sort(
        (a, b) =>
          SENSITIVITY_ORDER.indexOf(a.field.sensitivity!) - SENSITIVITY_ORDER.indexOf(b.field.sensitivity!),
      );
    const strongest = sensitive[0];
    if (!strongest) return output;
    const mask = fittingMask(strongest.field.mask, output.type);
    inherited.push({
      field: output.name,
      sensitivity: strongest.field.sensitivity!,
      mask,
      from: `${strongest.source.table}.${strongest.source.column}`,
    });
    return { ...output, sensitivity: strongest.field.sensitivity, mask };
  });
  return { fields, inherited };
}

function fittingMask(mask: MaskKind | undefined, type: FieldType): MaskKind {
  const text = type.kind === 'scalar' && type.sql === 'VARCHAR';
  const temporal = type.kind === 'scalar' && (type.sql === 'DATE' || type.sql === 'TIMESTAMPTZ');
  const integer = type.kind === 'scalar' && ['INTEGER', 'BIGINT', 'UINTEGER', 'UBIGINT'].includes(type.sql);
  switch (mask) {
    case 'HASH':
      return 'HASH'; // Hashes any value through its text form, so joins on it still work.
    case 'DATE_YEAR':
      return temporal ? mask : text ? 'REDACT' : 'NULLIFY';
    case 'AGE_90_PLUS':
      return integer ? mask : 'NULLIFY';
    case 'ZIP3':
    case 'EMAIL_DOMAIN':
    case 'SHOW_LAST_4':
    case 'REDACT':
      return text ? mask : 'NULLIFY';
    default:
      return text ? 'REDACT' : 'NULLIFY';
  }
}
