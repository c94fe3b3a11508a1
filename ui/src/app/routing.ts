/**
 * Hash routing (`#/tables/clinical.patients`): every page has a link that can be shared or
 * reloaded, and the server needs no knowledge of the UI's paths.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'search'; params: URLSearchParams }
  | { page: 'table'; name: string }
  | { page: 'task'; name: string }
  | { page: 'query'; params: URLSearchParams }
  | { page: 'health' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || parts[0] === 'search') return { page: 'search', params };
  if (parts[0] === 'tables' && parts[1]) return { page: 'table', name: parts[1] };
  if (parts[0] === 'tasks' && parts[1]) return { page: 'task', name: parts[1] };
  if (parts[0] === 'query') return { page: 'query', params };
  if (parts[0] === 'health') return { page: 'health' };
  return { page: 'not-found', path };
}

export const href = {
  search: (params?: Record<string, string>) =>
    '#/search' + (params && Object.keys(params).length ? `?${new URLSearchParams(params)}` : ''),
  table: (name: string) => `#/tables/${encodeURIComponent(name)}`,
  task: (name: string) => `#/tasks/${encodeURIComponent(name)}`,
  query: (sql?: string) => '#/query' + (sql ? `?${new URLSearchParams({ sql })}` : ''),
  health: () => '#/health',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** Change the URL without a new history entry (a search box's text, the editor's SQL). */
export function replaceHash(hash: string): void {
  window.history.replaceState(null, '', hash);
}
