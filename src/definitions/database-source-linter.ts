import type { SourceLocation } from '../model/index.ts';
import type { SecretValue } from './env-interpolator.ts';
import type { YamlDocument } from './yaml-document.ts';

/** The schemes each database source type accepts in `url`. */
export const DATABASE_URL_SCHEMES: Readonly<Record<'postgres' | 'mysql', readonly string[]>> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:', 'mariadb:'],
};

/** A table (`name`, `schema.name`) or column name as the database sources quote it. */
export const DATABASE_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * The rules of a `postgres` or `mysql` source, on the raw (interpolated) document: a `url` of the
 * type's scheme whose password comes from a `${VAR}`, exactly one of `table` and `query`, and a
 * `cursor` only with a mode that keeps earlier rows. Other source types are left alone, except that
 * a file source may not take the database keys. Returns the number of problems reported.
 */
export function checkDatabaseSource(
  source: Record<string, unknown>,
  mode: unknown,
  document: YamlDocument,
  label: string,
  secrets: readonly SecretValue[],
  problem: (code: string, message: string, at: SourceLocation) => void,
): number {
  let problems = 0;
  const report = (code: string, message: string, at: SourceLocation) => {
    problems++;
    problem(code, message, at);
  };
  const type = source.type;
  if (type !== 'postgres' && type !== 'mysql') {
    if (type === 'csv' || type === 'json' || type === 'ndjson' || type === 'parquet') {
      for (const key of ['table', 'query', 'cursor']) {
        if (source[key] !== undefined) {
          report(
            'unexpected-key',
            `${label}: \`${key}\` belongs to database sources (type postgres or mysql); a ${type} source reads the files at \`uri\``,
            document.locate(['source', key], 'key'),
          );
        }
      }
    }
    return problems;
  }
  const example =
    type === 'postgres'
      ? 'postgres://USER:${PGPASSWORD}@HOST:5432/DATABASE'
      : 'mysql://USER:${MYSQL_PASSWORD}@HOST:3306/DATABASE';
  if (source.uri !== undefined) {
    report(
      'unexpected-key',
      `${label}: a ${type} source is reached at \`url\` (e.g. \`${example}\`), not \`uri\`; rename the key`,
      document.locate(['source', 'uri'], 'key'),
    );
  }
  const url = source.url;
  if (url === undefined) {
    report(
      'missing-key',
      `${label}: a ${type} source needs a \`url\`, e.g. \`url: ${example}\``,
      document.locate(['source'], 'key'),
    );
  } else if (typeof url === 'string' && url !== '') {
    // Never echo the URL: it may hold a password.
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    const schemes = DATABASE_URL_SCHEMES[type];
    if (!parsed || !schemes.includes(parsed.protocol) || parsed.hostname === '') {
      report(
        'invalid-value',
        `${label}: \`source.url\` is not a ${type} URL; write it as \`${example}\` (${schemes.map((scheme) => `${scheme}//`).join(' or ')})`,
        document.locate(['source', 'url']),
      );
    } else if (parsed.password !== '' && !fromVariable(parsed.password, secrets)) {
      report(
        'plain-secret',
        `${label}: the password in \`source.url\` is written in the repo, where everyone who can read it sees it; give it as \`\${VAR}\` (e.g. \`${example}\`) and export the variable where tessera runs`,
        document.locate(['source', 'url']),
      );
    }
  }
  if (source.table === undefined && source.query === undefined) {
    report(
      'missing-key',
      `${label}: a ${type} source needs a \`table\` (e.g. \`table: public.orders\`) or a \`query\` (a SELECT)`,
      document.locate(['source'], 'key'),
    );
  } else if (source.table !== undefined && source.query !== undefined) {
    report(
      'unexpected-key',
      `${label}: a ${type} source reads a \`table\` or a \`query\`, not both; remove one`,
      document.locate(['source', 'query'], 'key'),
    );
  }
  if (typeof source.table === 'string' && !qualifiedName(source.table)) {
    report(
      'invalid-value',
      `${label}: \`source.table\` must be \`name\` or \`schema.name\` (letters, digits, _ and $); for anything else write a \`query\``,
      document.locate(['source', 'table']),
    );
  }
  if (typeof source.cursor === 'string') {
    if (!DATABASE_IDENTIFIER_PATTERN.test(source.cursor)) {
      report(
        'invalid-value',
        `${label}: \`source.cursor\` must be a column name (letters, digits, _ and $); for an expression, select it under a name in a \`query\``,
        document.locate(['source', 'cursor']),
      );
    } else if (mode === undefined || mode === 'replace') {
      report(
        'invalid-value',
        `${label}: with \`source.cursor\`, each run reads only the rows changed since the last one, and mode replace would publish just those as the whole table; set \`mode: merge\` (changed rows replace theirs by primary key) or \`mode: append\``,
        document.locate(['source', 'cursor']),
      );
    }
  }
  return problems;
}

function qualifiedName(name: string): boolean {
  const parts = name.split('.');
  return parts.length <= 2 && parts.every((part) => DATABASE_IDENTIFIER_PATTERN.test(part));
}

/** Whether a URL's password came from an interpolated variable (the password alone, or the whole URL). */
export function fromVariable(password: string, secrets: readonly SecretValue[]): boolean {
  const decoded = safeDecode(password);
  return secrets.some(
    (secret) => secret.value !== '' && (secret.value.includes(password) || secret.value.includes(decoded)),
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
