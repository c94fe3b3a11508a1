import type { CatalogStore } from '../catalog/catalog-store.ts';
import type { TaskGraph } from '../graph/index.ts';
import type { Definitions, Version } from '../model/index.ts';

/** A projection that has not read the current version of one of its upstream tables. */
export interface StaleTask {
  task: string;
  /** `upstream:<table>@<version>`: the newer version it has not read. */
  trigger: string;
}

/**
 * Projections whose current version was built from older upstream versions than the current ones,
 * or that were never built although every upstream table has a version. A server enqueues them when
 * it starts (publications made while it was down, or a crash between a publication and its
 * triggers) and when a paused task is resumed. With `tasks`, only those are checked.
 */
export async function findStaleTasks(
  store: Pick<CatalogStore, 'getCurrentVersion'>,
  graph: TaskGraph,
  definitions: Definitions,
  tasks?: Iterable<string>,
): Promise<StaleTask[]> {
  const known = new Set(definitions.tables.map((table) => table.name));
  const current = new Map<string, Promise<Version | undefined>>();
  const currentVersion = (table: string): Promise<Version | undefined> => {
    let version = current.get(table);
    if (!version) {
      version = store.getCurrentVersion(table);
      current.set(table, version);
    }
    return version;
  };
  const stale: StaleTask[] = [];
  for (const name of graph.topologicalOrder(tasks)) {
    const task = definitions.tasks.find((candidate) => candidate.name === name);
    if (task?.type !== 'projection') continue;
    const upstream = graph.upstreamTables(name).filter((table) => known.has(table));
    if (upstream.length === 0) continue;
    const inputs = await Promise.all(upstream.map(currentVersion));
    if (inputs.some((input) => input === undefined)) continue; // nothing to build from yet
    const own = await currentVersion(task.target);
    const unread = (inputs as Version[]).find(
      (input) => own?.upstream.find((ref) => ref.table === input.table)?.version !== input.version,
    );
    if (unread) stale.push({ task: name, trigger: `upstream:${unread.table}@${unread.version}` });
  }
  return stale;
}
