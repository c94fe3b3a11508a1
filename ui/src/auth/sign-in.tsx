/** Sign in with an API token (`tessera token create --principal NAME`); kept for this tab only. */
import { useState, type FormEvent } from 'react';
import { api } from '../api/client.ts';

export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn(token: string): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter a token; create one with `tessera token create --principal NAME`.');
      return;
    }
    setBusy(true);
    try {
      await api.signIn(value);
      onSignedIn(value);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Tessera</h1>
      <p>Sign in with an API token to search, inspect and query the datasets you may read.</p>
      {notice && <p role="status">{notice}</p>}
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">Token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" className="muted">
          Create one with <code>tessera token create --principal you@example.org</code>.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
