// Definitions at the scale of a company: `validate`, `plan` and `apply` on a generated repo of
// 1,000 ingestions each feeding a chain of four projections (5,000 tables, 5,000 tasks), on a
// fresh SQLite catalog, cold (no definitions cache, SQL never parsed in this process) and warm
// (the cache of the run before, one YAML file changed). Baseline, side by side in this process:
// reading the same files with node:fs. Goals (issue #11): validate < 3 s cold and < 0.5 s warm,
// plan < 3 s cold and < 1 s warm, apply < 5 s cold. Each step is measured once, in the order a user
// runs them. Cold steps use a second copy of the repo whose SQL text differs (a comment), so the
// parses the first copy left in this process's parse cache are never reused.
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRepo, Platform } from '../src/platform.ts';
import { CHANGED_FILE, changeOneFile, writeCompanyRepo } from './company-repo.ts';
import { measure, type Timing } from './timing.ts';

const CHAINS = 1_000;

export default async function (): Promise<void> {
  const validated = mkdtempSync(join(tmpdir(), 'tessera-definitions-scale-'));
  const planned = mkdtempSync(join(tmpdir(), 'tessera-definitions-scale-'));
  try {
    const shape = await writeCompanyRepo(validated, CHAINS);
    await writeCompanyRepo(planned, CHAINS, 1);
    const read = await measure(() => readEveryFile(validated));
    const size = `${shape.tables.toLocaleString('en-US')} tables, ${shape.tasks.toLocaleString('en-US')} tasks, ${shape.files.toLocaleString('en-US')} files, ${shape.lineageEdges.toLocaleString('en-US')} lineage edges`;
    console.log(`definitions at scale: ${size}; baseline: reading the files with node:fs ${ms(read)}`);
    const line = (label: string, timing: Timing, target?: number) =>
      console.log(
        `  ${label}: ${ms(timing)} = ${(timing.wall / read.wall).toFixed(1)}x the read; cpu ${timing.cpu.toFixed(2)} s${target ? ` (target < ${target} s)` : ''}`,
      );

    line('validate (cold: no cache)', await measure(() => checkRepo({ repo: validated })), 3);
    await changeOneFile(validated, 1);
    line(
      `validate (warm: cache, ${CHANGED_FILE} changed)`,
      await measure(() => checkRepo({ repo: validated })),
      0.5,
    );

    let opened: Platform | undefined;
    const open = await measure(async () => (opened = await Platform.open({ repo: planned })));
    let platform = opened!;
    try {
      const plan = await measure(() => platform.plan());
      line('open (cold: load + graph + catalog)', open);
      line('plan (on the open platform, fresh catalog)', plan);
      line('open + plan (cold)', { wall: open.wall + plan.wall, cpu: open.cpu + plan.cpu }, 3);
      line('apply (plan + write, fresh catalog)', await measure(() => platform.apply()), 5);
      line('apply again (nothing to change)', await measure(() => platform.apply()));
    } finally {
      await platform.close();
    }
    await changeOneFile(planned, 1);
    const warm = await measure(async () => {
      platform = await Platform.open({ repo: planned });
      const plan = await platform.plan();
      if (plan.tables.changed.length !== 1) throw new Error('the warm plan should change one table');
    });
    await platform.close();
    line(`open + plan (warm: cache, applied catalog, ${CHANGED_FILE} changed)`, warm, 1);
  } finally {
    rmSync(validated, { recursive: true, force: true });
    rmSync(planned, { recursive: true, force: true });
  }
}

async function readEveryFile(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')),
  );
  return texts.reduce((total, text) => total + text.length, 0);
}

function ms(timing: Timing): string {
  return `${(timing.wall * 1000).toFixed(0)} ms`;
}
