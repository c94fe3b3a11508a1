import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/index.ts';
import type { OwnerDef, PrincipalDef, RoleDef, SourceLocation, TableDef, TaskDef } from '../model/index.ts';
import { DOCUMENT_KINDS, FILE_SOURCE_TYPES, documentSchemas, type DocumentKind } from './document-schemas.ts';
import { interpolateEnv, mayReferenceVariables, type SecretValue } from './env-interpolator.ts';
import { didYouMean } from './name-suggester.ts';
import { checkDatabaseSource } from './database-source-linter.ts';
import { checkObjectStoreUri } from './object-store-uri-linter.ts';
import {
  formatYamlPath,
  LazyYamlDocument,
  type LocatableDocument,
  type YamlDocument,
} from './yaml-document.ts';
import { checkSalesforceSource } from './salesforce-source-checks.ts';
import { checkStreamSource } from './stream-source-checks.ts';
import { readYamlFile } from './yaml-file-reader.ts';
import { diagnosticsFromZodIssues } from './zod-issue-mapper.ts';

/** A Def with the YAML document it came from, to point later diagnostics at its keys. */
export interface Sourced<T> {
  def: T;
  document: LocatableDocument;
}

/**
 * One document checked on its own (shape, kind, names): what a file contributes before the
 * checks across files (duplicates, references). Plain data, so it can be cached by file content.
 */
export interface ValidatedDocument {
  /** The document's position among the file's loaded documents (see `readYamlFile`). */
  index: number;
  /** Absent when the document has no usable `kind`: it declares nothing. */
  kind?: DocumentKind;
  name?: string;
  /** Where `name` is written. */
  nameAt?: SourceLocation;
  /** The Def (without SQL file contents) when the document is valid; absent when broken. */
  def?: object;
}

/** What one file yields on its own: its documents and the problems found in each. */
export interface ValidatedFile {
  documents: ValidatedDocument[];
  diagnostics: Diagnostic[];
  /** `${VAR}` values substituted; a file that uses variables is never cached. */
  secrets: SecretValue[];
  /**
   * Names declared by documents that do not parse (guessed from `name:` lines): unknown rather
   * than missing, so references to them are not reported as unknown while the file is broken.
   */
  unparsedNames?: string[];
}

/** What the parser collected, before schemas are resolved and cross-references checked. */
export interface ParsedCatalog {
  tables: Sourced<TableDef>[];
  tasks: Sourced<TaskDef>[];
  owners: Sourced<OwnerDef>[];
  roles: Sourced<RoleDef>[];
  principals: Sourced<PrincipalDef>[];
  /**
   * Names declared by documents that failed validation, by kind. References to them are not
   * reported again as unknown: one mistake, one diagnostic.
   */
  brokenNames: Record<DocumentKind, Set<string>>;
}

const SQL_FILE = /^[^\s;]+\.sql$/i;
/** A block-style `sql: path.sql` line, the value optionally quoted: what `readSqlFilesAhead` guesses from. */
const SQL_FILE_LINE = /^[ \t-]*sql:[ \t]*(['"]?)([^\s'"#;]+\.sql)\1[ \t]*(?:#.*)?\r?$/gim;

/**
 * Parses the catalog's YAML files into Defs: `${ENV}` interpolation, `kind` dispatch, shape
 * validation, names and duplicates, and reading projections' `.sql` files. Collects every problem.
 */
export class CatalogDocumentParser {
  readonly diagnostics: Diagnostic[] = [];
  readonly secrets: SecretValue[] = [];
  readonly catalog: ParsedCatalog = {
    tables: [],
    tasks: [],
    owners: [],
    roles: [],
    principals: [],
    brokenNames: {
      table: new Set(),
      task: new Set(),
      owner: new Set(),
      role: new Set(),
      principal: new Set(),
    },
  };
  private readonly declared = new Map<string, SourceLocation>();
  /** `.sql` files read ahead by `readSqlFilesAhead`, by absolute path (undefined: no such file). */
  private readonly sqlFilesReadAhead = new Map<string, string | undefined>();
  /** Tasks registered since the last `readSqlFiles`, whose `.sql` file is still to be read. */
  private readonly pendingSqlFiles: Sourced<TaskDef>[] = [];

  constructor(
    private readonly repoRoot: string,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  /** Parse one file (relative path, `/` separators) and collect its documents. */
  addFile(file: string, text: string): void {
    const validated = this.validateFile(file, text);
    this.addValidatedFile(validated, (index) => validated.parsed[index]!);
  }

  /** Check one file on its own: everything but the checks across files. Pure apart from `env`. */
  validateFile(file: string, text: string): ValidatedFile & { parsed: YamlDocument[] } {
    const { documents, diagnostics, unparsedNames } = readYamlFile(file, text);
    const validated: ValidatedFile & { parsed: YamlDocument[] } = {
      documents: [],
      diagnostics,
      secrets: [],
      ...(unparsedNames.length > 0 ? { unparsedNames } : {}),
      parsed: documents,
    };
    const interpolate = mayReferenceVariables(text);
    documents.forEach((document, index) =>
      validated.documents.push(this.validateDocument(document, index, validated, interpolate)),
    );
    return validated;
  }

  /**
   * Register a file's validated documents: duplicates across files, broken names, the Defs.
   * `documentAt(index)` gives the YAML document later checks point into (parsed only if needed).
   */
  addValidatedFile(validated: ValidatedFile, documentAt: (index: number) => LocatableDocument): void {
    this.diagnostics.push(...validated.diagnostics);
    this.secrets.push(...validated.secrets);
    // The kind of a document that does not parse is unknown too: its names stand for any kind.
    for (const name of validated.unparsedNames ?? []) {
      for (const names of Object.values(this.catalog.brokenNames)) names.add(name);
    }
    for (const item of validated.documents) {
      const { kind, name, nameAt } = item;
      if (kind === undefined || name === undefined || nameAt === undefined) continue;
      const unique = this.checkDuplicate(kind, name, nameAt);
      if (item.def === undefined || !unique) {
        this.catalog.brokenNames[kind].add(name);
        continue;
      }
      const document = documentAt(item.index);
      // Registered as validated, not copied: the cache may hold the same object, so later steps
      // replace a Def (`{ ...def, schema }`) rather than change it.
      const def = item.def;
      switch (kind) {
        case 'table':
          this.catalog.tables.push({ def: def as TableDef, document });
          break;
        case 'task': {
          const sourced = { def: def as TaskDef, document };
          this.catalog.tasks.push(sourced);
          this.pendingSqlFiles.push(sourced);
          break;
        }
        case 'owner':
          this.catalog.owners.push({ def: def as OwnerDef, document });
          break;
        case 'role':
          this.catalog.roles.push({ def: def as RoleDef, document });
          break;
        case 'principal':
          this.catalog.principals.push({ def: def as PrincipalDef, document });
          break;
      }
    }
  }

  /** A file loaded from a cache: its documents are parsed again only when a check points into them. */
  addCachedFile(file: string, text: string, validated: ValidatedFile): void {
    let parsed: YamlDocument[] | undefined;
    const parse = () => (parsed ??= readYamlFile(file, text).documents);
    this.addValidatedFile(validated, (index) => new LazyYamlDocument(file, () => parse()[index]!));
  }

  /**
   * Read the `.sql` files that these YAML texts seem to name (a `sql: path.sql` line), before they
   * are parsed as YAML, and return their texts: the caller can start parsing the SQL while the YAML
   * is validated. A guess from the raw text, so it changes no answer: `readSqlFiles` later uses
   * exactly the files the Defs name, reading any the guess missed.
   */
  readSqlFilesAhead(yamlTexts: Iterable<string>): string[] {
    const texts: string[] = [];
    for (const yaml of yamlTexts) {
      if (!yaml.includes('.sql')) continue;
      for (const [, , value] of yaml.matchAll(SQL_FILE_LINE)) {
        const { absolutePath, insideRepo } = this.sqlFilePath(value!);
        if (!insideRepo || this.sqlFilesReadAhead.has(absolutePath)) continue;
        let text: string | undefined;
        try {
          text = readTextFile(absolutePath);
        } catch {
          continue; // `readSqlFiles` reads it again and reports what is wrong.
        }
        this.sqlFilesReadAhead.set(absolutePath, text);
        if (text !== undefined) texts.push(text);
      }
    }
    return texts;
  }

  /**
   * Read every projection's `.sql` file: `TaskDef.sql` gets its text, `sqlFile` its path. One
   * synchronous read after another: thousands of small files cost a tenth of the CPU of as many
   * promise-based reads in parallel (measured on 4,000, from the page cache).
   */
  readSqlFiles(): void {
    for (const task of this.pendingSqlFiles.splice(0)) task.def = this.readSqlFile(task.def, task.document);
  }

  private validateDocument(
    document: YamlDocument,
    index: number,
    file: ValidatedFile,
    interpolate: boolean,
  ): ValidatedDocument {
    const report = (code: string, message: string, at: SourceLocation) =>
      file.diagnostics.push({ code, severity: 'error', message, at });
    const { missing, used } = interpolate ? interpolateEnv(document, this.env) : { missing: [], used: [] };
    file.secrets.push(...used);
    const unset = new Set<string>();
    for (const variable of missing) {
      const at = document.locate(variable.path);
      unset.add(`${at.line}:${at.column}`);
      report(
        'missing-env',
        `environment variable \`${variable.variable}\` is not set (used by \`${formatYamlPath(variable.path)}\`); export it before running tessera`,
        at,
      );
    }
    const data = document.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      report(
        'invalid-document',
        `a document must be a map with a \`kind\` (${DOCUMENT_KINDS.join(', ')})`,
        document.start,
      );
      return { index };
    }
    const raw = data as Record<string, unknown>;
    if (raw.kind === undefined) {
      report('missing-kind', `every document needs a \`kind\`: ${DOCUMENT_KINDS.join(', ')}`, document.start);
      return { index };
    }
    const kind = raw.kind as DocumentKind;
    if (typeof raw.kind !== 'string' || !DOCUMENT_KINDS.includes(kind)) {
      report(
        'unknown-kind',
        `unknown kind \`${String(raw.kind)}\`${typeof raw.kind === 'string' ? didYouMean(raw.kind, DOCUMENT_KINDS) : ''}; a document's kind is one of ${DOCUMENT_KINDS.join(', ')}`,
        document.locate(['kind']),
      );
      return { index };
    }
    // An empty name is no name: it is reported by the schema, and never counted as a duplicate.
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : undefined;
    const label = name ? `${kind} ${name}` : kind;
    const shapeProblems = kind === 'task' ? checkTaskShape(raw, document, label, report, used) : 0;
    let parsed = documentSchemas[kind].safeParse(raw);
    if (!parsed.success && parsed.error.issues.every((issue) => issue.code === 'unrecognized_keys')) {
      // Unknown keys are reported, but the rest of the document is still read, so its other
      // problems (a missing owner, an unknown table) surface in the same run.
      file.diagnostics.push(...diagnosticsFromZodIssues(parsed.error.issues, document, label));
      const reparsed = documentSchemas[kind].safeParse(withoutKeys(raw, parsed.error.issues));
      if (reparsed.success) parsed = reparsed;
      else parsed = { ...reparsed, error: { ...reparsed.error, issues: [] } } as typeof reparsed;
    }
    const nameAt = name === undefined ? undefined : document.locate(['name']);
    if (!parsed.success || shapeProblems > 0) {
      if (!parsed.success) {
        // A value emptied by an unset variable is already reported as `missing-env`.
        const shapeDiagnostics = diagnosticsFromZodIssues(parsed.error.issues, document, label);
        file.diagnostics.push(
          ...shapeDiagnostics.filter((item) => !unset.has(`${item.at.line}:${item.at.column}`)),
        );
      }
      return { index, kind, name, nameAt };
    }
    const at = nameAt!;
    if (kind === 'table') {
      const table = parsed.data as Omit<TableDef, 'at'>;
      table.validations.forEach(
        (validation, position) => (validation.at = document.locate(['validations', position])),
      );
    }
    return { index, kind, name, nameAt, def: { ...(parsed.data as object), at } };
  }

  /** A projection whose `sql` is a path ending in `.sql` gets the file's text; `sqlFile` keeps the path. */
  private readSqlFile(task: TaskDef, document: LocatableDocument): TaskDef {
    if (task.type !== 'projection' || task.sql === undefined || !SQL_FILE.test(task.sql.trim())) return task;
    const { absolutePath, sqlFile, insideRepo } = this.sqlFilePath(task.sql);
    const { sql: _path, ...rest } = task;
    const text = !insideRepo
      ? undefined
      : this.sqlFilesReadAhead.has(absolutePath)
        ? this.sqlFilesReadAhead.get(absolutePath)
        : readTextFile(absolutePath);
    if (text === undefined) {
      this.report(
        'missing-file',
        `task ${task.name}: SQL file \`${task.sql.trim()}\` does not exist (paths are relative to the repo root)`,
        document.locate(['sql']),
      );
      return { ...rest, sqlFile };
    }
    return { ...rest, sql: text, sqlFile };
  }

  /** Where a projection's `sql: path.sql` points; only files inside the repo are ever read. */
  private sqlFilePath(value: string): { absolutePath: string; sqlFile: string; insideRepo: boolean } {
    const absolutePath = resolve(this.repoRoot, value.trim());
    const sqlFile = relative(this.repoRoot, absolutePath).split(sep).join('/');
    return { absolutePath, sqlFile, insideRepo: !sqlFile.startsWith('..') && !isAbsolute(sqlFile) };
  }

  /** False (with a `duplicate-name` diagnostic) when `kind name` was already declared. */
  private checkDuplicate(kind: DocumentKind, name: string, at: SourceLocation): boolean {
    const key = `${kind}:${name}`;
    const first = this.declared.get(key);
    if (first) {
      this.report(
        'duplicate-name',
        `${kind} ${name} is declared twice: at ${first.file}:${first.line}:${first.column} and here (${at.file}:${at.line}:${at.column}); rename or remove one`,
        at,
      );
      return false;
    }
    this.declared.set(key, at);
    return true;
  }

  private report(code: string, message: string, at: SourceLocation): void {
    this.diagnostics.push({ code, severity: 'error', message, at });
  }
}

/** Rules that depend on the task's type, checked on the raw document so they add to shape errors. */
function checkTaskShape(
  raw: Record<string, unknown>,
  document: YamlDocument,
  label: string,
  report: (code: string, message: string, at: SourceLocation) => void,
  secrets: readonly SecretValue[],
): number {
  let problems = 0;
  const problem = (code: string, message: string, at: SourceLocation) => {
    problems++;
    report(code, message, at);
  };
  if (raw.type === 'ingestion') {
    if (raw.source === undefined) {
      problem(
        'missing-key',
        `${label}: an ingestion task needs a \`source\` (type, uri, options, columns)`,
        document.locate(['source'], 'key'),
      );
    } else if (raw.source !== null && typeof raw.source === 'object') {
      const source = raw.source as Record<string, unknown>;
      if (FILE_SOURCE_TYPES.includes(source.type as never) && source.uri === undefined) {
        problem(
          'missing-key',
          `${label}: a ${String(source.type)} source needs a \`uri\` (a path or glob relative to the repo, or s3://...)`,
          document.locate(['source', 'uri'], 'key'),
        );
      }
      problems += checkDatabaseSource(source, raw.mode, document, label, secrets, report);
      checkObjectStoreUri(label, source, document.locate(['source', 'uri']), problem);
      problems += checkStreamSource(source, raw.schedule, document, label, secrets, report);
      problems += checkSalesforceSource(source, document, label, secrets, report);
    }
    if (raw.sql !== undefined) {
      problem(
        'unexpected-key',
        `${label}: \`sql\` belongs to projection tasks; an ingestion task reads its \`source\``,
        document.locate(['sql'], 'key'),
      );
    }
  }
  if (raw.type === 'projection') {
    if (raw.sql === undefined) {
      problem(
        'missing-key',
        `${label}: a projection task needs \`sql\` (inline SQL or a path like sql/summary.sql)`,
        document.locate(['sql'], 'key'),
      );
    }
    if (raw.source !== undefined) {
      problem(
        'unexpected-key',
        `${label}: \`source\` belongs to ingestion tasks; a projection reads catalog tables in its \`sql\``,
        document.locate(['source'], 'key'),
      );
    }
    if (raw.schedule !== undefined) {
      problem(
        'schedule-on-projection',
        `${label}: projections have no schedule: they run when an upstream table publishes a new version; remove \`schedule\` (schedule the ingestion tasks upstream instead)`,
        document.locate(['schedule'], 'key'),
      );
    }
  }
  return problems;
}

/** A copy of a raw document without the keys zod reported as unrecognized. */
function withoutKeys(
  raw: Record<string, unknown>,
  issues: readonly { path: PropertyKey[]; keys?: string[] }[],
): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const issue of issues) {
    let target: unknown = copy;
    for (const step of issue.path) target = (target as Record<PropertyKey, unknown> | undefined)?.[step];
    if (target && typeof target === 'object')
      for (const key of issue.keys ?? []) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}

/** A file's text, or undefined when it does not exist (or is not a file). */
function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
