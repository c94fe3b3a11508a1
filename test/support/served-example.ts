/**
 * The healthcare example, applied, every task run once, and served: the fixture of the network
 * faces' tests (HTTP API, pgwire). Three principals with tokens: the analyst (bob: California rows
 * of patients only, `last_name` denied, PHI masked), the clinician (carol: PHI in clear) and a
 * visitor (dave: no role grants anything).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform, type ServerHandle } from '../../src/platform.ts';
import { ManualClock } from './manual-clock.ts';

export const ANALYST = 'bob@example.org';
export const CLINICIAN = 'carol@example.org';
export const VISITOR = 'dave@example.org';

export interface ServedExample {
  repo: string;
  /** The running serve: read the current platform through `handle.platform`. */
  handle: ServerHandle;
  tokens: { analyst: string; clinician: string; visitor: string };
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * `patients`: how many synthetic patients the example's CSV holds (default 200); `engine`: the
 * project's engine (default the example's, DuckDB).
 */
export async function openServedExample(
  options: { patients?: number; engine?: string } = {},
): Promise<ServedExample> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-served-'));
  await Platform.writeExample(repo, options.patients ?? 200);
  const env = {
    ...process.env,
    TESSERA_MODE: 'production',
    TESSERA_HASH_KEY: 'served-example-hash-key',
    ...(options.engine ? { TESSERA_ENGINE: options.engine } : {}),
  };
  const platform = await Platform.open({ repo, env });
  let handle: ServerHandle | undefined;
  try {
    await platform.apply();
    const runs = await platform.run({ tasks: [], all: true });
    const failed = runs.filter((run) => run.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`example runs failed: ${JSON.stringify(failed)}`);
    const [analyst, clinician, visitor] = await Promise.all(
      [ANALYST, CLINICIAN, VISITOR].map(async (principal) => (await platform.tokens.create(principal)).token),
    );
    const clock = new ManualClock();
    handle = await platform.serve({ concurrency: 1, debounceMs: 0, clock, writeConsole: () => {} });
    const served = handle;
    return {
      repo,
      handle: served,
      tokens: { analyst: analyst!, clinician: clinician!, visitor: visitor! },
      clock,
      close: async () => {
        await served.stop(0);
        await rm(repo, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (handle) await handle.stop(0).catch(() => {});
    else await platform.close().catch(() => {});
    await rm(repo, { recursive: true, force: true });
    throw error;
  }
}
