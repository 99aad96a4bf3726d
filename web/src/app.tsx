import { useEffect, useState } from 'react';
import { ApiError, api, rememberCsrfToken, type SignedIn } from './api.js';
import { ErrorBoundary } from './components/error-boundary.js';
import { Loading } from './components/states.js';
import { AgentPage } from './pages/agent.js';
import { ApprovalsPage } from './pages/approvals.js';
import { AuditPage } from './pages/audit.js';
import { InventoryPage } from './pages/inventory.js';
import { SessionPage } from './pages/session.js';
import { SessionsPage } from './pages/sessions.js';
import { SignInPage } from './pages/sign-in.js';

function readHashRoute(): string[] {
  return window.location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => decodeURIComponent(part));
}

function useHashRoute(): string[] {
  const [route, setRoute] = useState(readHashRoute);
  useEffect(() => {
    const onChange = () => setRoute(readHashRoute());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const NAV = [
  ['', 'Inventory'],
  ['approvals', 'Approvals'],
  ['sessions', 'Sessions'],
  ['audit', 'Audit'],
] as const;

export function App() {
  const [who, setWho] = useState<SignedIn | null | undefined>(undefined);
  const route = useHashRoute();
  useEffect(() => {
    api.get<SignedIn>('/ui/session').then(
      (signedIn) => {
        rememberCsrfToken(signedIn.csrfToken);
        setWho(signedIn);
      },
      (error: unknown) => {
        if (!(error instanceof ApiError && error.status === 401)) console.error(error);
        setWho(null);
      },
    );
  }, []);
  if (who === undefined) return <Loading what="your session" />;
  if (who === null) {
    return (
      <SignInPage
        onSignedIn={(signedIn) => {
          rememberCsrfToken(signedIn.csrfToken);
          setWho(signedIn);
        }}
      />
    );
  }
  const signOut = async () => {
    await api.delete('/ui/session').catch(() => {});
    rememberCsrfToken('');
    setWho(null);
  };
  const [page, id] = route;
  return (
    <div className="shell">
      <header>
        <strong className="brand">Gatehouse</strong>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} href={`#/${path}`} className={(page ?? '') === path ? 'current' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className="who">
          <span data-testid="role">{who.role}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <ErrorBoundary key={route.join('/')}>
          {page === 'agents' && id ? (
            <AgentPage id={id} who={who} />
          ) : page === 'sessions' && id ? (
            <SessionPage id={id} />
          ) : page === 'sessions' ? (
            <SessionsPage />
          ) : page === 'audit' ? (
            <AuditPage who={who} />
          ) : page === 'approvals' ? (
            <ApprovalsPage who={who} />
          ) : (
            <InventoryPage />
          )}
        </ErrorBoundary>
      </main>
    </div>
  );
}
