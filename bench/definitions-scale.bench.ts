// Definitions at the scale of a company: `validate`, `plan` and `apply` on a generated repo of
// 1,000 ingestions each feeding a chain of four projections (5,000 tables, 5,000 tasks), on a
// fresh SQLite catalog. Baseline, side by side in this process: reading the same files with
// node:fs. Goal: apply under 5 s cold. Each step is measured once, in the order a user runs them.
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRepo, Platform } from '../src/platform.ts';
import { writeCompanyRepo } from './company-repo.ts';
import { measure, type Timing } from './timing.ts';

const CHAINS = 1_000;
const APPLY_TARGET_SECONDS = 5;

export default async function (): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), 'tessera-definitions-scale-'));
  try {
    const shape = await writeCompanyRepo(repo, CHAINS);
    const read = await measure(() => readEveryFile(repo));
    const validate = await measure(() => checkRepo({ repo }));
    let opened: Platform | undefined;
    const open = await measure(async () => (opened = await Platform.open({ repo })));
    const platform = opened!;
    try {
      const plan = await measure(() => platform.plan());
      const apply = await measure(() => platform.apply());
      const again = await measure(() => platform.apply());
      const size = `${shape.tables.toLocaleString('en-US')} tables, ${shape.tasks.toLocaleString('en-US')} tasks, ${shape.files.toLocaleString('en-US')} files, ${shape.lineageEdges.toLocaleString('en-US')} lineage edges`;
      console.log(`definitions at scale: ${size}; baseline: reading the files with node:fs ${ms(read)}`);
      const line = (label: string, timing: Timing, note = '') =>
        console.log(
          `  ${label}: ${ms(timing)} = ${(timing.wall / read.wall).toFixed(0)}x the read; cpu ${timing.cpu.toFixed(2)} s${note}`,
        );
      line('validate (load + check, cold)', validate);
      line('open (load + graph + catalog)', open);
      line('plan (fresh catalog)', plan);
      line('apply (plan + write, fresh catalog)', apply, ` (target < ${APPLY_TARGET_SECONDS} s)`);
      line('apply again (nothing to change)', again);
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
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
