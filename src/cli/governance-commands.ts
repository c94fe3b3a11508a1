import type { Command } from 'commander';
import { parseDuration } from '../definitions/duration-parser.ts';
import { UsageError } from '../diagnostics/errors.ts';
import type { AccessTokenInfo, QueryAuditEntry } from '../governance/index.ts';
import { globalOptions, positiveIntegerFlag, print, withCatalog, withPlatform } from './cli-context.ts';
import { textTable } from './output-format.ts';

/** How long a token lives when `--expires-in` is not given. */
const DEFAULT_TOKEN_LIFETIME = '90d';

/** `token create|list|revoke` and `audit`. */
export function registerGovernanceCommands(program: Command): void {
  const token = program
    .command('token')
    .description('API and pgwire tokens: each acts as one declared principal; only its hash is stored');

  token
    .command('create')
    .description('create a token for a principal and print it once')
    .requiredOption('--principal <name>', 'the declared principal the token acts as')
    .option(
      '--expires-in <duration>',
      `lifetime, e.g. 12h, 30d (default ${DEFAULT_TOKEN_LIFETIME}); \`never\` for no expiry`,
      DEFAULT_TOKEN_LIFETIME,
    )
    .action(async (flags: { principal: string; expiresIn: string }, command: Command) => {
      const options = globalOptions(command);
      const lifetime = parseLifetime(flags.expiresIn);
      await withPlatform(options, async (platform) => {
        const created = await platform.tokens.create(flags.principal, lifetime);
        print(options, { token: created.token, ...created.info }, () =>
          [
            created.token,
            '',
            `token ${created.info.id} for ${created.info.principal}, ${created.info.expiresAt ? `expires ${created.info.expiresAt}` : 'never expires'}.`,
            'Store it now: it is not shown again (the catalog keeps only its hash).',
          ].join('\n'),
        );
      });
    });

  token
    .command('list')
    .description('every token, newest first, without secrets')
    .action(async (_flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        const tokens = await platform.tokens.list();
        print(options, tokens, () => formatTokens(tokens));
      });
    });

  token
    .command('revoke')
    .description('revoke a token by id: it is refused from then on')
    .argument('<id>', 'the token id, as `tessera token list` shows it')
    .action(async (id: string, _flags, command: Command) => {
      const options = globalOptions(command);
      await withPlatform(options, async (platform) => {
        await platform.tokens.revoke(id);
        print(options, { id, status: 'revoked' }, () => `revoked token ${id}`);
      });
    });

  program
    .command('audit')
    .description(
      'the query audit log, newest first: who queried what, masks and filters applied, allowed or not',
    )
    .option('--principal <name>', 'only this principal')
    .option('--limit <n>', 'at most this many entries', '50')
    .action(async (flags: { principal?: string; limit: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = positiveIntegerFlag('--limit', flags.limit);
      await withCatalog(options, async (catalog) => {
        const entries = await catalog.auditLog({ principal: flags.principal, limit });
        print(options, entries, () => formatAudit(entries));
      });
    });
}

function parseLifetime(text: string): number | undefined {
  if (text.trim().toLowerCase() === 'never') return undefined;
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined || milliseconds <= 0) {
    throw new UsageError(`--expires-in must be a duration like 12h or 30d, or \`never\`, not ${text}`);
  }
  return milliseconds;
}

function formatTokens(tokens: AccessTokenInfo[]): string {
  if (tokens.length === 0) return 'no tokens; create one with `tessera token create --principal NAME`';
  return textTable(
    ['id', 'principal', 'status', 'created', 'expires', 'revoked'],
    tokens.map((token) => [
      token.id,
      token.principal,
      token.status,
      token.createdAt,
      token.expiresAt ?? 'never',
      token.revokedAt ?? '',
    ]),
  );
}

/** One block per query: the header line, the SQL, then what governance did. */
function formatAudit(entries: QueryAuditEntry[]): string {
  if (entries.length === 0) return 'no queries audited yet';
  return entries
    .map((entry) => {
      const rows = entry.rowsReturned !== undefined ? `, ${entry.rowsReturned} rows` : '';
      const token = entry.tokenId ? ` (token ${entry.tokenId})` : '';
      const lines = [
        `${entry.at}  ${entry.principal}${token}  ${entry.outcome.toUpperCase()}${rows}, ${Math.round(entry.durationMs)} ms`,
        `  sql: ${entry.sql.replace(/\s+/g, ' ').trim()}`,
      ];
      if (entry.reason) lines.push(`  reason: ${entry.reason.replace(/\s+/g, ' ')}`);
      if (entry.tables.length > 0) lines.push(`  tables: ${entry.tables.join(', ')}`);
      if (entry.columns.length > 0) {
        lines.push(
          `  columns: ${entry.columns.map((column) => `${column.table}.${column.column}`).join(', ')}`,
        );
      }
      if (entry.masks.length > 0) {
        lines.push(
          `  masks: ${entry.masks.map((mask) => `${mask.table}.${mask.column} ${mask.mask}`).join(', ')}`,
        );
      }
      for (const filter of entry.rowFilters) lines.push(`  row filter: ${filter.table}: ${filter.filter}`);
      return lines.join('\n');
    })
    .join('\n\n');
}
