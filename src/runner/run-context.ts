import type { CatalogStore } from '../catalog/catalog-store.ts';
import type { Engine } from '../engines/engine.ts';
import type { Definitions, RunLifecycleEvent, RunLogLine } from '../model/index.ts';
import type { Storage } from '../storage/index.ts';
import type { EngineVersions } from './engine-versions.ts';

/** What a run needs from the platform. */
export interface RunContext {
  definitions: Definitions;
  store: CatalogStore;
  storage: Storage;
  /** DuckDB: it conforms, writes and checks every version, whatever the project's engine. */
  engine: Engine;
  /**
   * The project's engine when it is not DuckDB (`engine: postgres://…`): projections run there, over
   * the upstream versions loaded into it, and every published version is loaded into it for queries.
   */
  warehouse?: { engine: Engine; versions: EngineVersions };
  /** The project's hash key (`projectHashKey`): HASH masks and precomputed hashes use it. Never logged. */
  hashKey: string;
  /** The Git commit of the definitions, recorded on every version. */
  gitCommit?: string;
  /** Called for every run log line as it is written (the CLI echoes them). */
  onLog?: (line: RunLogLine) => void;
  /**
   * Told when a run starts and when it ends (OpenLineage out). Called synchronously and never
   * awaited, so an observer must not block; what it throws is ignored.
   */
  onRunEvent?: (event: RunLifecycleEvent) => void;
}
