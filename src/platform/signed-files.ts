/**
 * Signed, expiring URLs to a version's Parquet files (issue #14 part 4: notebooks and Spark jobs
 * read a table's files directly). Only a principal that may read the table WHOLE gets them: every
 * sensitive field in clear, no denied column, no row filter — the files hold exactly that, so
 * handing them out shows nothing the governed read path would not. Everyone else is refused, and
 * every URL issued (and every refusal) is an entry in the query audit log.
 *
 * A URL names the file's storage key, an expiry and an HMAC-SHA256 over both, keyed with a secret
 * the catalog generates and keeps (`catalogKey('file_urls')`): URLs survive a restart and a Git
 * sync replacing the platform, and two catalogs never accept each other's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import type { CatalogStore } from '../catalog/catalog-store.ts';
import { NotFoundError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import { newAuditId, resolveAccess, type RowFilterLineage, type TokenService } from '../governance/index.ts';
import type { Definitions, FieldDef, QueryAuditEntry, Sensitivity } from '../model/index.ts';
import type { Storage } from '../storage/index.ts';

/** How long an issued URL stays valid unless asked otherwise: 15 minutes. */
export const DEFAULT_SIGNED_URL_TTL_SECONDS = 15 * 60;
/** The longest validity a caller may ask for: 24 hours. */
export const MAX_SIGNED_URL_TTL_SECONDS = 24 * 60 * 60;

/** One file of a version, with what a client needs to build its URL. */
export interface SignedFile {
  /** The storage key, relative to the storage root (`clinical/patients/<run>/part-0.parquet`). */
  key: string;
  bytes?: number;
  /** Unix seconds after which the signature is refused. */
  expires: number;
  /** Hex HMAC-SHA256 over `key` and `expires`. */
  signature: string;
}

/** A version's files, signed for one principal. */
export interface SignedVersionFiles {
  table: string;
  version: number;
  rowCount: number;
  files: SignedFile[];
}

/** What `Platform.signedFiles()` offers the faces. */
export interface SignedFileService {
  /**
   * Sign every file of `table`'s version `version` for the token's principal. `NotFoundError` for
   * an unknown or ungranted table or version (the same answer), `TesseraError` `forbidden`
   * when the principal may read the table but not whole. Audited, allowed or refused.
   */
  issue(request: {
    token: string;
    table: string;
    version: number;
    ttlSeconds?: number;
  }): Promise<SignedVersionFiles>;
  /**
   * The local path of a signed file, once its signature and expiry check out; `NotFoundError`
   * otherwise (the same answer whatever was wrong, so a forger learns nothing).
   */
  open(request: { key: string; expires: number; signature: string }): Promise<{ path: string }>;
}

/** The platform's parts the service needs (src/platform/internals.ts, plus the governance inputs). */
export interface SignedFileParts {
  definitions: Definitions;
  store: CatalogStore;
  storage: Storage;
  tokens: TokenService;
  rowFilterLineage(): Promise<RowFilterLineage>;
  now?: () => Date;
}

export function signedFileService(parts: SignedFileParts): SignedFileService {
  const now = parts.now ?? (() => new Date());
  let secret: Promise<string> | undefined;
  const secretOnce = () => (secret ??= parts.store.catalogKey('file_urls'));
  const sign = async (key: string, expires: number) =>
    createHmac('sha256', await secretOnce())
      .update(`${key}\n${expires}`)
      .digest('hex');

  return {
    async issue({ token, table, version, ttlSeconds = DEFAULT_SIGNED_URL_TTL_SECONDS }) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SIGNED_URL_TTL_SECONDS) {
        throw new UsageError(
          `a signed URL's lifetime must be 1 to ${MAX_SIGNED_URL_TTL_SECONDS} seconds; ${ttlSeconds} is not`,
        );
      }
      const arrived = now();
      const tokenInfo = await parts.tokens.verify(token);
      const request = `-- signed file URLs: ${table} version ${version}`;
      const entry: QueryAuditEntry = {
        id: newAuditId(arrived),
        at: arrived.toISOString(),
        principal: tokenInfo?.principal ?? '(unknown)',
        ...(tokenInfo ? { tokenId: tokenInfo.id } : {}),
        sql: request,
        outcome: 'refused',
        tables: [],
        columns: [],
        masks: [],
        rowFilters: [],
        durationMs: 0,
      };
      const refuse = async (error: Error): Promise<never> => {
        entry.reason = error.message;
        entry.durationMs = Date.now() - arrived.getTime();
        await parts.store.recordQueryAudit(entry);
        throw error;
      };
      const notFound = () =>
        new NotFoundError(`table ${table} version ${version} not found (see GET /api/v1/tables)`);
      if (!tokenInfo)
        return refuse(new TesseraError('the token is unknown, expired or revoked', { code: 'unauthorized' }));
      const principal = parts.definitions.principals.find(
        (declared) => declared.name === tokenInfo.principal,
      );
      if (!principal)
        return refuse(new TesseraError('the token is unknown, expired or revoked', { code: 'unauthorized' }));

      const access = resolveAccess(principal, parts.definitions.roles, table, await parts.rowFilterLineage());
      const record = access ? await parts.store.getTable(table) : undefined;
      if (!access || !record) return refuse(notFound());
      const stored = await parts.store.getVersion(table, version);
      if (!stored) return refuse(notFound());

      const masked = sensitivities(record.fields).filter(
        (sensitivity) => !access.unmasked.includes(sensitivity),
      );
      const partial = [
        ...(access.hiddenColumns.length > 0
          ? [`columns denied to it (${access.hiddenColumns.join(', ')})`]
          : []),
        ...(masked.length > 0 ? [`${masked.join(' and ')} fields masked`] : []),
        ...(access.rowFilter !== undefined ? ['a row filter'] : []),
      ];
      if (partial.length > 0) {
        return refuse(
          new TesseraError(
            `${principal.name} may not download the files of ${record.name}: it reads that table with ${partial.join(', ')}; ` +
              'only a principal granted the whole table (every sensitive field unmasked, no denied column, no row filter) gets file URLs — query it with POST /api/v1/query instead',
            { code: 'forbidden' },
          ),
        );
      }

      const expires = Math.floor(arrived.getTime() / 1000) + ttlSeconds;
      const files: SignedFile[] = [];
      for (const key of stored.files) {
        const bytes = await parts.storage.sizeOf([key]).catch(() => undefined);
        files.push({
          key,
          ...(bytes !== undefined ? { bytes } : {}),
          expires,
          signature: await sign(key, expires),
        });
      }
      entry.outcome = 'allowed';
      entry.tables = [record.name];
      entry.columns = record.fields.map((field) => ({ table: record.name, column: field.name }));
      entry.rowsReturned = stored.rowCount;
      entry.durationMs = Date.now() - arrived.getTime();
      // One entry per URL: each is a separate grant of a file until it expires.
      for (const file of files) {
        await parts.store.recordQueryAudit({
          ...entry,
          id: newAuditId(arrived),
          sql: `${request}: ${file.key} (expires ${new Date(file.expires * 1000).toISOString()})`,
        });
      }
      return { table: record.name, version: stored.version, rowCount: stored.rowCount, files };
    },

    async open({ key, expires, signature }) {
      const refused = () =>
        new NotFoundError('file not found, or its URL expired or was altered; ask for new URLs');
      if (!Number.isInteger(expires) || expires * 1000 < now().getTime()) throw refused();
      const expected = Buffer.from(await sign(key, expires), 'hex');
      const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
      // A signed key came from a version's file list; still never leave the storage root.
      const path = resolve(parts.storage.localPath(key));
      const inside = parts.storage.readableDirectories.some((root) => {
        const rest = relative(resolve(root), path);
        return rest !== '' && !rest.startsWith('..') && !isAbsolute(rest);
      });
      if (!inside) throw refused();
      await parts.storage.ensureLocal([key]);
      return { path };
    },
  };
}

/** Every sensitivity a table's fields (nested ones included) carry. */
function sensitivities(fields: FieldDef[]): Sensitivity[] {
  const found = new Set<Sensitivity>();
  const visit = (field: FieldDef) => {
    if (field.sensitivity) found.add(field.sensitivity);
    let type = field.type;
    while (type.kind === 'list') type = type.element;
    if (type.kind === 'struct') type.fields.forEach(visit);
  };
  fields.forEach(visit);
  return [...found];
}
