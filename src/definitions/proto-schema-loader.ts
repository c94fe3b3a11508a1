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
  /** Problems found in .proto files (syntax, imports, types, annotations), each reported once. */
  readonly diagnostics: Diagnostic[] = [];
  private readonly files = new Map<string, LoadedFile>();
  private readonly locators = new Map<string, ProtoSourceLocator>();
  private readonly schemas = new Map<string, SchemaDef | undefined>();
  private readonly mapper = new ProtoFieldMapper((object) => this.locatorFor(object));

  constructor(private readonly repoRoot: string) {}

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
    const key = `${absolutePath}#${messageName}`;
    if (this.schemas.has(key)) return { ...optional(this.schemas.get(key)), diagnostics: [] };

    const { root } = this.load(absolutePath);
    if (!root) {
      this.schemas.set(key, undefined);
      return { diagnostics: [] };
    }
    const found = safeLookup(root, messageName);
    if (!(found instanceof protobuf.Type)) {
      this.schemas.set(key, undefined);
      const messages = root.nestedArray.length ? listMessages(root, absolutePath) : [];
      return failure(
        'unknown-message',
        `${label}: \`${path}\` defines no message \`${messageName}\`${messages.length ? `; it defines ${messages.map((name) => `\`${name}\``).join(', ')}` : ''}`,
        locate(),
      );
    }
    const fields = this.mapper.mapMessage(found);
    this.diagnostics.push(...this.mapper.diagnostics.splice(0));
    const schema: SchemaDef = {
      message: found.fullName.replace(/^\./, ''),
      file: this.displayPath(found.filename ?? absolutePath),
      ...(found.comment ? { description: found.comment.trim() } : {}),
      fields,
    };
    this.schemas.set(key, schema);
    return { schema, diagnostics: [] };
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
        this.diagnostics.push({
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
    this.diagnostics.push({
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
    this.diagnostics.push({
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
