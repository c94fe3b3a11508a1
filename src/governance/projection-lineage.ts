import { QueryError } from '../diagnostics/index.ts';
import type { Definitions, TableDef } from '../model/index.ts';
import {
  columnLineage,
  parseSingleStatement,
  referencedTables,
  type AstNode,
  type OutputColumnLineage,
} from '../sql/index.ts';

/**
 * Column lineage of every projection in the definitions, computed upstream first so that the
 * columns of inferred upstream tables are known. Pure: parses SQL with the in-memory parser and
 * reads nothing else. A projection whose SQL does not parse has no lineage (`validate` reports it).
 */
export class ProjectionLineage {
  private readonly outputs = new Map<string, OutputColumnLineage[]>();
  private readonly upstreams = new Map<string, string[]>();
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

  /** Tables produced by a projection whose SQL parses, in no particular order. */
  derivedTables(): string[] {
    return [...this.outputs.keys()];
  }

  /** The lineage of the projection producing `table`; undefined when none, or its SQL does not parse. */
  outputsOf(table: string): OutputColumnLineage[] | undefined {
    return this.outputs.get(table);
  }

  /** Every table the projection producing `table` reads (anywhere in its SQL), lowercased. */
  upstreamsOf(table: string): string[] {
    return this.upstreams.get(table) ?? [];
  }

  /** A table's columns: declared, or inferred from its projection; undefined when unknown. */
  columnsOf(table: string): string[] | undefined {
    return this.columns.get(table);
  }

  /** The table's definition, if declared. */
  tableDef(table: string): TableDef | undefined {
    return this.tables.get(table);
  }

  private async compute(target: string, visiting: ReadonlySet<string>): Promise<void> {
    const sql = this.producers.get(target);
    if (!sql || this.outputs.has(target) || visiting.has(target)) return;
    try {
      const { upstreams, parsed } = await upstreamsOfSql(sql);
      // Inferred upstream tables first: their columns are what this projection's lineage resolves against.
      for (const upstream of upstreams) {
        if (!this.tables.get(upstream)?.schema) {
          await this.compute(upstream, new Set([...visiting, target]));
        }
      }
      const outputs = await columnLineage(sql, (table) => this.columns.get(table), parsed);
      this.outputs.set(target, outputs);
      this.upstreams.set(target, upstreams);
      if (!this.tables.get(target)?.schema && !outputs.some((output) => output.name === '*')) {
        this.columns.set(
          target,
          outputs.map((output) => output.name),
        );
      }
    } catch (error) {
      // SQL that does not parse is reported by `validate`; it has no lineage until it does. Any
      // other failure would hide declassifications and row filters from review: it surfaces.
      if (!(error instanceof QueryError)) throw error;
    }
  }
}

/**
 * Every table `sql` reads (anywhere in it), lowercased, deduplicated, in order of appearance, and
 * the statement when this call had to parse it (for `columnLineage`, which then needs no second
 * parse); throws `QueryError` when it is not exactly one statement. Kept by SQL text (parsing is
 * pure): a plan reviews declassifications and row filters over the same projections, and the read
 * path asks again. Bounded in entries; each holds a few table names.
 */
async function upstreamsOfSql(sql: string): Promise<{ upstreams: string[]; parsed?: AstNode }> {
  const known = upstreamsBySql.get(sql);
  if (known) return { upstreams: [...known] };
  const statement = await parseSingleStatement(sql);
  const upstreams = [
    ...new Set(referencedTables(statement.node).map((reference) => reference.name.toLowerCase())),
  ];
  if (upstreamsBySql.size >= UPSTREAMS_LIMIT) upstreamsBySql.delete(upstreamsBySql.keys().next().value!);
  upstreamsBySql.set(sql, upstreams);
  return { upstreams: [...upstreams], parsed: statement.node };
}

const upstreamsBySql = new Map<string, readonly string[]>();
const UPSTREAMS_LIMIT = 50_000;
