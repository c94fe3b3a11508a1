import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { FileAccessError, UsageError, type Diagnostic } from '../diagnostics/index.ts';
import {
  DEFAULT_PAGERDUTY_EVENTS_URL,
  type NotificationSettings,
  type ProjectDef,
  type OpenLineageSettings,
  type S3Settings,
  type SourceLocation,
} from '../model/index.ts';
import { parseDuration } from './duration-parser.ts';
import { interpolateEnv, type SecretValue } from './env-interpolator.ts';
import { readYamlFile } from './yaml-file-reader.ts';
import { formatYamlPath, type YamlDocument } from './yaml-document.ts';

/** The project settings file at the root of a catalog repo. */
export const PROJECT_FILE = 'tessera.yaml';

/** Governance profiles the loader knows how to lint. */
export const GOVERNANCE_PROFILES = ['hipaa-safe-harbor'];

export interface ProjectSettings {
  project: ProjectDef;
  diagnostics: Diagnostic[];
  secrets: SecretValue[];
  /** True when `hash_key` was written as `${VAR}` with VAR unset (already reported as `missing-env`). */
  hashKeyVariableMissing: boolean;
}

/** Problems with the shape of the settings document (unknown keys, wrong types), each located. */
export type ProjectShapeCheck = (raw: Record<string, unknown>, document: YamlDocument) => Diagnostic[];

/**
 * Read `tessera.yaml` (optional: defaults apply without it), apply the TESSERA_CATALOG_URL,
 * TESSERA_STORAGE_URL and TESSERA_ENGINE overrides, and make `sqlite:`/`file:` paths absolute.
 * `checkShape` (the loader passes the zod document schema) reports shape problems; without it only
 * the values read here are checked, so a reader that needs the catalog URL alone stays light.
 */
export function loadProjectSettings(
  root: string,
  env: Readonly<Record<string, string | undefined>>,
  devMode: boolean,
  checkShape?: ProjectShapeCheck,
): ProjectSettings {
  const diagnostics: Diagnostic[] = [];
  const secrets: SecretValue[] = [];
  let document: YamlDocument | undefined;
  let raw: Record<string, unknown> = {};
  let hashKeyVariableMissing = false;

  const path = resolve(root, PROJECT_FILE);
  if (existsSync(path)) {
    const read = readYamlFile(PROJECT_FILE, readFileSync(path, 'utf8'));
    diagnostics.push(...read.diagnostics);
    document = read.documents[0];
    for (const extra of read.documents.slice(1)) {
      diagnostics.push({
        code: 'invalid-document',
        severity: 'error',
        message: `${PROJECT_FILE} holds one document; move other definitions to their own files`,
        at: extra.start,
      });
    }
  }
  if (document) {
    const { missing, used } = interpolateEnv(document, env);
    secrets.push(...used);
    const unset = new Set<string>();
    for (const variable of missing) {
      const location = document.locate(variable.path);
      unset.add(`${location.line}:${location.column}`);
      const isHashKey = variable.path.join('.') === 'governance.hash_key';
      hashKeyVariableMissing ||= isHashKey;
      const hint = isHashKey
        ? '; masked HASH values need it outside dev mode (until it is set, dev mode hashes with a random key this catalog generated for itself)'
        : variable.path.join('.') === 'notifications.smtp.url'
          ? '; email channels send through it: export it as `smtp://user:password@host:port` or `smtps://…`'
          : variable.path.join('.') === 'git.webhook_secret'
            ? "; `tessera serve --watch-git` checks push webhooks' signatures with it: export the secret set on the repository's webhook"
            : '';
      diagnostics.push({
        code: 'missing-env',
        severity: isHashKey && devMode ? 'warning' : 'error',
        message: `environment variable \`${variable.variable}\` is not set (used by \`${formatYamlPath(variable.path)}\` in ${PROJECT_FILE})${hint}`,
        at: location,
      });
    }
    const data = document.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      diagnostics.push({
        code: 'invalid-document',
        severity: 'error',
        message: `${PROJECT_FILE} must be a map of settings (name, catalog, storage, engine, orchestrator, governance, notifications, git, s3)`,
        at: document.start,
      });
    } else {
      raw = data as Record<string, unknown>;
      const shapeDiagnostics = checkShape?.(raw, document) ?? [];
      diagnostics.push(...shapeDiagnostics.filter((item) => !unset.has(`${item.at.line}:${item.at.column}`)));
    }
  }

  const at = (key: string[]): SourceLocation =>
    document?.locate(key) ?? { file: PROJECT_FILE, line: 1, column: 1 };
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  const governance = (raw.governance ?? {}) as Record<string, unknown>;

  const setting = (key: string, variable: string, fallback: string) => {
    const override = text(env[variable]);
    return override
      ? { value: override, source: `\`${variable}\``, at: { file: PROJECT_FILE, line: 1, column: 1 } }
      : { value: text(raw[key]) ?? fallback, source: `\`${key}\``, at: at([key]) };
  };

  const catalog = setting('catalog', 'TESSERA_CATALOG_URL', 'sqlite:.tessera/catalog.db');
  const storage = setting('storage', 'TESSERA_STORAGE_URL', 'file:.tessera/warehouse');
  const engine = setting('engine', 'TESSERA_ENGINE', 'duckdb');

  const catalogUrl = normalizeLocation(catalog.value, 'sqlite', root);
  if (!catalogUrl) {
    diagnostics.push({
      code: 'invalid-value',
      severity: 'error',
      message: `${catalog.source} must be \`sqlite:PATH\` or \`postgres://user@host:5432/db\``,
      at: catalog.at,
    });
  }
  // Backends the spec names but this version does not have: refused here, so nothing silently
  // runs on the embedded default instead of what the settings ask for.
  const storageUrl = normalizeLocation(storage.value, 'file', root);
  const s3Storage = /^s3:\/\//i.test(storage.value);
  if (s3Storage && !isS3StorageUrl(storage.value)) {
    diagnostics.push({
      code: 'invalid-value',
      severity: 'error',
      message: `${storage.source} \`${storage.value.split(/[?#]/)[0]}\` is not an S3 location: write \`s3://bucket\` or \`s3://bucket/prefix\` (a bucket name of 3–63 lowercase letters, digits, dots and hyphens; a prefix of \`/\`-separated folders)`,
      at: storage.at,
    });
  } else if (!s3Storage && !storageUrl) {
    diagnostics.push({
      code: 'invalid-value',
      severity: 'error',
      message: `${storage.source} must be \`file:PATH\` (local files) or \`s3://bucket/prefix\` (an S3 bucket, reached with the \`s3:\` settings)`,
      at: storage.at,
    });
  }
  // `duckdb` (embedded) or a PostgreSQL server; projection SQL for the latter is held to the
  // portable subset (`portable-sql-linter.ts`).
  if (!isPostgresUrl(engine.value) && engine.value !== 'duckdb') {
    diagnostics.push({
      code: 'invalid-value',
      severity: 'error',
      message: `${engine.source} must be \`duckdb\` (the default, embedded) or \`postgres://user@host:5432/db\` (a PostgreSQL database the team runs)`,
      at: engine.at,
    });
  }
  // Workers share the run queue through the catalog: an embedded SQLite file cannot be shared.
  if (raw.orchestrator === 'workers' && catalogUrl && !isPostgresUrl(catalogUrl)) {
    diagnostics.push({
      code: 'invalid-value',
      severity: 'error',
      message: `\`orchestrator: workers\` needs a PostgreSQL catalog (runs are jobs in its queue, shared by every \`tessera worker\`); ${catalog.source} is \`${catalog.value}\`: set it to \`postgres://user@host:5432/db\`, or use \`orchestrator: local\``,
      at: at(['orchestrator']),
    });
  }

  const profile = text(governance.profile);
  if (profile && !GOVERNANCE_PROFILES.includes(profile)) {
    diagnostics.push({
      code: 'unknown-profile',
      severity: 'error',
      message: `unknown governance profile \`${profile}\`; known profiles: ${GOVERNANCE_PROFILES.join(', ')}`,
      at: at(['governance', 'profile']),
    });
  }
  const hashKey = text(governance.hash_key);
  // A bad value is reported by the document schema; only the strings are kept.
  const auditors = Array.isArray(governance.auditors)
    ? governance.auditors.filter((name): name is string => typeof name === 'string' && name.trim() !== '')
    : [];
  const orchestrator = raw.orchestrator === 'workers' ? 'workers' : 'local';
  // A bad value is reported by the document schema, with its line and column.
  const queryTimeoutMs =
    typeof governance.query_timeout === 'string' ? parseDuration(governance.query_timeout) : undefined;

  const webhookSecret = text(asRecord(raw.git).webhook_secret);
  // A secret written into tessera.yaml is committed for all to read: only `${VAR}` is accepted.
  if (webhookSecret !== undefined && !secrets.some((secret) => secret.value === webhookSecret)) {
    diagnostics.push({
      code: 'plain-secret',
      severity: 'error',
      message:
        '`git.webhook_secret` is written in tessera.yaml, where everyone who can read the repo sees it; give it as `${VAR}` (e.g. `webhook_secret: ${TESSERA_WEBHOOK_SECRET}`) and export the variable where `tessera serve` runs',
      at: at(['git', 'webhook_secret']),
    });
  }

  const openLineage = openLineageSettings(asRecord(asRecord(raw.lineage).openlineage), env, secrets);
  if (openLineage.plainApiKey) {
    diagnostics.push({
      code: 'plain-secret',
      severity: 'error',
      message:
        '`lineage.openlineage.api_key` is written in tessera.yaml, where everyone who can read the repo sees it; give it as `${VAR}` (e.g. `api_key: ${OPENLINEAGE_API_KEY}`) and export the variable where runs happen',
      at: at(['lineage', 'openlineage', 'api_key']),
    });
  }

  const project: ProjectDef = {
    name: text(raw.name) ?? basename(root),
    catalog: catalogUrl ?? catalog.value,
    storage: storageUrl ?? storage.value,
    engine: engine.value,
    orchestrator,
    governance: {
      ...(profile ? { profile } : {}),
      ...(hashKey ? { hashKey } : {}),
      ...(queryTimeoutMs !== undefined && queryTimeoutMs > 0 ? { queryTimeoutMs } : {}),
      ...(auditors.length > 0 ? { auditors } : {}),
    },
    notifications: notificationSettings(raw.notifications),
    ...(webhookSecret !== undefined ? { git: { webhookSecret } } : {}),
    ...s3Settings(raw.s3),
    ...(openLineage.settings ? { lineage: { openlineage: openLineage.settings } } : {}),
    root,
  };
  return { project, diagnostics, secrets, hashKeyVariableMissing };
}

/**
 * `notifications:` → `NotificationSettings`. Bad values are reported by the document schema with
 * their line and column; here they are only left out (a reader without the schema stays light).
 */
function notificationSettings(raw: unknown): NotificationSettings {
  const section = asRecord(raw);
  const smtp = asRecord(section.smtp);
  const reminders = asRecord(section.reminders);
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  const smtpUrl = text(smtp.url);
  const from = text(smtp.from);
  const uiUrl = text(section.ui_url);
  const reminderEveryMs = typeof reminders.every === 'string' ? parseDuration(reminders.every) : undefined;
  return {
    ...(smtpUrl && from ? { smtp: { url: smtpUrl, from } } : {}),
    pagerdutyEventsUrl: text(asRecord(section.pagerduty).events_url) ?? DEFAULT_PAGERDUTY_EVENTS_URL,
    // Without its trailing slash, so a table's page is always `${uiUrl}/tables/${table}`.
    ...(uiUrl ? { uiUrl: uiUrl.replace(/\/+$/, '') } : {}),
    ...(reminderEveryMs !== undefined && reminderEveryMs > 0 ? { reminderEveryMs } : {}),
  };
}

/**
 * `lineage.openlineage:` → `OpenLineageSettings`, with the OpenLineage clients' environment
 * overrides: `OPENLINEAGE_URL` (+ `OPENLINEAGE_ENDPOINT`, default `api/v1/lineage`),
 * `OPENLINEAGE_NAMESPACE`, `OPENLINEAGE_API_KEY` (kept with the secrets, so never stored). Bad
 * values are reported by the document schema and left out here.
 */
function openLineageSettings(
  section: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  secrets: SecretValue[],
): { settings?: OpenLineageSettings; plainApiKey: boolean } {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  const envUrl = text(env.OPENLINEAGE_URL);
  const url = envUrl
    ? `${envUrl.replace(/\/+$/, '')}/${(text(env.OPENLINEAGE_ENDPOINT) ?? 'api/v1/lineage').replace(/^\/+/, '')}`
    : text(section.url);
  const namespace =
    text(env.OPENLINEAGE_NAMESPACE) ?? text(section.namespace) ?? (envUrl ? 'tessera' : undefined);
  const writtenKey = text(section.api_key);
  const envKey = text(env.OPENLINEAGE_API_KEY);
  if (envKey) secrets.push({ variable: 'OPENLINEAGE_API_KEY', value: envKey });
  const plainApiKey = writtenKey !== undefined && !secrets.some((secret) => secret.value === writtenKey);
  const apiKey = envKey ?? (plainApiKey ? undefined : writtenKey);
  const timeoutMs = typeof section.timeout === 'string' ? parseDuration(section.timeout) : undefined;
  if (!url || !/^https?:\/\//i.test(url) || !namespace) return { plainApiKey };
  return {
    settings: {
      url,
      namespace,
      ...(apiKey ? { apiKey } : {}),
      ...(timeoutMs !== undefined && timeoutMs > 0 ? { timeoutMs } : {}),
    },
    plainApiKey,
  };
}

/** `s3:` → `S3Settings`; bad values are reported by the document schema and left out here. */
function s3Settings(raw: unknown): { s3?: S3Settings } {
  if (raw === undefined) return {};
  const section = asRecord(raw);
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  const endpoint = text(section.endpoint);
  const region = text(section.region);
  return {
    s3: {
      ...(endpoint ? { endpoint } : {}),
      ...(region ? { region } : {}),
      ...(typeof section.path_style === 'boolean' ? { pathStyle: section.path_style } : {}),
    },
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `sqlite:rel` → `sqlite:/abs/rel` (or `file:`); a `postgres://` catalog URL passes through. */
function normalizeLocation(value: string, scheme: 'sqlite' | 'file', root: string): string | undefined {
  if (scheme === 'sqlite' && isPostgresUrl(value)) return value;
  const prefix = `${scheme}:`;
  if (!value.startsWith(prefix)) return undefined;
  let path = value.slice(prefix.length);
  if (path === ':memory:') return value;
  if (path.startsWith('//')) path = path.replace(/^\/\/(localhost)?/, '');
  if (path === '') return undefined;
  return `${prefix}${isAbsolute(path) ? path : resolve(root, path)}`;
}

/** `s3://bucket` or `s3://bucket/prefix` (the same rule as storage's `parseS3StorageUrl`). */
function isS3StorageUrl(value: string): boolean {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([^?#]*))?$/.exec(value);
  if (!match) return false;
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  return (
    !prefix.startsWith('/') &&
    !prefix.includes('//') &&
    !prefix.split('/').some((part) => part === '.' || part === '..')
  );
}

/** True for a `postgres://` (or `postgresql://`) URL: a catalog or an engine on a PostgreSQL server. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//.test(value);
}

/** The repo must be a folder: a missing path or a file is a usage error naming it, not a crash. */
export async function requireRepoFolder(root: string): Promise<void> {
  const hint = 'pass --repo with the folder that holds tessera.yaml, or create one with `tessera init DIR`';
  let isFolder: boolean;
  try {
    isFolder = (await stat(root)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`the catalog repo ${root} does not exist; ${hint}`);
    if (code === 'ENOTDIR') throw new UsageError(`the catalog repo ${root} is not a folder; ${hint}`);
    throw new FileAccessError(`cannot read the catalog repo ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isFolder) throw new UsageError(`the catalog repo ${root} is a file, not a folder; ${hint}`);
}
