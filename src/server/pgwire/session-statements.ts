/**
 * Statements answered by the connection itself, never by the engine (and so never audited: they
 * read no data): `SET`, `SHOW`, `RESET`, `DISCARD`, `DEALLOCATE`, transaction control (the surface
 * is read-only, so a transaction only changes the status byte), and the few session functions
 * drivers ask for on connecting (`SELECT version()`, `current_schema()`…).
 */

/** PostgreSQL's server version as drivers parse it: 15.x, so psql 15 and JDBC pick their 15 queries. */
export const SERVER_VERSION = '15.0 (Tessera)';
export const SERVER_VERSION_NUM = '150000';

/** Settings a session starts with; `SHOW` answers them and `SET` overrides them for the connection. */
export function defaultSettings(startup: Record<string, string>): Map<string, string> {
  return new Map(
    Object.entries({
      server_version: SERVER_VERSION,
      server_version_num: SERVER_VERSION_NUM,
      server_encoding: 'UTF8',
      client_encoding: 'UTF8',
      datestyle: 'ISO, MDY',
      intervalstyle: 'postgres',
      integer_datetimes: 'on',
      timezone: 'UTC',
      standard_conforming_strings: 'on',
      application_name: startup.application_name ?? '',
      is_superuser: 'off',
      session_authorization: startup.user ?? '',
      transaction_isolation: 'read committed',
      default_transaction_isolation: 'read committed',
      transaction_read_only: 'on',
      default_transaction_read_only: 'on',
      search_path: '"$user", public',
      max_identifier_length: '63',
      extra_float_digits: '1',
      lc_collate: 'C',
      lc_ctype: 'C',
      lc_messages: 'C',
      lc_monetary: 'C',
      lc_numeric: 'C',
      lc_time: 'C',
      bytea_output: 'hex',
      statement_timeout: '0',
      in_hot_standby: 'off',
    }),
  );
}

/** How PostgreSQL spells the settings it reports in ParameterStatus. */
export const REPORTED_SETTINGS: Record<string, string> = {
  server_version: 'server_version',
  server_encoding: 'server_encoding',
  client_encoding: 'client_encoding',
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  integer_datetimes: 'integer_datetimes',
  timezone: 'TimeZone',
  standard_conforming_strings: 'standard_conforming_strings',
  application_name: 'application_name',
  is_superuser: 'is_superuser',
  session_authorization: 'session_authorization',
  default_transaction_read_only: 'default_transaction_read_only',
  in_hot_standby: 'in_hot_standby',
};

/** What a session statement does; `undefined` from `sessionStatementOf` means "not one: run it". */
export type SessionStatement =
  | { kind: 'set'; name: string; value: string | undefined }
  | { kind: 'show'; name: string }
  | { kind: 'reset'; name: string | undefined }
  | { kind: 'begin'; tag: 'BEGIN' | 'START TRANSACTION' }
  | { kind: 'commit'; tag: 'COMMIT' }
  | { kind: 'rollback' }
  | { kind: 'ignored'; tag: string }
  | { kind: 'function'; column: string; value: (context: SessionContext) => string };

/** What the session functions answer from. */
export interface SessionContext {
  user: string;
  database: string;
  processId: number;
  settings: Map<string, string>;
}

/** Text of a statement with comments removed and whitespace collapsed, for matching. */
function normalize(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/;$/, '')
    .trim();
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith("'") && trimmed.endsWith("'")) return trimmed.slice(1, -1).replaceAll("''", "'");
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1).replaceAll('""', '"');
  return trimmed;
}

const SESSION_FUNCTIONS: Record<string, (context: SessionContext) => string> = {
  version: () => `PostgreSQL ${SERVER_VERSION_NUM.slice(0, 2)}.0 (Tessera governed SQL over DuckDB)`,
  current_schema: () => 'public',
  current_database: (context) => context.database,
  current_user: (context) => context.user,
  session_user: (context) => context.user,
  user: (context) => context.user,
  current_role: (context) => context.user,
  pg_backend_pid: (context) => String(context.processId),
};

/** The statement as a session statement, or undefined when it must be run (or introspected). */
export function sessionStatementOf(sql: string): SessionStatement | undefined {
  const text = normalize(sql);
  const lower = text.toLowerCase();

  const set = /^set\s+(?:session\s+|local\s+)?([a-z_][a-z0-9_.]*)\s*(?:=|\bto\b)\s*(.+)$/i.exec(text);
  if (set) {
    const value = unquote(set[2]!);
    return { kind: 'set', name: set[1]!.toLowerCase(), value: /^default$/i.test(value) ? undefined : value };
  }
  const timeZone = /^set\s+(?:session\s+|local\s+)?time\s+zone\s+(.+)$/i.exec(text);
  if (timeZone) return { kind: 'set', name: 'timezone', value: unquote(timeZone[1]!) };
  if (/^set\s+(session\s+characteristics|transaction)\b/i.test(text)) return { kind: 'ignored', tag: 'SET' };
  if (/^set\s+(session\s+)?(role|session\s+authorization)\b/i.test(text)) return undefined;

  const show = /^show\s+(.+)$/i.exec(text);
  if (show) {
    const name = show[1]!.toLowerCase().replace(/\s+/g, ' ');
    return {
      kind: 'show',
      name:
        name === 'time zone'
          ? 'timezone'
          : name === 'transaction isolation level'
            ? 'transaction_isolation'
            : name,
    };
  }
  const reset = /^reset\s+(.+)$/i.exec(text);
  if (reset) return { kind: 'reset', name: /^all$/i.test(reset[1]!) ? undefined : reset[1]!.toLowerCase() };

  if (
    /^begin(\s+(work|transaction))?(\s+(isolation level .*|read only|read write|(not )?deferrable)[\s,]*)*$/i.test(
      text,
    )
  )
    return { kind: 'begin', tag: 'BEGIN' };
  if (/^start transaction\b/i.test(text)) return { kind: 'begin', tag: 'START TRANSACTION' };
  if (/^(commit|end)(\s+(work|transaction))?(\s+and\s+(no\s+)?chain)?$/i.test(text))
    return { kind: 'commit', tag: 'COMMIT' };
  if (/^(rollback|abort)(\s+(work|transaction))?(\s+and\s+(no\s+)?chain)?$/i.test(text))
    return { kind: 'rollback' };
  if (lower === 'discard all') return { kind: 'ignored', tag: 'DISCARD ALL' };
  if (/^discard\s+(plans|sequences|temp|temporary)$/.test(lower))
    return { kind: 'ignored', tag: `DISCARD ${lower.split(' ')[1]!.toUpperCase()}` };
  if (/^deallocate(\s+prepare)?\s+all$/.test(lower)) return { kind: 'ignored', tag: 'DEALLOCATE ALL' };
  if (/^deallocate(\s+prepare)?\s+\S+$/.test(lower)) return { kind: 'ignored', tag: 'DEALLOCATE' };
  if (/^(savepoint|release(\s+savepoint)?)\s+\S+$/.test(lower))
    return { kind: 'ignored', tag: lower.startsWith('savepoint') ? 'SAVEPOINT' : 'RELEASE' };
  if (/^rollback\s+to\s+(savepoint\s+)?\S+$/.test(lower)) return { kind: 'ignored', tag: 'ROLLBACK' };
  if (/^listen\s|^unlisten\s/.test(lower))
    return { kind: 'ignored', tag: lower.startsWith('listen') ? 'LISTEN' : 'UNLISTEN' };

  const call =
    /^select\s+(?:pg_catalog\.)?([a-z_]+)(\(\s*\))?(?:\s+(?:as\s+)?("?[a-z_][a-z0-9_]*"?))?$/i.exec(text);
  if (call) {
    const name = call[1]!.toLowerCase();
    const parenthesized = call[2] !== undefined;
    const bare = ['current_user', 'session_user', 'user', 'current_role', 'current_schema'].includes(name);
    const fn = SESSION_FUNCTIONS[name];
    if (fn && (parenthesized || bare))
      return { kind: 'function', column: call[3] ? unquote(call[3]) : name, value: fn };
  }
  const setting =
    /^select\s+(?:pg_catalog\.)?current_setting\(\s*'([^']+)'\s*(?:,\s*(?:true|false)\s*)?\)(?:\s+(?:as\s+)?("?[a-z_][a-z0-9_]*"?))?$/i.exec(
      text,
    );
  if (setting) {
    const name = setting[1]!.toLowerCase();
    return {
      kind: 'function',
      column: setting[2] ? unquote(setting[2]) : 'current_setting',
      value: (context) => context.settings.get(name) ?? '',
    };
  }
  return undefined;
}

/** Whether a statement is empty: only whitespace, comments and semicolons. */
export function isEmptyStatement(sql: string): boolean {
  return normalize(sql).replace(/;/g, '').trim() === '';
}

/**
 * Split a Query message's text into statements at top-level semicolons, skipping string literals,
 * quoted identifiers, dollar-quoted strings and comments. Empty statements are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let index = 0;
  while (index < sql.length) {
    const char = sql[index]!;
    const next = sql[index + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? sql.length : end + 1;
    } else if (char === '/' && next === '*') {
      let depth = 1;
      index += 2;
      while (index < sql.length && depth > 0) {
        if (sql[index] === '/' && sql[index + 1] === '*') {
          depth += 1;
          index += 2;
        } else if (sql[index] === '*' && sql[index + 1] === '/') {
          depth -= 1;
          index += 2;
        } else index += 1;
      }
    } else if (char === "'" || char === '"') {
      index += 1;
      while (index < sql.length) {
        if (sql[index] === char) {
          if (sql[index + 1] === char) index += 2;
          else break;
        } else index += 1;
      }
      index += 1;
    } else if (char === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, index + tag.length);
        index = end === -1 ? sql.length : end + tag.length;
      } else index += 1;
    } else if (char === ';') {
      const statement = sql.slice(start, index);
      if (!isEmptyStatement(statement)) statements.push(statement.trim());
      index += 1;
      start = index;
    } else index += 1;
  }
  const last = sql.slice(start);
  if (!isEmptyStatement(last)) statements.push(last.trim());
  return statements;
}

/** Statement keywords that write or change state: refused as a read-only transaction would. */
export const WRITE_KEYWORDS: ReadonlySet<string> = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
  'COPY',
  'GRANT',
  'REVOKE',
  'COMMENT',
  'VACUUM',
  'ANALYZE',
  'REINDEX',
  'CLUSTER',
  'REFRESH',
  'ATTACH',
  'DETACH',
  'INSTALL',
  'LOAD',
  'IMPORT',
  'EXPORT',
  'CHECKPOINT',
  'CALL',
  'DO',
  'LOCK',
  'PRAGMA',
]);
