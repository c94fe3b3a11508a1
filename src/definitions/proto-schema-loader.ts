import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Diagnostic } from '../diagnostics/index.ts';
import type { SchemaDef, SourceLocation } from '../model/index.ts';
import { ProtoFieldMapper } from './proto-field-mapper.ts';
import { ProtoSourceLocator } from './proto-source-locator.ts';

/** Absolute path of the proto/ folder Tessera ships (`tessera/options.proto`, `google/type/date.proto`). */
export const PROTO_INCLUDE_DIR: string = fileURLToPath(new URL('../../proto', import.meta.url));

/** Imports always served from PROTO_INCLUDE_DIR, whatever the repo holds. */
const SHIPPED_IMPORTS = new Set(['tessera/options.proto', 'google/type/date.proto']);

const PARSE_OPTIONS: protobuf.IParseOptions = { keepCase: true, alternateCommentMode: true };

// protobufjs bundles timestamp/duration/any/... but not descriptor.proto, which options.proto
// extends; register its JSON form once so `import "google/protobuf/descriptor.proto"` resolves.
const bundled = protobuf.common as unknown as Record<
  string,
  { nested?: Record<string, protobuf.AnyNestedObject> } | undefined
>;
if (!bundled['google/protobuf/descriptor.proto']) {
  const require = createRequire(import.meta.url);
  protobuf.common('google/protobuf/descriptor.proto', require('protobufjs/google/protobuf/descriptor.json'));
}

/** What resolving references into one .proto file (with its imports) found: plain data, cacheable. */
export interface ProtoFileOutcome {
  /** By message name: its schema, or why it has none (the message follows the table's label). */
  messages: Record<string, { schema?: SchemaDef; failure?: { code: string; message: string } }>;
  /** Problems in the file and its imports (syntax, imports, types, annotations). */
  diagnostics: Diagnostic[];
}

/** Where outcomes are kept between runs, keyed by the content of a file and of everything it imports. */
export interface ProtoOutcomeCache {
  get(key: string): ProtoFileOutcome | undefined;
  /** Called again whenever the outcome grows (another message of the file was resolved). */
  set(key: string, outcome: ProtoFileOutcome): void;
}

interface LoadedFile {
  /** Absent when the file or one of its imports did not parse or resolve. */
  root?: protobuf.Root;
}

/**
 * Resolves `path/to/file.proto#package.Message` references into SchemaDefs. Each file is parsed
 * once (with its imports) into its own protobufjs Root; problems in a file are reported once,
 * in `diagnostics`, however many tables use it.
 */
export class ProtoSchemaLoader {
  /** Problems found while parsing and mapping in this run; `diagnostics` adds the cached ones. */
  private readonly found: Diagnostic[] = [];
  private readonly files = new Map<string, LoadedFile>();
  private readonly locators = new Map<string, ProtoSourceLocator>();
  private readonly outcomes = new Map<string, { key: string; outcome: ProtoFileOutcome }>();
  private readonly textHashes = new Map<string, string | undefined>();
  /** `file#message` references already reported as wrong: one mistake, one diagnostic. */
  private readonly reportedFailures = new Set<string>();
  private readonly mapper = new ProtoFieldMapper((object) => this.locatorFor(object));

  constructor(
    private readonly repoRoot: string,
    private readonly cache?: ProtoOutcomeCache,
  ) {}

  /** Problems found in .proto files (syntax, imports, types, annotations), each reported once. */
  get diagnostics(): Diagnostic[] {
    return [...this.outcomes.values()].flatMap(({ outcome }) => outcome.diagnostics);
  }

  /**
   * The schema a table's `schema:` names, or undefined (with a diagnostic at `locate()` when the
   * reference itself is wrong: malformed, missing file, unknown message). `locate` is called only
   * then, so a valid reference never needs the YAML's positions.
   */
  resolve(
    schemaRef: string,
    locate: () => SourceLocation,
    label: string,
  ): { schema?: SchemaDef; diagnostics: Diagnostic[] } {
    const match = /^([^#]+\.proto)#\.?([A-Za-z_][\w.]*)$/.exec(schemaRef.trim());
    if (!match) {
      return failure(
        'invalid-schema-ref',
        `${label}: \`schema\` must be \`path/to/file.proto#package.Message\` (e.g. \`schemas/clinical.proto#clinical.Patient\`)`,
        locate(),
      );
    }
    const [, path, messageName] = match as unknown as [string, string, string];
    const absolutePath = resolve(this.repoRoot, path);
    if (!existsSync(absolutePath)) {
      return failure(
        'missing-file',
        `${label}: schema file \`${path}\` does not exist (paths are relative to the repo)`,
        locate(),
      );
    }
    const file = this.outcomeOf(absolutePath);
    let result = Object.hasOwn(file.outcome.messages, messageName)
      ? file.outcome.messages[messageName]
      : undefined;
    if (!result) {
      const before = this.found.length;
      result = this.resolveMessage(absolutePath, path, messageName);
      file.outcome.messages[messageName] = result;
      file.outcome.diagnostics.push(...this.found.slice(before));
      this.cache?.set(file.key, file.outcome);
    }
    if (result.failure) {
      const reference = `${absolutePath}#${messageName}`;
      if (this.reportedFailures.has(reference)) return { diagnostics: [] };
      this.reportedFailures.add(reference);
      return failure(result.failure.code, `${label}: ${result.failure.message}`, locate());
    }
    return { ...optional(result.schema), diagnostics: [] };
  }

  /** The outcome for one file: from the cache when the file and its imports are unchanged. */
  private outcomeOf(absolutePath: string): { key: string; outcome: ProtoFileOutcome } {
    const known = this.outcomes.get(absolutePath);
    if (known) return known;
    const key = this.dependencyKey(absolutePath);
    const file = { key, outcome: this.cache?.get(key) ?? { messages: {}, diagnostics: [] } };
    this.outcomes.set(absolutePath, file);
    return file;
  }

  /**
   * A hash of everything resolving into `entryPath` reads: the file, and through its imports (found
   * as the parser would resolve them) every other file, with its content; an import that resolves
   * nowhere counts too, so creating the missing file changes the key.
   */
  private dependencyKey(entryPath: string): string {
    const digest = createHash('sha256');
    const seen = new Set<string>();
    const visit = (path: string): void => {
      if (seen.has(path)) return;
      seen.add(path);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        digest.update(`${path} unreadable\n`);
        return;
      }
      let textHash = this.textHashes.get(path);
      if (textHash === undefined) {
        textHash = createHash('sha256').update(text).digest('hex');
        this.textHashes.set(path, textHash);
      }
      digest.update(`${path} ${textHash}\n`);
      for (const [, target] of text.matchAll(/\bimport\s+(?:weak\s+|public\s+)?"([^"]*)"/g)) {
        if (bundled[target!] && !SHIPPED_IMPORTS.has(target!)) {
          digest.update(`import ${target} bundled\n`);
          continue;
        }
        const imported = this.resolveImport(path, target!);
        digest.update(`import ${target} ${imported ?? 'missing'}\n`);
        if (imported) visit(imported);
      }
    };
    visit(entryPath);
    return digest.digest('hex');
  }

  private resolveMessage(
    absolutePath: string,
    path: string,
    messageName: string,
  ): ProtoFileOutcome['messages'][string] {
    const { root } = this.load(absolutePath);
    if (!root) return {};
    const found = safeLookup(root, messageName);
    if (!(found instanceof protobuf.Type)) {
      const messages = root.nestedArray.length ? listMessages(root, absolutePath) : [];
      return {
        failure: {
          code: 'unknown-message',
          message: `\`${path}\` defines no message \`${messageName}\`${messages.length ? `; it defines ${messages.map((name) => `\`${name}\``).join(', ')}` : ''}`,
        },
      };
    }
    const fields = this.mapper.mapMessage(found);
    this.found.push(...this.mapper.diagnostics.splice(0));
    const schema: SchemaDef = {
      message: found.fullName.replace(/^\./, ''),
      file: this.displayPath(found.filename ?? absolutePath),
      ...(found.comment ? { description: found.comment.trim() } : {}),
      fields,
    };
    return { schema };
  }

  private load(entryPath: string): LoadedFile {
    const cached = this.files.get(entryPath);
    if (cached) return cached;
    const root = new protobuf.Root();
    const ok = this.parseInto(root, entryPath, new Set());
    let loaded: LoadedFile = ok ? { root } : {};
    if (ok) {
      try {
        root.resolveAll();
      } catch (error) {
        this.reportResolveError(root, entryPath, error as Error);
        loaded = {};
      }
    }
    this.files.set(entryPath, loaded);
    return loaded;
  }

  /** Parse one file and, depth first, its imports into `root`; false when anything failed. */
  private parseInto(root: protobuf.Root, path: string, seen: Set<string>): boolean {
    if (seen.has(path)) return true;
    seen.add(path);
    const locator = this.locatorFor(path);
    let parsed: protobuf.IParserResult;
    try {
      (protobuf.parse as unknown as { filename: string | null }).filename = path;
      parsed = protobuf.parse(readFileSync(path, 'utf8'), root, PARSE_OPTIONS);
    } catch (error) {
      this.reportParseError(locator, error as Error);
      return false;
    }
    let ok = true;
    for (const target of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      const common = bundled[target];
      if (common && !SHIPPED_IMPORTS.has(target)) {
        if (!seen.has(target)) {
          seen.add(target);
          root.addJSON(common.nested ?? {});
        }
        continue;
      }
      const importPath = this.resolveImport(path, target);
      if (!importPath) {
        this.found.push({
          code: 'proto-import',
          severity: 'error',
          message: `import "${target}" not found; imports resolve against the importing file's folder, then the repo root (tessera/options.proto and google/type/date.proto are built in)`,
          at: locator.token(`"${target}"`) ?? locator.onLine(1),
        });
        ok = false;
        continue;
      }
      ok = this.parseInto(root, importPath, seen) && ok;
    }
    return ok;
  }

  private resolveImport(origin: string, target: string): string | undefined {
    if (SHIPPED_IMPORTS.has(target)) return join(PROTO_INCLUDE_DIR, target);
    if (isAbsolute(target)) return existsSync(target) ? target : undefined;
    return [resolve(dirname(origin), target), resolve(this.repoRoot, target)].find((candidate) =>
      existsSync(candidate),
    );
  }

  private reportParseError(locator: ProtoSourceLocator, error: Error): void {
    const line = Number(/line (\d+)\)?\s*$/.exec(error.message)?.[1] ?? 0);
    const token = /^illegal \w+ '([^']*)'/.exec(error.message)?.[1];
    const duplicate = /^duplicate name '([^']+)'/.exec(error.message)?.[1];
    const message = error.message.replace(/\s*\([^()]*line \d+\)\s*$/, '');
    const at = line
      ? locator.onLine(line, token)
      : ((duplicate ? locator.token(duplicate, 2) : undefined) ?? locator.onLine(1));
    this.found.push({
      code: 'proto-parse',
      severity: 'error',
      message: `proto does not parse: ${message}`,
      at,
    });
  }

  private reportResolveError(root: protobuf.Root, entryPath: string, error: Error): void {
    // e.g. "no such Type or Enum 'Foo' in Type .clinical.Patient"
    const missing = /'([^']+)'/.exec(error.message)?.[1];
    const owner = /\bin \w+ (\.[\w.]+)/.exec(error.message)?.[1];
    const ownerObject = owner ? safeLookup(root, owner) : null;
    const locator = this.locatorFor(ownerObject?.filename ?? entryPath);
    const at =
      (missing ? locator.token(missing) : undefined) ?? (owner ? locator.message(owner) : locator.onLine(1));
    const message = error.message.replace(/^no such Type or Enum/, 'unknown type');
    this.found.push({
      code: 'proto-parse',
      severity: 'error',
      message: `proto does not resolve: ${message}; define it or import the file that does`,
      at,
    });
  }

  private locatorFor(objectOrPath: protobuf.ReflectionObject | string): ProtoSourceLocator {
    const path = typeof objectOrPath === 'string' ? objectOrPath : (objectOrPath.filename ?? '');
    let locator = this.locators.get(path);
    if (!locator) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        // A bundled definition has no file: positions fall back to line 1.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      locator = new ProtoSourceLocator(this.displayPath(path), text);
      this.locators.set(path, locator);
    }
    return locator;
  }

  /** Repo-relative with `/` separators; files outside the repo (the shipped ones) stay absolute. */
  private displayPath(path: string): string {
    const relativePath = relative(this.repoRoot, path);
    if (relativePath.startsWith('..') || isAbsolute(relativePath)) return path;
    return relativePath.split(sep).join('/');
  }
}

function failure(code: string, message: string, at: SourceLocation): { diagnostics: Diagnostic[] } {
  return { diagnostics: [{ code, severity: 'error', message, at }] };
}

function optional(schema: SchemaDef | undefined): { schema?: SchemaDef } {
  return schema ? { schema } : {};
}

function safeLookup(root: protobuf.Root, name: string): protobuf.ReflectionObject | null {
  try {
    return root.lookup(name.startsWith('.') ? name : `.${name}`);
  } catch {
    return null;
  }
}

function listMessages(namespace: protobuf.NamespaceBase, file: string): string[] {
  return namespace.nestedArray.flatMap((object): string[] => {
    const own =
      object instanceof protobuf.Type && object.filename === file ? [object.fullName.replace(/^\./, '')] : [];
    return object instanceof protobuf.Namespace || object instanceof protobuf.Type
      ? [...own, ...listMessages(object, file)]
      : own;
  });
}
