import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession, type QueryResult } from '../../src/engines/engine.ts';
import { ingestFiles, type IngestResult } from '../../src/ingest/index.ts';
import type {
  BadRowsDef,
  FieldDef,
  FieldType,
  ScalarSqlType,
  SourceDef,
  TaskDef,
} from '../../src/model/index.ts';

/** A scalar field, NOT NULL unless `nullable` says otherwise. */
export function field(
  name: string,
  type: ScalarSqlType | FieldType,
  extra: Partial<FieldDef> = {},
): FieldDef {
  return {
    name,
    number: 1,
    type: typeof type === 'string' ? { kind: 'scalar', sql: type } : type,
    nullable: false,
    ...extra,
  };
}

export function ingestionTask(
  source: Partial<SourceDef> & { uri: string },
  badRows?: Partial<BadRowsDef>,
): TaskDef {
  return {
    name: 'ingest_patients',
    type: 'ingestion',
    target: 'clinical.patients',
    source: { type: 'csv', options: {}, columns: {}, ...source },
    mode: 'replace',
    badRows: { action: 'quarantine', maxFraction: 0.5, ...badRows },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: { file: 'tasks/ingest_patients.yaml', line: 1, column: 1 },
  };
}

/** One DuckDB engine per test file, and a fresh repo folder per test. */
export function ingestFixture() {
  let engine: DuckdbEngine;
  let session: EngineSession;
  const folders: string[] = [];
  before(async () => {
    engine = await DuckdbEngine.create({ threads: 2 });
    session = await engine.openSession();
  });
  after(async () => {
    session.close();
    await engine.close();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  return {
    get session(): EngineSession {
      return session;
    },

    /** A new repo folder holding `files` (relative path → content). */
    async repo(files: Record<string, string | Buffer> = {}): Promise<string> {
      const root = await mkdtemp(join(tmpdir(), 'tessera-ingest-test-'));
      folders.push(root);
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      }
      return root;
    },

    /** Runs `ingestFiles` writing to `<repo>/staging/part-0.parquet`. */
    ingest(repoRoot: string, task: TaskDef, fields: FieldDef[]): Promise<IngestResult> {
      return ingestFiles({ session, task, fields, repoRoot, outputFile: outputFileOf(repoRoot) });
    },

    /** Every row of a Parquet file, with its column types. */
    readParquet(file: string): Promise<QueryResult> {
      return session.query(`SELECT * FROM read_parquet(${quoteLiteral(file)})`);
    },

    /** Runs SQL in the fixture's session (e.g. to write a Parquet source). */
    run(sql: string): Promise<void> {
      return session.run(sql);
    },
  };
}

export function outputFileOf(repoRoot: string): string {
  return join(repoRoot, 'staging', 'part-0.parquet');
}
