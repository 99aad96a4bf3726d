import { useState } from 'react';

/** A button that runs an API action, shows that it is busy, and says in words what went wrong. */
export function ActionButton({
  label,
  busyLabel,
  run,
  className,
  disabled,
}: {
  label: string;
  busyLabel?: string;
  run: () => Promise<unknown>;
  className?: string;
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="action">
      <button
        type="button"
        className={className}
        disabled={busy || disabled}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await run();
          } catch (caught) {
            setError(caught instanceof Error ? caught.message : String(caught));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? (busyLabel ?? `${label}…`) : label}
      </button>
      {error && (
        <span className="state error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
