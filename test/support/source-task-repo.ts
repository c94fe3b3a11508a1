// What the source tests do to a catalog repo with one ingestion task, each through its own
// Platform as a separate CLI call would: apply it, run the task, query, read the stored cursor.
import type { Run, RunLogLine } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeRepo } from './cli.ts';

export interface SourceTaskRepo {
  /** Write the files into a fresh repo and apply it. */
  appliedRepo(files: Record<string, string>): Promise<string>;
  /** Run the task once (`fullRefresh`: forget its cursor first); its run and log lines. */
  runOnce(repo: string, fullRefresh?: boolean): Promise<{ run: Run; log: string[] }>;
  query(repo: string, text: string): Promise<unknown[]>;
  /** Where the task's last published run read up to. */
  storedCursor(repo: string): Promise<unknown>;
}

export function sourceTaskRepo(task: string, env: NodeJS.ProcessEnv): SourceTaskRepo {
  async function withPlatform<T>(repo: string, use: (platform: Platform) => Promise<T>): Promise<T> {
    const platform = await Platform.open({ repo, env });
    try {
      return await use(platform);
    } finally {
      await platform.close();
    }
  }
  return {
    async appliedRepo(files) {
      const repo = await writeRepo(files);
      await withPlatform(repo, (platform) => platform.apply());
      return repo;
    },
    runOnce: (repo, fullRefresh = false) =>
      withPlatform(repo, async (platform) => {
        const log: string[] = [];
        const [run] = await platform.run(
          { tasks: [task] },
          (line: RunLogLine) => log.push(line.message),
          {},
          { fullRefresh },
        );
        return { run: run!, log };
      }),
    query: (repo, text) => withPlatform(repo, async (platform) => (await platform.query(text)).rows),
    storedCursor: (repo) =>
      withPlatform(repo, (platform) => internalsOf(platform).store.getSourceCursor(task)),
  };
}
