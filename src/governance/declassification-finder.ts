import type { Definitions, Sensitivity } from '../model/index.ts';
import type { OutputColumnLineage } from '../sql/index.ts';
import { ProjectionLineage } from './projection-lineage.ts';

/** Most protective first, as in sensitivity inheritance. */
const SENSITIVITY_ORDER: Sensitivity[] = ['PHI', 'PII', 'CONFIDENTIAL'];

/** A declared column shown in clear although it derives from a sensitive column (see `Plan.declassifications`). */
export interface DeclassificationFinding {
  table: string;
  column: string;
  /** `namespace.table.column` of the most sensitive input. */
  from: string;
  sensitivity: Sensitivity;
}

interface SensitiveSource {
  sensitivity: Sensitivity;
  from: string;
}

/**
 * Every declassification the definitions make (SPEC §5). A projection target with an *inferred*
 * schema inherits sensitivity through column lineage when it runs, so it declassifies nothing. A
 * target with a *declared* schema is authoritative: the runner stores and masks exactly what it
 * declares. A declared field that derives from a sensitive input but declares no sensitivity is
 * therefore shown in clear: a declassification to review.
 *
 * Pure: parses SQL with the in-memory parser and reads nothing else. The sensitivity of an inferred
 * upstream table's column is derived as the runner derives it (the most sensitive of its sources),
 * transitively. `projectionLineage`, when given, is `ProjectionLineage.of(definitions)` computed
 * once for several reviews.
 */
export async function findDeclassifications(
  definitions: Definitions,
  projectionLineage?: ProjectionLineage,
): Promise<DeclassificationFinding[]> {
  const lineage = projectionLineage ?? (await ProjectionLineage.of(definitions));
  const tracer = new SensitivityTracer(lineage);
  const findings: DeclassificationFinding[] = [];
  for (const table of definitions.tables) {
    const outputs = lineage.outputsOf(table.name);
    if (!table.schema || !outputs) continue;
    for (const field of table.schema.fields) {
      if (field.sensitivity) continue;
      const output = outputs.find((candidate) => sameName(candidate.name, field.name));
      const source = output && tracer.mostSensitiveSource(output, new Set());
      if (source) findings.push({ table: table.name, column: field.name, ...source });
    }
  }
  return findings;
}

/** Where the sensitivity of output columns comes from, through the projections' lineage. */
class SensitivityTracer {
  constructor(private readonly lineage: ProjectionLineage) {}

  mostSensitiveSource(
    output: OutputColumnLineage,
    visiting: ReadonlySet<string>,
  ): SensitiveSource | undefined {
    const found = output.sources
      .map((source) => this.sensitivityOf(source.table, source.column, visiting))
      .filter((source): source is SensitiveSource => source !== undefined)
      .sort((a, b) => SENSITIVITY_ORDER.indexOf(a.sensitivity) - SENSITIVITY_ORDER.indexOf(b.sensitivity));
    return found[0];
  }

  private sensitivityOf(
    table: string,
    column: string,
    visiting: ReadonlySet<string>,
  ): SensitiveSource | undefined {
    const def = this.lineage.tableDef(table);
    const key = `${table}.${column.toLowerCase()}`;
    if (!def || visiting.has(key)) return undefined;
    if (def.schema) {
      const field = def.schema.fields.find((candidate) => sameName(candidate.name, column));
      return field?.sensitivity
        ? { sensitivity: field.sensitivity, from: `${table}.${field.name}` }
        : undefined;
    }
    const output = this.lineage.outputsOf(table)?.find((candidate) => sameName(candidate.name, column));
    return output && this.mostSensitiveSource(output, new Set([...visiting, key]));
  }
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
