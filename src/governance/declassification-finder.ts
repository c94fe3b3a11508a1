import { QueryError } from '../diagnostics/index.ts';
import type { Definitions, Sensitivity, TableDef } from '../model/index.ts';
import {
  columnLineage,
  parseSingleStatement,
  referencedTables,
  type OutputColumnLineage,
} from '../sql/index.ts';

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
 * transitively.
 */
export async function findDeclassifications(definitions: Definitions): Promise<DeclassificationFinding[]> {
  const lineage = await ProjectionLineage.of(definitions);
  const findings: DeclassificationFinding[] = [];
  for (const table of definitions.tables) {
    const outputs = lineage.outputsOf(table.name);
    if (!table.schema || !outputs) continue;
    for (const field of table.schema.fields) {
      if (field.sensitivity) continue;
      const output = outputs.find((candidate) => sameName(candidate.name, field.name));
      const source = output && lineage.mostSensitiveSource(output, new Set());
      if (source) findings.push({ table: table.name, column: field.name, ...source });
    }
  }
  return findings;
}

/** Column lineage of every projection, computed upstream first so inferred tables' columns are known. */
class ProjectionLineage {
  private readonly outputs = new Map<string, OutputColumnLineage[]>();
  private readonly columns = new Map<string, string[]>();
  private readonly tables: Map<string, TableDef>;
  private readonly producers: Map<string, string>;

  private constructor(definitions: Definitions) {
    this.tables = new Map(definitions.tables.map((table) => [table.name, table]));
    this.producers = new Map(
      definitions.tasks
        .filter((task) => task.type === 'projection' && task.sql)
        .map((task) => [task.target, task.sql!]),
    );
    for (const table of definitions.tables) {
      if (table.schema)
        this.columns.set(
          table.name,
          table.schema.fields.map((field) => field.name),
        );
    }
  }

  static async of(definitions: Definitions): Promise<ProjectionLineage> {
    const lineage = new ProjectionLineage(definitions);
    for (const target of lineage.producers.keys()) await lineage.compute(target, new Set());
    return lineage;
  }

  /** The lineage of the projection producing `table`; undefined when none, or its SQL does not parse. */
  outputsOf(table: string): OutputColumnLineage[] | undefined {
    return this.outputs.get(table);
  }

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
    const def = this.tables.get(table);
    const key = `${table}.${column.toLowerCase()}`;
    if (!def || visiting.has(key)) return undefined;
    if (def.schema) {
      const field = def.schema.fields.find((candidate) => sameName(candidate.name, column));
      return field?.sensitivity
        ? { sensitivity: field.sensitivity, from: `${table}.${field.name}` }
        : undefined;
    }
    const output = this.outputs.get(table)?.find((candidate) => sameName(candidate.name, column));
    return output && this.mostSensitiveSource(output, new Set([...visiting, key]));
  }

  private async compute(target: string, visiting: ReadonlySet<string>): Promise<void> {
    const sql = this.producers.get(target);
    if (!sql || this.outputs.has(target) || visiting.has(target)) return;
    try {
      const statement = await parseSingleStatement(sql);
      // Inferred upstream tables first: their columns are what this projection's lineage resolves against.
      for (const upstream of referencedTables(statement.node)) {
        if (!this.tables.get(upstream.name)?.schema) {
          await this.compute(upstream.name, new Set([...visiting, target]));
        }
      }
      const outputs = await columnLineage(sql, (table) => this.columns.get(table));
      this.outputs.set(target, outputs);
      if (!this.tables.get(target)?.schema && !outputs.some((output) => output.name === '*')) {
        this.columns.set(
          target,
          outputs.map((output) => output.name),
        );
      }
    } catch (error) {
      // SQL that does not parse is reported by `validate`; it declassifies nothing until it does.
      // Any other failure would hide declassifications from review: it surfaces.
      if (!(error instanceof QueryError)) throw error;
    }
  }
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
