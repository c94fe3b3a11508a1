// Git sync latency: from a push to the commit applied and served, through `serve --watch-git`'s
// watcher asked at once (what the push webhook does), for a commit adding one table and its task.
// Baseline, same process: the same change written into the folder by hand and applied (open the
// platform, plan, apply, close), so the figure shows what fetching, judging in a worktree and
// restarting serve add.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Platform } from '../src/platform.ts';
import { ManualClock } from '../test/support/manual-clock.ts';
import { makeGitWorld } from '../test/sync/git-fixture.ts';
import { median } from './timing.ts';

const PUSHES = Number(process.env.GIT_SYNC_BENCH_PUSHES ?? 8);

const table = (index: number): Record<string, string> => ({
  [`schemas/t${index}.proto`]: `syntax = "proto3";
package bench;
import "tessera/options.proto";

// Table ${index}.
message T${index} {
  string id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2;
}
`,
  [`tables/t${index}.yaml`]: `kind: table
name: bench.t${index}
owner: bench
schema: schemas/t${index}.proto#bench.T${index}
`,
  [`tasks/t${index}.yaml`]: `kind: task
name: ingest_t${index}
type: ingestion
target: bench.t${index}
source: { type: csv, uri: data/t.csv }
`,
});

export default async function (): Promise<void> {
  const world = await makeGitWorld({
    'tessera.yaml': 'name: bench\n',
    'owners/bench.yaml': 'kind: owner\nname: bench\n',
    'data/t.csv': 'id,name\n1,a\n',
    ...table(0),
  });
  try {
    const platform = await Platform.open({ repo: world.repo });
    await platform.apply();
    const server = await platform.serve({
      concurrency: 1,
      debounceMs: 0,
      clock: new ManualClock(),
      watchGit: { source: `${world.remote}#main`, pollMs: 24 * 3_600_000 },
    });
    const syncMs: number[] = [];
    try {
      await server.sync!.idle();
      for (let index = 1; index <= PUSHES; index++) {
        await world.push(table(index), `table ${index}`);
        const start = performance.now();
        server.sync!.request();
        await server.sync!.idle();
        syncMs.push(performance.now() - start);
      }
    } finally {
      await server.stop(0);
    }

    const applyMs: number[] = [];
    for (let index = 1; index <= PUSHES; index++) {
      // The same change, written into the folder by hand: one more table, its schema and task.
      for (const [path, content] of Object.entries(table(100 + index))) {
        await mkdir(dirname(join(world.repo, path)), { recursive: true });
        await writeFile(join(world.repo, path), content);
      }
      const start = performance.now();
      const direct = await Platform.open({ repo: world.repo });
      await direct.apply();
      await direct.close();
      applyMs.push(performance.now() - start);
    }
    const sync = median(syncMs);
    const apply = median(applyMs);
    console.log(
      `git sync, push → applied and served again (${PUSHES} pushes adding a table): median ${sync.toFixed(0)} ms; ` +
        `the same change applied by hand (open + apply) ${apply.toFixed(0)} ms → sync/apply ${(sync / apply).toFixed(2)}x`,
    );
  } finally {
    await world.close();
  }
}
