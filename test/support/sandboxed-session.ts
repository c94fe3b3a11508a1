import { after, before } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import type { EngineSession } from '../../src/engines/engine.ts';

/**
 * A sandboxed DuckDB session for the calling suite (no readable directory, no external access),
 * opened before its tests and closed after them. Masks and guarded SQL run in such sessions, so
 * tests that evaluate them prove they need nothing the sandbox forbids.
 */
export function sandboxedSession(): { readonly session: EngineSession } {
  let engine: DuckdbEngine | undefined;
  let session: EngineSession | undefined;
  before(async () => {
    engine = await DuckdbEngine.create({ threads: 1 });
    session = await engine.openSession({ sandbox: { allowedDirectories: [] } });
  });
  after(async () => {
    session?.close();
    await engine?.close();
  });
  return {
    get session() {
      if (!session) throw new Error('the sandboxed session opens before the suite’s tests');
      return session;
    },
  };
}
