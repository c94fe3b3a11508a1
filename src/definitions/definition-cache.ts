import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedParse, primeParse, type BindOutcome } from '../sql/index.ts';
import type { ValidatedFile } from './catalog-document-parser.ts';
import { rememberAnalysis, rememberedAnalysis, type SelectAnalysis } from './sql-reference-analyzer.ts';
import { mayReferenceVariables } from './env-interpolator.ts';
import type { ProtoFileOutcome, ProtoOutcomeCache } from './proto-schema-loader.ts';
import type { BindOutcomeCache } from './projection-sql-linter.ts';

/** The cache's files in a catalog repo: inside the state folder, which is the user's alone. */
export const DEFINITION_CACHE_FILES = {
  /** Per-file validations and .proto schemas: small, rewritten when a definition changes. */
  definitions: '.tessera/cache/definitions.json',
  /** Projection parses: large, rewritten only when some SQL changes. One line each (see `parsesText`). */
  parses: '.tessera/cache/parses.tsv',
} as const;

const FORMAT = 'tessera-definitions-cache';
/** Raise when what is cached changes shape; the code fingerprint covers changes of meaning. */
const VERSION = 4;

interface CacheHeader {
  format: string;
  version: number;
  /** Which of `DEFINITION_CACHE_FILES` this is. */
  part: string;
  /** The code that produced the entries (see `codeFingerprint`); another code never trusts them. */
  fingerprint: string;
  /** SHA-256 of the body, hex: a torn or edited file is ignored. */
  checksum: string;
}

interface CachedSql {
  ast: string;
  analysis: SelectAnalysis;
}

interface DefinitionsBody {
  /** Per YAML file, by hash of its path and text: what it yields on its own. */
  yaml: Record<string, ValidatedFile>;
  /** Per .proto file, by hash of its content and its imports': the schemas resolved from it. */
  protos: Record<string, ProtoFileOutcome>;
  /** Per projection, by hash of its SQL and the columns of the tables it reads: what binding it gave. */
  binds: Record<string, BindOutcome>;
}

interface ParsesBody {
  /** Per projection SQL, by hash of its text: its serialized AST (see `cachedParse`) and what it reads. */
  sql: Record<string, CachedSql>;
}

/**
 * What validating a repo learned, kept between runs in `.tessera/cache/` (folder 0700, files 0600)
 * and keyed by content: each YAML file's validation (by its path and text), each projection's
 * parse (by its SQL) and the schemas of each .proto file (by its text and its imports'). A warm
 * run re-validates and re-parses only what changed, then runs the checks across files as usual.
 * A missing, corrupt, foreign or outdated cache file is ignored and rebuilt, never trusted. Each
 * save keeps only the entries this run used, and rewrites a file only when that changes it.
 */
export class DefinitionCache implements ProtoOutcomeCache, BindOutcomeCache {
  private readonly usedFiles = new Map<string, ValidatedFile>();
  private readonly usedParses = new Map<string, CachedSql>();
  private readonly usedProtos = new Map<string, ProtoFileOutcome>();
  private readonly usedBinds = new Map<string, BindOutcome>();
  private readonly sqlKeys = new Map<string, string>();
  private addedDefinitions = false;
  private addedParses = false;

  private constructor(
    private readonly folder: string | undefined,
    private readonly fingerprint: string,
    private readonly stored: DefinitionsBody & ParsesBody,
    private readonly readOnly = false,
  ) {}

  /**
   * The repo's cache; empty (part by part) where there is none or it cannot be trusted. `readOnly`:
   * use what is there but never write (a pull-request check leaves the state folder as it found it).
   */
  static async open(repoRoot: string, options: { readOnly?: boolean } = {}): Promise<DefinitionCache> {
    const fingerprint = codeFingerprint();
    const [definitions, parses] = await Promise.all([
      readBody(join(repoRoot, DEFINITION_CACHE_FILES.definitions), 'definitions', fingerprint).then(
        jsonRecord,
      ),
      readBody(join(repoRoot, DEFINITION_CACHE_FILES.parses), 'parses', fingerprint),
    ]);
    const stored = {
      yaml: isRecord<ValidatedFile>(definitions?.yaml) ? definitions.yaml : {},
      protos: isRecord<ProtoFileOutcome>(definitions?.protos) ? definitions.protos : {},
      binds: isRecord<BindOutcome>(definitions?.binds) ? definitions.binds : {},
      sql: parses === undefined ? {} : parsesFromText(parses),
    };
    return new DefinitionCache(repoRoot, fingerprint, stored, options.readOnly ?? false);
  }

  /** A cache that remembers nothing and saves nothing. */
  static disabled(): DefinitionCache {
    return new DefinitionCache(undefined, '', { yaml: {}, protos: {}, binds: {}, sql: {} });
  }

  /** The validation of `file` with exactly this text, when cached. */
  validatedFile(file: string, text: string): ValidatedFile | undefined {
    if (!this.folder || !isCacheable(text)) return undefined;
    const key = hash(`${file}\0${text}`);
    const hit = Object.hasOwn(this.stored.yaml, key) ? this.stored.yaml[key] : undefined;
    if (hit) this.usedFiles.set(key, hit);
    return hit;
  }

  /** Keep a file's validation. Files that use `${VARIABLES}` are never kept: they depend on the environment. */
  rememberFile(file: string, text: string, validated: ValidatedFile): void {
    if (!this.folder || !isCacheable(text) || validated.secrets.length > 0) return;
    const { documents, diagnostics, unparsedNames } = validated;
    // Later steps replace the Defs they complete, never edit them (see `addValidatedFile`), so these stay as validated.
    this.usedFiles.set(hash(`${file}\0${text}`), {
      documents,
      diagnostics,
      secrets: [],
      ...(unparsedNames ? { unparsedNames } : {}),
    });
    this.addedDefinitions = true;
  }

  /** The outcome of resolving into a .proto file whose content and imports hash to `key`, when cached. */
  get(key: string): ProtoFileOutcome | undefined {
    if (!this.folder) return undefined;
    const hit = Object.hasOwn(this.stored.protos, key) ? this.stored.protos[key] : undefined;
    if (hit) this.usedProtos.set(key, hit);
    return hit;
  }

  /** Keep (or update) the outcome for a .proto file. */
  set(key: string, outcome: ProtoFileOutcome): void {
    if (!this.folder) return;
    this.usedProtos.set(key, outcome);
    this.addedDefinitions = true;
  }

  /** What binding a projection gave, by `lintProjectionSql`'s key (its SQL and its inputs' columns). */
  boundProjection(key: string): BindOutcome | undefined {
    if (!this.folder) return undefined;
    const hashed = hash(key);
    const hit = Object.hasOwn(this.stored.binds, hashed) ? this.stored.binds[hashed] : undefined;
    if (hit) this.usedBinds.set(hashed, hit);
    return hit;
  }

  /** Keep what binding a projection gave. */
  rememberBoundProjection(key: string, outcome: BindOutcome): void {
    if (!this.folder) return;
    this.usedBinds.set(hash(key), outcome);
    this.addedDefinitions = true;
  }

  /** Put the cached parses and analyses of these SQL texts back, so they are not parsed again. */
  primeParses(sqls: Iterable<string>): void {
    for (const sql of sqls) {
      const restored = this.restoreParse(sql);
      if (restored) this.usedParses.set(restored.key, restored.cached);
    }
  }

  /**
   * Like `primeParses`, for SQL that may turn out not to be a projection's (read ahead, before the
   * YAML naming it is validated): nothing is marked as used by this run. Returns the texts that
   * are not cached, which are still to be parsed.
   */
  restoreParses(sqls: Iterable<string>): string[] {
    return [...sqls].filter((sql) => this.restoreParse(sql) === undefined);
  }

  private restoreParse(sql: string): { key: string; cached: CachedSql } | undefined {
    if (!this.folder) return undefined;
    const key = this.sqlKey(sql);
    const cached = Object.hasOwn(this.stored.sql, key) ? this.stored.sql[key] : undefined;
    if (typeof cached?.ast !== 'string' || !Array.isArray(cached.analysis?.tables)) return undefined;
    primeParse(sql, cached.ast);
    rememberAnalysis(sql, cached.analysis);
    return { key, cached };
  }

  /** Keep the parses and analyses of these SQL texts (those made in this process). */
  rememberParses(sqls: Iterable<string>): void {
    if (!this.folder) return;
    for (const sql of sqls) {
      const key = this.sqlKey(sql);
      if (this.usedParses.has(key)) continue;
      const ast = cachedParse(sql);
      const analysis = rememberedAnalysis(sql);
      if (ast === undefined || analysis === undefined) continue;
      this.usedParses.set(key, { ast, analysis });
      this.addedParses = true;
    }
  }

  /**
   * Write what this run used, file by file, where it differs from what was read. Best effort: a
   * state folder that cannot be written (read-only checkout, full disk) only means the next run is cold.
   */
  async save(): Promise<void> {
    if (!this.folder || this.readOnly) return;
    const { stored } = this;
    const definitionsChanged =
      this.addedDefinitions ||
      this.usedFiles.size !== Object.keys(stored.yaml).length ||
      this.usedProtos.size !== Object.keys(stored.protos).length ||
      this.usedBinds.size !== Object.keys(stored.binds).length;
    const parsesChanged = this.addedParses || this.usedParses.size !== Object.keys(stored.sql).length;
    const writes: Promise<void>[] = [];
    if (definitionsChanged) {
      const body: DefinitionsBody = {
        yaml: Object.fromEntries(this.usedFiles),
        protos: Object.fromEntries(this.usedProtos),
        binds: Object.fromEntries(this.usedBinds),
      };
      writes.push(this.write(DEFINITION_CACHE_FILES.definitions, 'definitions', JSON.stringify(body)));
    }
    if (parsesChanged) {
      writes.push(this.write(DEFINITION_CACHE_FILES.parses, 'parses', parsesText(this.usedParses)));
    }
    await Promise.all(writes);
  }

  private async write(file: string, part: string, body: string): Promise<void> {
    const path = join(this.folder!, file);
    const header: CacheHeader = {
      format: FORMAT,
      version: VERSION,
      part,
      fingerprint: this.fingerprint,
      checksum: hash(body),
    };
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await chmod(dirname(path), 0o700);
      await writeFile(temporary, `${JSON.stringify(header)}\n${body}`, { mode: 0o600, flag: 'wx' });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
    }
  }

  private sqlKey(sql: string): string {
    let key = this.sqlKeys.get(sql);
    if (key === undefined) {
      key = hash(sql);
      this.sqlKeys.set(sql, key);
    }
    return key;
  }
}

/**
 * The parses as lines of `key TAB analysis TAB AST`. The serialized ASTs are JSON already (one line
 * each): kept as strings inside JSON, every quote of megabytes of them was escaped on each save of
 * a cold run and unescaped on each warm read.
 */
function parsesText(parses: Map<string, CachedSql>): string {
  let text = '';
  for (const [key, { ast, analysis }] of parses) {
    // JSON.stringify escapes line breaks, and DuckDB's serializer writes none: this never skips.
    if (!ast.includes('\n')) text += `${key}\t${JSON.stringify(analysis)}\t${ast}\n`;
  }
  return text;
}

function parsesFromText(text: string): ParsesBody['sql'] {
  const sql: ParsesBody['sql'] = {};
  for (const line of text.split('\n')) {
    const [key, analysis] = line.split('\t', 2);
    if (key === undefined || analysis === undefined || !/^[0-9a-f]{64}$/.test(key)) continue;
    try {
      sql[key] = {
        analysis: JSON.parse(analysis) as SelectAnalysis,
        ast: line.slice(key.length + analysis.length + 2),
      };
    } catch {
      continue;
    }
  }
  return sql;
}

function jsonRecord(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The stored body when the file is there, intact, and written by this code for `part`. */
async function readBody(path: string, part: string, fingerprint: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  const body = text.slice(newline + 1);
  try {
    const header = JSON.parse(text.slice(0, newline)) as Partial<CacheHeader> | null;
    if (
      header?.format !== FORMAT ||
      header.version !== VERSION ||
      header.part !== part ||
      header.fingerprint !== fingerprint ||
      header.checksum !== hash(body)
    ) {
      return undefined;
    }
    return body;
  } catch {
    return undefined;
  }
}

function isRecord<T>(value: unknown): value is Record<string, T> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Text that may hold `${VARIABLE}` is validated every time: its result depends on the environment. */
function isCacheable(text: string): boolean {
  return !mayReferenceVariables(text);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

let fingerprintOnce: string | undefined;

/**
 * Which code validates and parses: Tessera's definitions, sql and model modules (name, size and
 * modification time of each file) and the DuckDB parser's version. Any change of either makes
 * every entry a stranger.
 */
function codeFingerprint(): string {
  if (fingerprintOnce !== undefined) return fingerprintOnce;
  const digest = createHash('sha256').update(`${FORMAT} ${VERSION}\n`);
  const require = createRequire(import.meta.url);
  digest.update(`duckdb ${(require('@duckdb/node-api/package.json') as { version: string }).version}\n`);
  for (const folder of ['.', '../sql', '../model']) {
    const path = fileURLToPath(new URL(folder, import.meta.url));
    for (const name of readdirSync(path).sort()) {
      const stats = statSync(join(path, name));
      if (stats.isFile()) digest.update(`${folder}/${name} ${stats.size} ${stats.mtimeMs}\n`);
    }
  }
  fingerprintOnce = digest.digest('hex');
  return fingerprintOnce;
}
