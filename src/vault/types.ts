/** What anyone may know about a vault secret: everything but its value. */
export interface SecretInfo {
  name: string;
  /** The one upstream allowed to receive it; null when any upstream configuration may reference it. */
  upstream: string | null;
  description: string | null;
  /** 1 when created, +1 on every rotation. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The audit actor of the last change. */
  updatedBy: string;
}

/** A new value for a secret. Omitted `upstream`/`description` keep what a rotated secret had; null clears. */
export interface SetSecretInput {
  name: string;
  value: string;
  upstream?: string | null;
  description?: string | null;
}

/** Where a secret is being injected, so the vault can refuse one bound to another upstream. */
export interface RevealOptions {
  upstream?: string;
}

/**
 * Upstream credentials sealed at rest. Values go in through `set`/`rotate` and come out only through `reveal`,
 * which the gateway calls to inject them; nothing else returns, logs or audits a value.
 */
export interface Vault {
  /** Creates a secret (version 1), or rotates an existing one (version + 1). Audited. */
  set(input: SetSecretInput, actor: string): Promise<SecretInfo>;
  /** Like `set`, but refuses a name the vault does not hold (`secret_not_found`). Audited. */
  rotate(input: SetSecretInput, actor: string): Promise<SecretInfo>;
  list(): Promise<SecretInfo[]>;
  /** One secret's info; `secret_not_found` if there is none. */
  info(name: string): Promise<SecretInfo>;
  /**
   * The plaintext, for injection into an upstream request or process only. Never return it to a client, log it
   * or audit it.
   */
  reveal(name: string, options?: RevealOptions): Promise<string>;
  /** Removes a secret; `secret_not_found` if there is none. Audited. */
  delete(name: string, actor: string): Promise<SecretInfo>;
}
