import { Option, type Command } from 'commander';
import { formatDiagnostic, hasErrors } from '../diagnostics/diagnostic.ts';
import { formatPlan, formatPlanMarkdown, type Plan } from '../catalog/plan.ts';
import { globalOptions, print, warnAboutHashKey, withPlatform } from './cli-context.ts';

type PlanFormat = 'text' | 'markdown' | 'json';

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
      'what `apply` would change: tables, tasks, roles, breaking schema changes, downstream impact; ' +
        'exits 1 when `apply` would refuse',
    )
    .addOption(
      new Option(
        '--base <rev>',
        'compare with Git revision REV (branch, tag or commit) instead of the catalog, as a pull-request check: ' +
          'opens no catalog and writes nothing',
      ),
    )
    .addOption(
      new Option('--format <format>', 'output format (default: text; json as with --json)').choices([
        'text',
        'markdown',
        'json',
      ]),
    )
    .action(async (flags: { base?: string; format?: PlanFormat }, command: Command) => {
      const options = globalOptions(command);
      const format: PlanFormat = options.json ? 'json' : (flags.format ?? 'text');
      const show = (plan: Plan) => {
        if (format === 'json') console.log(JSON.stringify(plan, null, 2));
        else console.log(format === 'markdown' ? formatPlanMarkdown(plan).trimEnd() : formatPlan(plan));
        if (plan.refusals.length > 0) process.exitCode = 1;
      };
      if (flags.base !== undefined) {
        const { planAgainstRevision } = await import('../platform.ts');
        show(await planAgainstRevision({ repo: options.repo, revision: flags.base }));
        return;
      }
      await withPlatform(options, async (platform) => {
        warnAboutHashKey(platform);
        show(await platform.plan());
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
