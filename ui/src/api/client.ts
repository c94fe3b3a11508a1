/**
 * The UI's one door to data: the HTTP API under /api/v1 with the signed-in token as a bearer token.
 * Every answer is what the principal may see; the UI never filters for governance itself.
 */
import type {
  Incident,
  LineageEdge,
  LineageView,
  QueryResult,
  Run,
  RunLogLine,
  Subscription,
  TableDetail,
  TableHealth,
  TableSummary,
  TaskSummary,
  ValidationsView,
  VersionSummary,
} from './types.ts';

/** An error answer of the API: `{"error": {"code", "message"}}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the API says the token is no longer good (401): the app signs out. */
let onUnauthorized: (() => void) | undefined;
export function whenUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

const TOKEN_KEY = 'tessera.token';

/** The token of this tab's session (sessionStorage: closing the tab signs out). */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

async function request(path: string, init: RequestInit = {}, token = storedToken()): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await fetch(`/api/v1${path}`, { ...init, headers });
  if (response.ok) return response;
  let code = 'http_' + response.status;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  if (response.status === 401 && token === storedToken()) onUnauthorized?.();
  throw new ApiError(response.status, code, message);
}

async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

/** Lists come as `{KEY: [...]}`; accept a bare array too. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const value = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(value) ? (value as T[]) : [];
}

const enc = encodeURIComponent;

export const api = {
  /** Whether a token is accepted: the table list answers, or 401. */
  async signIn(token: string): Promise<void> {
    await request('/tables', {}, token);
  },
  async tables(search?: string): Promise<TableSummary[]> {
    const query = search ? `?search=${enc(search)}` : '';
    return listOf<TableSummary>(await getJson(`/tables${query}`), 'tables');
  },
  table: (name: string) => getJson<TableDetail>(`/tables/${enc(name)}`),
  async versions(name: string): Promise<VersionSummary[]> {
    return listOf<VersionSummary>(await getJson(`/tables/${enc(name)}/versions`), 'versions');
  },
  validations: (name: string) => getJson<ValidationsView>(`/tables/${enc(name)}/validations`),
  async lineage(name: string, options: { depth?: number; columns?: boolean } = {}): Promise<LineageView> {
    const params = new URLSearchParams({ direction: 'both', depth: String(options.depth ?? 5) });
    if (options.columns) params.set('columns', 'true');
    const body = await getJson<{ upstream?: LineageEdge[]; downstream?: LineageEdge[] }>(
      `/tables/${enc(name)}/lineage?${params}`,
    );
    return { table: name, edges: [...(body.upstream ?? []), ...(body.downstream ?? [])] };
  },
  async tasks(): Promise<TaskSummary[]> {
    return listOf<TaskSummary>(await getJson('/tasks'), 'tasks');
  },
  async taskRuns(task: string): Promise<Run[]> {
    return listOf<Run>(await getJson(`/tasks/${enc(task)}/runs`), 'runs');
  },
  async runs(filter: { task?: string; status?: string } = {}): Promise<Run[]> {
    const params = new URLSearchParams(Object.entries(filter).filter(([, value]) => value) as string[][]);
    return listOf<Run>(await getJson(`/runs?${params}`), 'runs');
  },
  async runLogs(id: string): Promise<RunLogLine[]> {
    return listOf<RunLogLine>(await getJson(`/runs/${enc(id)}/logs`), 'lines');
  },
  rerun: (task: string) =>
    getJson<{ runs: Run[] }>(`/tasks/${enc(task)}/runs`, { method: 'POST', body: '{}' }),
  backfill: (task: string) =>
    getJson<{ runs: Run[] }>(`/tasks/${enc(task)}/backfill`, { method: 'POST', body: '{}' }),
  cancel: (runId: string) =>
    getJson<{ run: Run }>(`/runs/${enc(runId)}/cancel`, { method: 'POST', body: '{}' }),
  actions: (task: string) => getJson<{ allowed: boolean; reason: string }>(`/tasks/${enc(task)}/actions`),
  async health(): Promise<{ tables: TableHealth[]; incidents: Incident[] }> {
    const [health, incidents] = await Promise.all([
      getJson<{ tables: { table: string; state: string; reason: string; owner?: string }[] }>('/health'),
      getJson<{ incidents: Incident[] }>('/incidents'),
    ]);
    return {
      tables: health.tables.map(({ state, ...entry }): TableHealth => ({ ...entry, health: state })),
      incidents: incidents.incidents,
    };
  },
  async subscriptions(): Promise<Subscription[]> {
    return listOf<Subscription>(await getJson('/subscriptions'), 'subscriptions');
  },
  subscribe: (table: string, owner: string) =>
    getJson<unknown>('/subscriptions', { method: 'POST', body: JSON.stringify({ table, owner }) }),
  unsubscribe: (table: string, owner: string) =>
    request(`/subscriptions?${new URLSearchParams({ table, owner })}`, { method: 'DELETE' }),
  /** A governed query; `signal` aborts it (the server cancels the engine statement). */
  query: (sql: string, options: { limit?: number; signal?: AbortSignal } = {}) =>
    getJson<QueryResult>('/query', {
      method: 'POST',
      body: JSON.stringify({ sql, format: 'json', limit: options.limit ?? 10_000 }),
      signal: options.signal,
    }),
  /** The same query as CSV (RFC 4180, the server's encoding), for a download. */
  async queryCsv(sql: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<Blob> {
    const response = await request('/query', {
      method: 'POST',
      body: JSON.stringify({ sql, format: 'csv', limit: options.limit ?? 1_000_000 }),
      signal: options.signal,
    });
    return response.blob();
  },
};
