import type { Command } from 'commander';
import type { SyncStatus } from '../model/index.ts';
import { globalOptions, print, withCatalog } from './cli-context.ts';

/** `sync status`: Git sync's state (SPEC §6). */
export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('Git sync (`tessera serve --watch-git`)');
  sync
    .command('status')
    .description('the active commit, the newest commit seen, and the last refused commit')
    .action(async (_flags, command: Command) => {
      const options = globalOptions(command);
      await withCatalog(options, async (catalog) => {
        const status = await catalog.syncStatus();
        print(options, status, () => formatSyncStatus(status));
      });
    });
}

function formatSyncStatus(status: SyncStatus): string {
  if (!status.activeCommit && !status.seenCommit && !status.lastRefusal) {
    return 'no Git sync yet: start one with `tessera serve --watch-git REMOTE[#BRANCH]`';
  }
  const lines = [
    `active commit: ${status.activeCommit ?? 'none'}${status.activatedAt ? ` (applied ${status.activatedAt})` : ''}`,
    `newest seen:   ${status.seenCommit ?? 'none'}${status.seenAt ? ` (fetched ${status.seenAt}${status.source ? ` from ${status.source}` : ''})` : ''}`,
  ];
  const refusal = status.lastRefusal;
  if (!refusal) {
    lines.push('last refusal:  none');
  } else {
    lines.push(
      `last refusal:  ${refusal.commit} by ${refusal.authorName} <${refusal.authorEmail}> at ${refusal.refusedAt}`,
      ...refusal.reason.split('\n').map((line) => `  ${line}`),
    );
  }
  return lines.join('\n');
}
