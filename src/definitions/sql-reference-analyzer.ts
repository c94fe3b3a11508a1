import { QueryError } from '../diagnostics/index.ts';
import { parseSql, prepareParses, referencedTables } from '../sql/index.ts';

/** The outcome of parsing one SELECT: the tables it reads, or why it does not parse. */
export interface SelectAnalysis {
  /** Tables read, lowercased as written (`schema.table`, or a bare name), deduplicated, in order of appearance. */
  tables: string[];
  /** DuckDB's parser message when the text is not exactly one SELECT statement. */
  error?: string;
}

/**
 * Parse SQL that must be a single SELECT (a projection) with DuckDB's in-memory parser and list
 * the tables it reads; never throws for bad SQL: the problem comes back in `error`.
 */
export async function analyzeSelect(sql: string): Promise<SelectAnalysis> {
  const known = analyses.get(sql);
  if (known) return { ...known, tables: [...known.tables] };
  const analysis = await analyzeUncached(sql);
  rememberAnalysis(sql, analysis);
  return { ...analysis, tables: [...analysis.tables] };
}

/**
 * Parse, in one call to the parser, every text among `sqls` not analyzed yet: the `analyzeSelect`
 * of each that follows then finds its parse cached. Changes no answer, only how many calls parse.
 */
export async function prepareAnalyses(sqls: Iterable<string>): Promise<void> {
  await prepareParses([...sqls].filter((sql) => !analyses.has(sql)));
}

/**
 * Analyses by SQL text (pure): the lint, the task graph and the next run (through the definitions
 * cache) all ask about the same projections. Bounded in entries; each holds a few table names.
 */
const analyses = new Map<string, SelectAnalysis>();
const ANALYSES_LIMIT = 50_000;

/** The analysis of `sql` if already made, without parsing. */
export function rememberedAnalysis(sql: string): SelectAnalysis | undefined {
  return analyses.get(sql);
}

/** Keep an analysis (made by `analyzeSelect`, here or in an earlier run of the same code). */
export function rememberAnalysis(sql: string, analysis: SelectAnalysis): void {
  if (analyses.size >= ANALYSES_LIMIT) analyses.delete(analyses.keys().next().value!);
  analyses.set(sql, analysis);
}

async function analyzeUncached(sql: string): Promise<SelectAnalysis> {
  try {
    const statements = await parseSql(sql);
    if (statements.length !== 1) {
      return {
        tables: [],
        error:
          statements.length === 0
            ? 'no SQL statement found'
            : `expected one SELECT statement, found ${statements.length}; a projection publishes the result of one query`,
      };
    }
    return { tables: [...new Set(referencedTables(statements[0]!.node).map((reference) => reference.name))] };
  } catch (error) {
    // Bad SQL is a QueryError; anything else is a bug, not a problem of the user's SQL.
    if (!(error instanceof QueryError)) throw error;
    return { tables: [], error: error.message };
  }
}
