// Shared set-up for the quality tests: a real DuckDB session with small inline tables.
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import type { EngineSession, QueryResult } from '../../src/engines/engine.ts';
import type { CheckResult, Severity, ValidationDef } from '../../src/model/index.ts';
import { runChecks, type RunChecksOptions } from '../../src/quality/index.ts';

export interface QualityFixture {
  session: EngineSession;
  /** Runs one validation against `relation` and returns its result. */
  check(
    relation: string,
    expectation: string,
    args: Record<string, unknown>,
    options?: RunChecksOptions,
  ): Promise<CheckResult>;
  close(): Promise<void>;
}

/** A one-thread in-memory DuckDB with the given setup statements run. */
export async function openFixture(...setup: string[]): Promise<QualityFixture> {
  const engine = await DuckdbEngine.create({ threads: 1 });
  const session = await engine.openSession();
  for (const statement of setup) await session.run(statement);
  return {
    session,
    async check(relation, expectation, args, options) {
      const [result] = await runChecks(session, relation, [validation(expectation, args)], options);
      return result!;
    },
    async close() {
      session.close();
      await engine.close();
    },
  };
}

export function validation(
  expectation: string,
  args: Record<string, unknown>,
  severity: Severity = 'error',
): ValidationDef {
  return { expectation, args, severity };
}

/** A session that records every statement it is asked to run, to count scans. */
export function recordingSession(inner: EngineSession): EngineSession & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    run(sql: string): Promise<void> {
      statements.push(sql);
      return inner.run(sql);
    },
    query(sql: string): Promise<QueryResult> {
      statements.push(sql);
      return inner.query(sql);
    },
    describe(sql: string) {
      statements.push(sql);
      return inner.describe(sql);
    },
    interrupt() {
      inner.interrupt();
    },
    close() {
      inner.close();
    },
  };
}
