import type { z } from 'zod';
import type { Diagnostic } from '../diagnostics/index.ts';
import { formatYamlPath, type PathSegment, type YamlDocument } from './yaml-document.ts';

type Issue = z.core.$ZodIssue;

/**
 * Turn zod issues into diagnostics pointing at the YAML key or value they concern. Messages
 * describe the expected shape and never echo values: a value may hold an interpolated secret.
 */
export function diagnosticsFromZodIssues(
  issues: readonly Issue[],
  document: YamlDocument,
  label: string,
  basePath: readonly PathSegment[] = [],
): Diagnostic[] {
  const data = document.data;
  const diagnostics: Diagnostic[] = [];
  for (const issue of flattenUnions(issues)) {
    const path = [...basePath, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        diagnostics.push({
          code: 'unknown-key',
          severity: 'error',
          message: `${label}: unknown key \`${key}\`${path.length ? ` in \`${formatYamlPath(path)}\`` : ''}; ${issue.message}`,
          at: document.locate([...path, key], 'key'),
        });
      }
      continue;
    }
    const value = valueAt(data, path);
    const subject = path.length ? `\`${formatYamlPath(path)}\`` : 'the document';
    if (issue.code === 'invalid_type' && value === undefined) {
      diagnostics.push({
        code: 'missing-key',
        severity: 'error',
        message: `${label}: ${subject} is required`,
        at: document.locate(path, 'key'),
      });
      continue;
    }
    const { code, message } = describe(issue, value);
    // "`x` must be ..." reads as one sentence; a free-standing explanation follows a colon.
    const sentence = /^(must|is|are|has|have) /.test(message)
      ? `${subject} ${message}`
      : `${subject}: ${message}`;
    diagnostics.push({
      code,
      severity: 'error',
      message: `${label}: ${sentence}`,
      at: document.locate(path),
    });
  }
  return diagnostics;
}

function describe(issue: Issue, value: unknown): { code: string; message: string } {
  switch (issue.code) {
    case 'invalid_type':
      return { code: 'invalid-type', message: `must be ${article(issue.expected)}, not ${typeName(value)}` };
    case 'invalid_value':
      return {
        code: 'invalid-value',
        message: `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((item) => `\`${String(item)}\``).join(', ')}`,
      };
    case 'too_small':
      return {
        code: 'invalid-value',
        message: bound('at least', issue.origin, issue.minimum, issue.inclusive),
      };
    case 'too_big':
      return {
        code: 'invalid-value',
        message: bound('at most', issue.origin, issue.maximum, issue.inclusive),
      };
    case 'custom': {
      const code = (issue.params as { code?: string } | undefined)?.code ?? 'invalid-value';
      if (code === 'missing-key') return { code, message: 'is required' };
      return { code, message: issue.message };
    }
    default:
      return { code: 'invalid-value', message: `is not valid (${issue.message})` };
  }
}

function bound(word: string, origin: string, limit: unknown, inclusive: boolean | undefined): string {
  const amount = String(limit);
  if (origin === 'array') return `must have ${word} ${amount} entr${amount === '1' ? 'y' : 'ies'}`;
  if (origin === 'string')
    return Number(limit) === 1 && word === 'at least'
      ? 'must not be empty'
      : `must have ${word} ${amount} characters`;
  return inclusive === false
    ? `must be ${word === 'at least' ? 'more' : 'less'} than ${amount}`
    : `must be ${word} ${amount}`;
}

/** A union's issues are the issues of the branch that got furthest (deepest path), not all branches'. */
function flattenUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const depth = (branch: readonly Issue[]) => Math.max(...branch.map((item) => item.path.length));
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
    if (depth(best) === 0) {
      const expected = issue.errors
        .flat()
        .filter((item) => item.code === 'invalid_type')
        .map((item) => (item as { expected: string }).expected);
      if (expected.length === issue.errors.length) {
        return [{ ...issue, code: 'invalid_type', expected: expected.join(' or ') } as unknown as Issue];
      }
    }
    return flattenUnions(best.map((item) => ({ ...item, path: [...issue.path, ...item.path] }) as Issue));
  });
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map',
    record: 'a map',
  };
  return expected
    .split(' or ')
    .map((name) => names[name] ?? name)
    .join(' or ');
}
