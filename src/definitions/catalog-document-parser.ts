import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/index.ts';
import type { OwnerDef, PrincipalDef, RoleDef, SourceLocation, TableDef, TaskDef } from '../model/index.ts';
import { DOCUMENT_KINDS, FILE_SOURCE_TYPES, documentSchemas, type DocumentKind } from './document-schemas.ts';
import { interpolateEnv, type SecretValue } from './env-interpolator.ts';
import { didYouMean } from './name-suggester.ts';
import { formatYamlPath, type YamlDocument } from './yaml-document.ts';
import { readYamlFile } from './yaml-file-reader.ts';
import { diagnosticsFromZodIssues } from './zod-issue-mapper.ts';

/** A Def with the YAML document it came from, to point later diagnostics at its keys. */
export interface Sourced<T> {
  def: T;
  document: YamlDocument;
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

  constructor(
    private readonly repoRoot: string,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  /** Parse one file (relative path, `/` separators) and collect its documents. */
  addFile(file: string, text: string): void {
    const { documents, diagnostics } = readYamlFile(file, text);
    this.diagnostics.push(...diagnostics);
    for (const document of documents) this.addDocument(document);
  }

  private addDocument(document: YamlDocument): void {
    const { missing, used } = interpolateEnv(document, this.env);
    this.secrets.push(...used);
    const unset = new Set<string>();
    for (const variable of missing) {
      const at = document.locate(variable.path);
      unset.add(`${at.line}:${at.column}`);
      this.report(
        'missing-env',
        `environment variable \`${variable.variable}\` is not set (used by \`${formatYamlPath(variable.path)}\`); export it before running tessera`,
        at,
      );
    }
    const data = document.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      this.report(
        'invalid-document',
        `a document must be a map with a \`kind\` (${DOCUMENT_KINDS.join(', ')})`,
        document.start,
      );
      return;
    }
    const raw = data as Record<string, unknown>;
    if (raw.kind === undefined) {
      this.report(
        'missing-kind',
        `every document needs a \`kind\`: ${DOCUMENT_KINDS.join(', ')}`,
        document.start,
      );
      return;
    }
    const kind = raw.kind as DocumentKind;
    if (typeof raw.kind !== 'string' || !DOCUMENT_KINDS.includes(kind)) {
      this.report(
        'unknown-kind',
        `unknown kind \`${String(raw.kind)}\`${typeof raw.kind === 'string' ? didYouMean(raw.kind, DOCUMENT_KINDS) : ''}; a document's kind is one of ${DOCUMENT_KINDS.join(', ')}`,
        document.locate(['kind']),
      );
      return;
    }
    const name = typeof raw.name === 'string' ? raw.name : undefined;
    const label = name ? `${kind} ${name}` : kind;
    const shapeProblems = kind === 'task' ? this.checkTaskShape(raw, document, label) : 0;
    let parsed = documentSchemas[kind].safeParse(raw);
    if (!parsed.success && parsed.error.issues.every((issue) => issue.code === 'unrecognized_keys')) {
      // Unknown keys are reported, but the rest of the document is still read, so its other
      // problems (a missing owner, an unknown table) surface in the same run.
      this.diagnostics.push(...diagnosticsFromZodIssues(parsed.error.issues, document, label));
      const reparsed = documentSchemas[kind].safeParse(withoutKeys(raw, parsed.error.issues));
      if (reparsed.success) parsed = reparsed;
      else parsed = { ...reparsed, error: { ...reparsed.error, issues: [] } } as typeof reparsed;
    }
    if (!parsed.success || shapeProblems > 0) {
      if (!parsed.success) {
        // A value emptied by an unset variable is already reported as `missing-env`.
        const shapeDiagnostics = diagnosticsFromZodIssues(parsed.error.issues, document, label);
        this.diagnostics.push(
          ...shapeDiagnostics.filter((item) => !unset.has(`${item.at.line}:${item.at.column}`)),
        );
      }
      if (name) this.catalog.brokenNames[kind].add(name);
      if (name) this.checkDuplicate(kind, name, document);
      return;
    }
    const at = document.locate(['name']);
    if (!this.checkDuplicate(kind, name!, document)) {
      this.catalog.brokenNames[kind].add(name!);
      return;
    }
    switch (kind) {
      case 'table': {
        const table = parsed.data as Omit<TableDef, 'at'>;
        table.validations.forEach(
          (validation, index) => (validation.at = document.locate(['validations', index])),
        );
        this.catalog.tables.push({ def: { ...table, at }, document });
        break;
      }
      case 'task':
        this.catalog.tasks.push({
          def: this.readSqlFile({ ...(parsed.data as Omit<TaskDef, 'at'>), at }, document),
          document,
        });
        break;
      case 'owner':
        this.catalog.owners.push({ def: { ...(parsed.data as Omit<OwnerDef, 'at'>), at }, document });
        break;
      case 'role':
        this.catalog.roles.push({ def: { ...(parsed.data as Omit<RoleDef, 'at'>), at }, document });
        break;
      case 'principal':
        this.catalog.principals.push({ def: { ...(parsed.data as Omit<PrincipalDef, 'at'>), at }, document });
        break;
    }
  }

  /** Rules that depend on the task's type, checked on the raw document so they add to shape errors. */
  private checkTaskShape(raw: Record<string, unknown>, document: YamlDocument, label: string): number {
    const before = this.diagnostics.length;
    if (raw.type === 'ingestion') {
      if (raw.source === undefined) {
        this.report(
          'missing-key',
          `${label}: an ingestion task needs a \`source\` (type, uri, options, columns)`,
          document.locate(['source'], 'key'),
        );
      } else if (raw.source !== null && typeof raw.source === 'object') {
        const source = raw.source as Record<string, unknown>;
        if (FILE_SOURCE_TYPES.includes(source.type as never) && source.uri === undefined) {
          this.report(
            'missing-key',
            `${label}: a ${String(source.type)} source needs a \`uri\` (a path or glob relative to the repo, or s3://...)`,
            document.locate(['source', 'uri'], 'key'),
          );
        }
      }
      if (raw.sql !== undefined) {
        this.report(
          'unexpected-key',
          `${label}: \`sql\` belongs to projection tasks; an ingestion task reads its \`source\``,
          document.locate(['sql'], 'key'),
        );
      }
    }
    if (raw.type === 'projection') {
      if (raw.sql === undefined) {
        this.report(
          'missing-key',
          `${label}: a projection task needs \`sql\` (inline SQL or a path like sql/summary.sql)`,
          document.locate(['sql'], 'key'),
        );
      }
      if (raw.source !== undefined) {
        this.report(
          'unexpected-key',
          `${label}: \`source\` belongs to ingestion tasks; a projection reads catalog tables in its \`sql\``,
          document.locate(['source'], 'key'),
        );
      }
      if (raw.schedule !== undefined) {
        this.report(
          'schedule-on-projection',
          `${label}: projections have no schedule: they run when an upstream table publishes a new version; remove \`schedule\` (schedule the ingestion tasks upstream instead)`,
          document.locate(['schedule'], 'key'),
        );
      }
    }
    return this.diagnostics.length - before;
  }

  /** A projection whose `sql` is a path ending in `.sql` gets the file's text; `sqlFile` keeps the path. */
  private readSqlFile(task: TaskDef, document: YamlDocument): TaskDef {
    if (task.type !== 'projection' || task.sql === undefined || !SQL_FILE.test(task.sql.trim())) return task;
    const absolutePath = resolve(this.repoRoot, task.sql.trim());
    const sqlFile = relative(this.repoRoot, absolutePath).split(sep).join('/');
    const { sql: _path, ...rest } = task;
    if (sqlFile.startsWith('..') || isAbsolute(sqlFile) || !existsSync(absolutePath)) {
      this.report(
        'missing-file',
        `task ${task.name}: SQL file \`${task.sql.trim()}\` does not exist (paths are relative to the repo root)`,
        document.locate(['sql']),
      );
      return { ...rest, sqlFile };
    }
    return { ...rest, sql: readFileSync(absolutePath, 'utf8'), sqlFile };
  }

  /** False (with a `duplicate-name` diagnostic) when `kind name` was already declared. */
  private checkDuplicate(kind: DocumentKind, name: string, document: YamlDocument): boolean {
    const key = `${kind}:${name}`;
    const at = document.locate(['name']);
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
