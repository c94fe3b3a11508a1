/**
 * A table's page: can it be trusted (health, freshness, validations), where it comes from
 * (lineage), who owns it, what it holds (schema with sensitivity and masks, a sample of rows as
 * this principal reads them).
 */
import { api } from '../api/client.ts';
import type { TableDetail } from '../api/types.ts';
import { href } from '../app/routing.ts';
import { Badge, formatAge, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';
import { LineageSection } from './lineage-section.tsx';
import { SampleRows } from './sample-rows.tsx';
import { SchemaTable } from './schema-table.tsx';
import { SubscribeSection } from './subscribe-section.tsx';
import { VersionsSection } from './versions-section.tsx';

export function TablePage({ name }: { name: string }) {
  const detail = useApi(() => api.table(name), [name]);
  // The sections load beside the detail, not after it: the page is as slow as its slowest request,
  // not the sum of two. A table the principal may not read fails the same way in each of them.
  return (
    <article aria-labelledby="table-title" className="table-page">
      <Loaded state={detail} label={`table ${name}`}>
        {(table) => <TableFacts table={table} />}
      </Loaded>
      {!detail.error && (
        <>
          <LineageSection table={name} />
          <section aria-labelledby="sample-title">
            <h2 id="sample-title">Sample rows</h2>
            <p className="muted">
              The first 20 rows as you read them (masks and row filters applied).{' '}
              <a href={href.query(`SELECT * FROM ${name} LIMIT 100`)}>Query in the editor</a>
            </p>
            <SampleRows table={name} />
          </section>
          <VersionsSection table={name} />
          {detail.data && <SubscribeSection table={name} owner={detail.data.owner} />}
        </>
      )}
    </article>
  );
}

function TableFacts({ table }: { table: TableDetail }) {
  const version = table.currentVersion;
  return (
    <>
      <header>
        <h1 id="table-title">{table.name}</h1>
        <p>{table.description ?? <span className="muted">No description.</span>}</p>
      </header>
      <dl className="facts">
        <div>
          <dt>Owner</dt>
          <dd>
            <OwnerContact table={table} />
          </dd>
        </div>
        <div>
          <dt>Health</dt>
          <dd>
            {table.health ? (
              <>
                <Badge kind={table.health.state}>{table.health.state}</Badge> {table.health.reason}
              </>
            ) : (
              <span className="muted">unknown</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Freshness</dt>
          <dd>
            {version ? (
              <>
                published {formatAge(version.publishedAt)} (
                <time dateTime={version.publishedAt}>{new Date(version.publishedAt).toLocaleString()}</time>)
              </>
            ) : (
              'never published'
            )}
            {table.freshness?.warnAfter && <> · warn after {table.freshness.warnAfter}</>}
            {table.freshness?.errorAfter && <> · error after {table.freshness.errorAfter}</>}
          </dd>
        </div>
        <div>
          <dt>Current version</dt>
          <dd>
            {version ? (
              <>
                {version.version} · {version.rowCount.toLocaleString()} rows · by task{' '}
                <a href={href.task(version.task)}>{version.task}</a>
                {version.gitCommit && (
                  <>
                    {' '}
                    · commit <code>{version.gitCommit.slice(0, 10)}</code>
                  </>
                )}
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
        {table.rowFiltered && (
          <div>
            <dt>Your access</dt>
            <dd>a row filter applies: you read only some rows</dd>
          </div>
        )}
      </dl>
      <section aria-labelledby="schema-title">
        <h2 id="schema-title">Schema</h2>
        <SchemaTable columns={table.columns} />
      </section>
    </>
  );
}

function OwnerContact({ table }: { table: TableDetail }) {
  const owner = table.ownerDetail;
  const emails = owner?.channels?.flatMap((channel) => channel.to ?? []) ?? [];
  const members = owner?.members ?? [];
  return (
    <>
      <strong>{table.owner}</strong>
      {owner?.description && <> — {owner.description}</>}
      {(emails.length > 0 || members.length > 0) && (
        <>
          {' · reach them at '}
          {[...new Set([...emails, ...members])].map((address, index) => (
            <span key={address}>
              {index > 0 && ', '}
              <a href={`mailto:${address}`}>{address}</a>
            </span>
          ))}
        </>
      )}
      {owner?.channels && owner.channels.length > 0 && (
        <span className="muted">
          {' '}
          · notified by {owner.channels.map((channel) => channel.type).join(', ')}
        </span>
      )}
    </>
  );
}
