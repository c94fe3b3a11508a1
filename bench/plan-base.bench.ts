// `plan --base REV` at the scale of a company: the generated repo of 1,000 ingestion chains
// (5,000 tables, 5,000 tasks) committed to Git, one YAML file changed in the working tree, then
// planned against the commit. It loads both sides (the base from Git into a temporary folder,
// never cached) and resolves every role's access to every table on both sides. Baseline, in this
// process: `validate` of the working tree with a warm cache, which every PR check runs anyway.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRepo, planAgainstRevision } from '../src/platform.ts';
import { changeOneFile, writeCompanyRepo } from './company-repo.ts';
import { measure, type Timing } from './timing.ts';

const CHAINS = 1_000;

export default async function (): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), 'tessera-plan-base-bench-'));
  try {
    const shape = await writeCompanyRepo(repo, CHAINS);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', ...args], {
        cwd: repo,
        stdio: 'ignore',
      });
    git('init', '--quiet', '--initial-branch=main');
    git('add', '--all');
    git('commit', '--quiet', '-m', 'base');
    await checkRepo({ repo }); // The working tree's cache, as a developer's or CI's earlier validate leaves it.
    await changeOneFile(repo, 1);
    const validate = await measure(() => checkRepo({ repo }));
    let changed = -1;
    const planned = await measure(async () => {
      const plan = await planAgainstRevision({ repo, revision: 'main' });
      changed = plan.tables.changed.length;
    });
    if (changed !== 1) throw new Error(`the plan should change one table, not ${changed}`);
    const ms = (timing: Timing) => `${timing.wall.toFixed(2)} s`;
    console.log(
      `plan --base at scale: ${shape.tables.toLocaleString('en-US')} tables, ${shape.tasks.toLocaleString('en-US')} tasks, one file changed`,
    );
    console.log(`  validate (warm cache, baseline): ${ms(validate)}`);
    console.log(
      `  plan --base main: ${ms(planned)} = ${(planned.wall / validate.wall).toFixed(1)}x validate; cpu ${planned.cpu.toFixed(2)} s`,
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}
