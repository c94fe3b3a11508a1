/**
 * Subscriptions: an owner team is told of this table's events through its channels. A principal
 * subscribes a team (owners are teams; the repo lists their channels).
 */
import { useState, type FormEvent } from 'react';
import { api } from '../api/client.ts';
import { ErrorMessage, Loaded } from '../app/status.tsx';
import { useApi } from '../app/use-api.ts';

export function SubscribeSection({ table, owner }: { table: string; owner: string }) {
  const subscriptions = useApi(
    async () => (await api.subscriptions()).filter((entry) => entry.table === table),
    [table],
  );
  const [team, setTeam] = useState(owner);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      subscriptions.reload();
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void act(() => api.subscribe(table, team.trim()));
  };
  return (
    <section aria-labelledby="subscribe-title">
      <h2 id="subscribe-title">Subscriptions</h2>
      <Loaded state={subscriptions} label="subscriptions">
        {(entries) =>
          entries.length === 0 ? (
            <p className="muted">No team subscribed through the catalog.</p>
          ) : (
            <ul aria-label="Subscribed teams">
              {entries.map((entry) => (
                <li key={entry.owner}>
                  {entry.owner} {entry.events ? `(${entry.events.join(', ')})` : '(every event)'}{' '}
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void act(() => api.unsubscribe(table, entry.owner))}
                  >
                    Unsubscribe {entry.owner}
                  </button>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <form onSubmit={submit} className="inline-form" aria-label="Subscribe a team">
        <label>
          Team
          <input value={team} onChange={(event) => setTeam(event.target.value)} />
        </label>
        <button type="submit" disabled={busy || team.trim() === ''}>
          Subscribe
        </button>
      </form>
      {error && <ErrorMessage error={error} />}
    </section>
  );
}
