/**
 * Instant search over every table the principal may read: names, descriptions, column names and
 * descriptions, owners; filters by namespace, owner, health and sensitivity. The catalog a
 * principal sees is small enough to hold in the page, so typing never waits for the server.
 */
import { useMemo, useState } from 'react';
import { api } from '../api/client.ts';
import type { ColumnView, TableSummary } from '../api/types.ts';
import { href, replaceHash } from '../app/routing.ts';
import { Badge, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';

interface SearchEntry extends TableSummary {
  columns: ColumnView[];
  health?: string;
  healthReason?: string;
}

async function loadCatalog(): Promise<SearchEntry[]> {
  const [tables, health] = await Promise.all([api.tables(), api.health().catch(() => undefined)]);
  const healthOf = new Map(health?.tables.map((entry) => [entry.table, entry]));
  // The list names the tables; columns (with sensitivity) come from each table's detail when the
  // list leaves them out.
  return Promise.all(
    tables.map(async (table) => {
      const columns = table.columns ?? (await api.table(table.name).catch(() => undefined))?.columns ?? [];
      const entry = healthOf.get(table.name);
      return { ...table, columns, health: entry?.health, healthReason: entry?.reason };
    }),
  );
}

export function matches(entry: SearchEntry, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = [
    entry.name,
    entry.owner,
    entry.description ?? '',
    ...entry.columns.flatMap((column) => [column.name, column.description ?? '']),
  ]
    .join('\n')
    .toLowerCase();
  return words.every((word) => haystack.includes(word));
}

const FILTERS = ['namespace', 'owner', 'health', 'sensitivity'] as const;
type Filter = (typeof FILTERS)[number];

function valuesOf(entry: SearchEntry, filter: Filter): string[] {
  switch (filter) {
    case 'namespace':
      return [entry.name.split('.')[0] ?? entry.name];
    case 'owner':
      return [entry.owner];
    case 'health':
      return entry.health ? [entry.health] : [];
    case 'sensitivity':
      return entry.columns.flatMap((column) => (column.sensitivity ? [column.sensitivity] : []));
  }
}

export function SearchPage({ params }: { params: URLSearchParams }) {
  const catalog = useApi(loadCatalog, []);
  const [text, setText] = useState(params.get('q') ?? '');
  const [chosen, setChosen] = useState<Record<Filter, string>>(() => ({
    namespace: params.get('namespace') ?? '',
    owner: params.get('owner') ?? '',
    health: params.get('health') ?? '',
    sensitivity: params.get('sensitivity') ?? '',
  }));
  const update = (nextText: string, nextChosen: Record<Filter, string>) => {
    setText(nextText);
    setChosen(nextChosen);
    const kept = Object.fromEntries(
      Object.entries({ q: nextText, ...nextChosen }).filter(([, value]) => value !== ''),
    );
    replaceHash(href.search(kept));
  };
  const options = useMemo(() => {
    const found = Object.fromEntries(FILTERS.map((filter) => [filter, new Set<string>()])) as Record<
      Filter,
      Set<string>
    >;
    for (const entry of catalog.data ?? [])
      for (const filter of FILTERS) for (const value of valuesOf(entry, filter)) found[filter].add(value);
    return found;
  }, [catalog.data]);
  const results = (catalog.data ?? []).filter(
    (entry) =>
      matches(entry, text) &&
      FILTERS.every((filter) => !chosen[filter] || valuesOf(entry, filter).includes(chosen[filter])),
  );
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Find a dataset</h1>
      <div className="search-bar" role="search">
        <input
          type="search"
          aria-label="Search tables"
          placeholder="Table, column, description or owner…"
          value={text}
          autoFocus
          onChange={(event) => update(event.target.value, chosen)}
        />
      </div>
      <div className="filters" role="group" aria-label="Filters">
        {FILTERS.map((filter) => (
          <label key={filter}>
            {filter[0]!.toUpperCase() + filter.slice(1)}
            <select
              value={chosen[filter]}
              onChange={(event) => update(text, { ...chosen, [filter]: event.target.value })}
            >
              <option value="">any</option>
              {[...options[filter]].sort().map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
        ))}
      </div>
      <Loaded state={catalog} label="the catalog">
        {() => (
          <>
            <p role="status" aria-live="polite" className="muted">
              {results.length} {results.length === 1 ? 'table' : 'tables'}
            </p>
            <ul className="results" aria-label="Search results">
              {results.map((entry) => (
                <li key={entry.name}>
                  <a href={href.table(entry.name)} className="result-name">
                    {entry.name}
                  </a>
                  {entry.health && (
                    <Badge kind={entry.health} title={entry.healthReason}>
                      {entry.health}
                    </Badge>
                  )}
                  {[...new Set(valuesOf(entry, 'sensitivity'))].map((sensitivity) => (
                    <Badge key={sensitivity} kind={sensitivity}>
                      {sensitivity}
                    </Badge>
                  ))}
                  <p>{entry.description ?? <span className="muted">No description.</span>}</p>
                  <p className="muted">
                    Owner {entry.owner} · {entry.columns.length} columns
                    {entry.currentVersion !== undefined ? ` · version ${entry.currentVersion}` : ''}
                  </p>
                </li>
              ))}
            </ul>
          </>
        )}
      </Loaded>
    </section>
  );
}
