import type { SourceLocation } from '../model/index.ts';
import { fromVariable } from './database-source-linter.ts';
import type { SecretValue } from './env-interpolator.ts';
import type { YamlDocument } from './yaml-document.ts';

/** The keys each event-stream source type needs, with what a value looks like. */
const REQUIRED_KEYS: Readonly<Record<string, readonly (readonly [key: string, example: string])[]>> = {
  nats: [
    ['url', 'nats://host:4222'],
    ['stream', 'the JetStream stream, e.g. ORDERS'],
    ['subject', 'e.g. orders.created or orders.>'],
  ],
  kafka: [
    ['url', 'kafka://broker:9092,broker2:9092'],
    ['topic', 'e.g. orders'],
  ],
};

/** The keys that belong to one stream type only, and that type. */
const OWN_KEYS: Readonly<Record<string, string>> = { stream: 'nats', subject: 'nats', topic: 'kafka' };
/** The keys of every stream type. */
const STREAM_KEYS = ['url', 'consumer', 'batch', 'format'];

/**
 * A task's `source` checked for what its stream type needs: nats a `url`, `stream` and `subject`,
 * kafka a `url` and `topic`; keys of another source type, and `schedule: { on: stream }` on a source
 * that is not a stream, are reported where they are written.
 */
export function checkStreamSource(
  source: Record<string, unknown>,
  schedule: unknown,
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
  const required = REQUIRED_KEYS[type];
  for (const [key, example] of required ?? []) {
    if (source[key] !== undefined) continue;
    problem(
      'missing-key',
      `${label}: a ${type} source needs \`${key}\` (${example})`,
      document.locate(['source', key], 'key'),
    );
  }
  // Never echo the URL: it may hold a password.
  const password =
    typeof source.url === 'string' ? /^[a-z+]+:\/\/[^:@/]*:([^@/]+)@/.exec(source.url)?.[1] : undefined;
  if (required && password !== undefined && !fromVariable(password, secrets)) {
    problem(
      'plain-secret',
      `${label}: the password in \`source.url\` is written in the repo, where everyone who can read it sees it; give it as \`\${VAR}\` (e.g. \`${required[0]![1].replace('://', '://user:${PASSWORD}@')}\`) and export the variable where tessera runs`,
      document.locate(['source', 'url']),
    );
  }
  for (const [key, owner] of Object.entries(OWN_KEYS)) {
    if (source[key] === undefined || owner === type) continue;
    problem(
      'unexpected-key',
      `${label}: \`${key}\` belongs to ${owner} sources, not ${type}; remove it`,
      document.locate(['source', key], 'key'),
    );
  }
  const onStream =
    schedule !== null && typeof schedule === 'object' && (schedule as { on?: unknown }).on === 'stream';
  if (onStream && !required) {
    problem(
      'invalid-schedule',
      `${label}: \`{ on: stream }\` runs event-stream sources (nats, kafka) continuously; a ${type} source takes a cron expression, \`{ every: … }\` or \`{ on: source_change }\``,
      document.locate(['schedule', 'on'], 'value'),
    );
  }
  if (required) return problems;
  // `url` is also how database sources name their server; the other stream keys are streams' own.
  for (const key of STREAM_KEYS.filter((name) => name !== 'url')) {
    if (source[key] === undefined) continue;
    problem(
      'unexpected-key',
      `${label}: \`${key}\` belongs to event-stream sources (nats, kafka), not ${type}; remove it`,
      document.locate(['source', key], 'key'),
    );
  }
  return problems;
}
