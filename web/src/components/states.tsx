import { type DependencyList, useEffect, useState } from 'react';

export type Load<T> =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; data: T; reload: () => void };

/** Runs `fetcher` when `deps` change; `reload()` runs it again (after an action, on a live update). */
export function useLoad<T>(fetcher: () => Promise<T>, deps: DependencyList): Load<T> {
  const [state, setState] = useState<Load<T>>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  useEffect(() => {
    let live = true;
    fetcher().then(
      (data) => live && setState({ status: 'ready', data, reload: () => setTick((t) => t + 1) }),
      (error: unknown) =>
        live &&
        setState({ status: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return state;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorText({ message }: { message: string }) {
  return (
    <p className="state error" role="alert">
      {message}
    </p>
  );
}

/** Renders the loading and error states, and `children(data)` once ready. */
export function Loaded<T>({
  load,
  what,
  children,
}: {
  load: Load<T>;
  what: string;
  children: (data: T, reload: () => void) => React.ReactNode;
}) {
  if (load.status === 'loading') return <Loading what={what} />;
  if (load.status === 'error') return <ErrorText message={`Could not load ${what}: ${load.message}`} />;
  return <>{children(load.data, load.reload)}</>;
}

export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${value.replace(/[^a-z_-]/gi, '')}`}>{value}</span>;
}
