/** The dashboard's view of who is signed in. */
export interface SignedIn {
  role: 'admin' | 'reviewer' | 'approver' | 'auditor' | 'pep';
  actor: string;
  csrfToken: string;
}

/** An API failure, with the server's words (RFC 9457 problem `detail`) and its stable code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Remembers the CSRF token every state-changing request must send. */
export function rememberCsrfToken(token: string): void {
  csrfToken = token;
}

async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('Gatehouse could not be reached. Check that the server is running.', 0, undefined);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as { detail?: string; title?: string; code?: string };
    throw new ApiError(
      problem.detail ?? problem.title ?? `The request failed (HTTP ${response.status}).`,
      response.status,
      problem.code,
    );
  }
  return parsed as T;
}

export const api = {
  get: <T>(url: string) => request<T>('GET', url),
  post: <T>(url: string, body: unknown = {}) => request<T>('POST', url, body),
  delete: <T>(url: string) => request<T>('DELETE', url),
};

/** What each role may do in the dashboard; the API enforces the same rules. */
export function can(role: SignedIn['role'], action: 'write' | 'review' | 'audit' | 'approve'): boolean {
  switch (action) {
    case 'write':
      return role === 'admin';
    case 'review':
      return role === 'admin' || role === 'reviewer';
    case 'audit':
      return role === 'admin' || role === 'auditor';
    case 'approve':
      return role === 'admin' || role === 'approver';
  }
}

export const enc = encodeURIComponent;

/** A timestamp in the reader's locale, or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
