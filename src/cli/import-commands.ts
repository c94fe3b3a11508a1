import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../diagnostics/errors.ts';

/** `import dbt`: a dbt project → a catalog repo (docs/dbt-import.md). */
export function registerImportCommands(program: Command): void {
  const importCommand = program
    .command('import')
    .description('write a catalog repo from another tool’s project');
  importCommand
    .command('dbt')
    .description('write a catalog repo to --out from a dbt project: seeds, sources, models, tests')
    .argument('<dbt_project_dir>', 'the folder holding dbt_project.yml')
    .requiredOption('--out <dir>', 'where to write the catalog repo (a new or empty folder)')
    .option('--namespace <name>', 'namespace of models and seeds without a schema config', 'dbt')
    .action(async (dir: string, flags: { out: string; namespace: string }) => {
      if (!existsSync(join(dir, 'dbt_project.yml')))
        throw new UsageError(`${dir} holds no dbt_project.yml; name the dbt project's folder`);
      if (!/^[a-z][a-z0-9_]*$/.test(flags.namespace))
        throw new UsageError(`--namespace ${flags.namespace}: use lower-case letters, digits and _`);
      const { Platform } = await import('../platform.ts');
      const result = await Platform.importDbt(resolve(dir), resolve(flags.out), {
        namespace: flags.namespace,
      });
      console.log(result.summary.replace(resolve(flags.out), flags.out));
    });
}
