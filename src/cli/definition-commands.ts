import type { Command } from 'commander';
import { formatDiagnostic, hasErrors } from '../diagnostics/diagnostic.ts';
import { formatPlan } from '../catalog/plan.ts';
import { globalOptions, print, warnAboutHashKey, withPlatform } from './cli-context.ts';

/** `validate`, `plan`, `apply`: the definitions and the catalog. */
export function registerDefinitionCommands(program: Command): void {
  program
    .command('validate')
    .description('parse and lint the catalog repo; prints path:line:col: error CODE: message')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      const { checkRepo } = await import('../platform.ts');
      const { diagnostics } = await checkRepo({ repo: options.repo });
      print(options, diagnostics, () =>
        diagnostics.length === 0 ? 'ok: no problems found' : diagnostics.map(formatDiagnostic).join('\n'),
      );
      if (hasErrors(diagnostics)) process.exitCode = 2;
    });

  program
    .command('plan')
    .description(
      'what `apply` would change: tables, tasks, roles, breaking schema changes, downstream impact',
    )
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        warnAboutHashKey(platform);
        const plan = await platform.plan();
        print(options, plan, () => formatPlan(plan));
        if (plan.refusals.length > 0) process.exitCode = 1;
      });
    });

  program
    .command('apply')
    .description('register the definitions in the catalog (idempotent)')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        warnAboutHashKey(platform);
        const plan = await platform.apply();
        print(options, plan, () =>
          plan.isEmpty ? 'catalog is up to date: nothing to apply' : `${formatPlan(plan)}\napplied.`,
        );
      });
    });
}
