/**
 * The single path for user reads (invariant 2): resolve the principal, guard and rewrite the SQL
 * through governance/, run it in a sandboxed engine session.
 */
import type { CatalogStore } from './catalog/catalog-store.ts';
import { toIsoTimestamp } from './catalog/iso-timestamp.ts';
import { QueryError, UsageError } from './diagnostics/errors.ts';
import type { Engine, QueryResult } from './engines/engine.ts';
import {
  guardQuery,
  hashKeyLiteral,
  sanitizeEngineErrorMessage,
  type AccessPrincipal,
  type GuardedQuery,
  type RelationRequest,
  type ResolvedRelation,
} from './governance/index.ts';
import type { Definitions } from './model/index.ts';
import { parquetRelation } from './runner/index.ts';
import type { Storage } from './storage/index.ts';

/** The key dev mode hashes with when `governance.hash_key` is not set; `validate` warns about it. */
const DEV_MODE_HASH_KEY = 'tessera-dev-mode-hash-key';

/** The local developer at the CLI in dev mode: every table, column and row in clear. */
export const LOCAL_ADMIN: AccessPrincipal = { name: 'local-admin', groups: [], attributes: {}, admin: true };

export interface QueryOptions {
  /** A declared principal's name; default: the local administrator (CLI, dev mode only). */
  principal?: string;
}

export interface GovernedResult extends QueryResult {
  guarded: GuardedQuery;
}

export class QueryService {
  constructor(
    private readonly definitions: Definitions,
    private readonly store: CatalogStore,
    private readonly storage: Storage,
    private readonly engine: () => Promise<Engine>,
  ) {}

  /** Run one governed query. Throws `QueryError` (refused or failed) with a message fit for the user. */
  async query(sql: string, options: QueryOptions = {}): Promise<GovernedResult> {
    const principal = options.principal ? this.principal(options.principal) : LOCAL_ADMIN;
    const guarded = await guardQuery(sql, {
      principal,
      roles: this.definitions.roles,
      resolveRelation: (request) => this.resolveRelation(request),
      masks: { hashKeySql: hashKeyLiteral(this.definitions.project.governance.hashKey || DEV_MODE_HASH_KEY) },
    });
    const session = await (
      await this.engine()
    ).openSession({
      sandbox: { allowedDirectories: this.storage.readableDirectories },
    });
    try {
      return { ...(await session.query(guarded.sql)), guarded };
    } catch (error) {
      throw new QueryError(sanitizeEngineErrorMessage((error as Error).message), sql);
    } finally {
      session.close();
    }
  }

  private principal(name: string): AccessPrincipal {
    const declared = this.definitions.principals.find((principal) => principal.name === name);
    if (!declared) {
      throw new UsageError(
        `principal ${name} is not declared; add a \`kind: principal\` document for it under access/`,
      );
    }
    return { name: declared.name, groups: declared.groups, attributes: declared.attributes };
  }

  private async resolveRelation(request: RelationRequest): Promise<ResolvedRelation | undefined> {
    const table = await this.store.getTable(request.table);
    if (!table) return undefined;
    const version = !request.at
      ? await this.store.getCurrentVersion(request.table)
      : request.at.unit === 'VERSION'
        ? await this.store.getVersion(request.table, request.at.value)
        : await this.store.getVersionAt(request.table, toIsoTimestamp(request.at.value));
    if (!version) {
      if (request.at) return undefined;
      throw new QueryError(
        `table ${request.table} has no published version yet; run the task that produces it`,
      );
    }
    const declared = this.definitions.tables.find((candidate) => candidate.name === request.table);
    return {
      sql: parquetRelation(this.storage, version.files),
      fields: table.fields,
      deidentified: declared?.store === 'deidentified',
    };
  }
}
