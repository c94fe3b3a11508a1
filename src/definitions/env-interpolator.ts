import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import type { PathSegment, YamlDocument } from './yaml-document.ts';

/** One `${NAME}` whose variable is not set. */
export interface MissingVariable {
  variable: string;
  /** The YAML path of the string that uses it. */
  path: PathSegment[];
  node: Node;
}

/** A variable that was substituted, kept so its value can be redacted from anything printed or stored. */
export interface SecretValue {
  variable: string;
  value: string;
}

// `$${NAME}` is an escape for a literal `${NAME}`.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * False when no string value of this YAML text can hold `${`: neither the text nor an escape in a
 * double-quoted scalar (`"\x24{NAME}"`) spells it. Such a text needs no interpolation, and its
 * validation does not depend on the environment.
 */
export function mayReferenceVariables(yamlText: string): boolean {
  return yamlText.includes('${') || yamlText.includes('\\');
}

/**
 * Replace `${NAME}` in every string value of the document (keys are left alone) with the
 * variable's value. Unset variables become empty strings and are reported, never guessed.
 */
export function interpolateEnv(
  document: YamlDocument,
  env: Readonly<Record<string, string | undefined>>,
): { missing: MissingVariable[]; used: SecretValue[] } {
  const missing: MissingVariable[] = [];
  const used: SecretValue[] = [];
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : '?';
        visit(item.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      node.value = node.value.replace(REFERENCE, (match, variable: string | undefined) => {
        if (variable === undefined) return '${';
        const value = env[variable];
        if (value === undefined) {
          missing.push({ variable, path, node });
          return '';
        }
        used.push({ variable, value });
        return value;
      });
    }
  };
  visit(document.document.contents, []);
  return { missing, used };
}
