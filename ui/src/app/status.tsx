/** Loading and error states, announced to screen readers. */
import type { ReactNode } from 'react';
import type { ApiState } from './use-api.ts';

export function ErrorMessage({ error }: { error: Error }) {
  return (
    <p role="alert" className="error">
      {error.message}
    </p>
  );
}

/** Render `children(data)` once loaded; the loading text or the error otherwise. */
export function Loaded<T>({
  state,
  label,
  children,
}: {
  state: ApiState<T>;
  label: string;
  children: (data: T) => ReactNode;
}) {
  if (state.error) return <ErrorMessage error={state.error} />;
  if (state.data === undefined)
    return (
      <p role="status" aria-live="polite" className="muted">
        Loading {label}…
      </p>
    );
  return <>{children(state.data)}</>;
}

/** A coloured badge with its meaning in text (never colour alone). */
export function Badge({ kind, children, title }: { kind: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${kind.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`} title={title}>
      {children}
    </span>
  );
}

export function formatAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

export function formatDuration(startIso?: string, endIso?: string): string {
  if (!startIso || !endIso) return '—';
  const ms = Date.parse(endIso) - Date.parse(startIso);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
