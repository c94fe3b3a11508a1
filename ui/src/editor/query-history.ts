/** The queries this browser ran, newest first (localStorage; at most 50). */
export interface HistoryEntry {
  sql: string;
  at: string;
  /** Rows returned, or the error's message. */
  outcome: string;
}

const KEY = 'tessera.queryHistory';
const MAX = 50;

export function readHistory(): HistoryEntry[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as HistoryEntry[]) : [];
  } catch {
    return [];
  }
}

export function remember(entry: HistoryEntry): HistoryEntry[] {
  const next = [entry, ...readHistory().filter((old) => old.sql !== entry.sql)].slice(0, MAX);
  localStorage.setItem(KEY, JSON.stringify(next));
  return next;
}

export function clearHistory(): void {
  localStorage.removeItem(KEY);
}
