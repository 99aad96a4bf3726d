import { useState } from 'react';
import { ApiError, api, type SignedIn } from '../api.js';

/** Exchanges an admin token for a session cookie; the token itself is not kept by the page. */
export function SignInPage({ onSignedIn }: { onSignedIn: (who: SignedIn) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.post<SignedIn>('/ui/session', { token: token.trim() }));
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That admin token was not accepted: it is unknown, revoked, or its user is deactivated.'
          : caught instanceof Error
            ? caught.message
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Gatehouse</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          placeholder="gha_…"
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p className="hint">
        Create one with <code>gatehouse admin token create --role admin</code>. It is exchanged for a session
        cookie; the page does not store it.
      </p>
    </main>
  );
}
