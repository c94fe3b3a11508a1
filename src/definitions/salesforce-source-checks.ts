import type { SourceLocation } from '../model/index.ts';
import { fromVariable } from './database-source-linter.ts';
import type { SecretValue } from './env-interpolator.ts';
import type { YamlDocument } from './yaml-document.ts';

/** The keys a salesforce source needs, with what a value looks like. */
const REQUIRED_KEYS: readonly (readonly [key: string, example: string])[] = [
  ['object', 'the object read, e.g. `Account` or `Patient__c`'],
  ['username', 'e.g. `${SF_USER}`'],
  ['password', 'the password followed by the security token, e.g. `${SF_PASSWORD}`'],
];
/** The keys of salesforce sources only. */
const SALESFORCE_KEYS = [
  'object',
  'fields',
  'login_url',
  'username',
  'password',
  'client_id',
  'client_secret',
  'api_version',
  'bulk',
  'bulk_threshold',
];
/** Keys of a salesforce source that hold secrets. */
const SECRET_KEYS = ['password', 'client_secret'];

/**
 * A task's `source` checked for what a salesforce source needs: an `object`, a `username` and a
 * `password` (from `${VAR}`), a `client_secret` (from `${VAR}`) exactly when a `client_id` is given;
 * salesforce keys on another source type are reported where they are written.
 */
export function checkSalesforceSource(
  source: Record<string, unknown>,
  document: YamlDocument,
  label: string,
  secrets: readonly SecretValue[],
  report: (code: string, message: string, at: SourceLocation) => void,
): number {
  let problems = 0;
  const problem = (code: string, message: string, at: SourceLocation) => {
    problems++;
    report(code, message, at);
  };
  const type = String(source.type);
  if (type !== 'salesforce') {
    for (const key of SALESFORCE_KEYS) {
      // `password`/`username` are not used by other source types either.
      if (source[key] === undefined) continue;
      problem(
        'unexpected-key',
        `${label}: \`${key}\` belongs to salesforce sources, not ${type}; remove it`,
        document.locate(['source', key], 'key'),
      );
    }
    return problems;
  }
  // An s3:// uri names files: the object-store check already says to set the files' format.
  if (typeof source.uri === 'string' && source.uri.startsWith('s3://')) return problems;
  for (const [key, example] of REQUIRED_KEYS) {
    if (source[key] !== undefined) continue;
    problem(
      'missing-key',
      `${label}: a salesforce source needs \`${key}\` (${example})`,
      document.locate(['source'], 'key'),
    );
  }
  for (const key of ['uri', 'url', 'table', 'query', 'cursor']) {
    if (source[key] === undefined) continue;
    problem(
      'unexpected-key',
      key === 'cursor'
        ? `${label}: a salesforce source is always read past \`SystemModstamp\`; remove \`cursor\``
        : `${label}: a salesforce source reads \`object\` after logging in at \`login_url\`; remove \`${key}\``,
      document.locate(['source', key], 'key'),
    );
  }
  for (const key of SECRET_KEYS) {
    const value = source[key];
    if (typeof value !== 'string' || value === '' || fromVariable(value, secrets)) continue;
    problem(
      'plain-secret',
      `${label}: \`source.${key}\` is written in the repo, where everyone who can read it sees it; give it as \`\${VAR}\` (e.g. \`${key}: \${SF_${key.toUpperCase()}}\`) and export the variable where tessera runs`,
      document.locate(['source', key]),
    );
  }
  const hasId = source.client_id !== undefined;
  const hasSecret = source.client_secret !== undefined;
  if (hasId !== hasSecret) {
    const [given, missing] = hasId ? ['client_id', 'client_secret'] : ['client_secret', 'client_id'];
    problem(
      'missing-key',
      `${label}: \`${given}\` needs \`${missing}\` too (the connected app's consumer key and secret); give both, or neither to log in with the SOAP API`,
      document.locate(['source', given], 'key'),
    );
  }
  return problems;
}
