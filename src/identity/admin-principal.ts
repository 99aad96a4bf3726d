import type { AdminRole } from './types.js';

/** Who is calling the admin API or the CLI: an admin token, or the local operator working on the store directly. */
export interface AdminPrincipal {
  /** The audit actor string: `admin:<token id>` or `cli:<os user>@<host>`. */
  actor: string;
  role: AdminRole;
  /** The human behind the call, when known; reviews need one. */
  userId: string | null;
}

/** Which roles may do what. `admin` may do everything; the others read, and act in their own domain. */
export const ROLE_PERMISSIONS = {
  read: ['admin', 'reviewer', 'approver', 'auditor'],
  write: ['admin'],
  review: ['admin', 'reviewer'],
  audit: ['admin', 'auditor'],
  evaluate: ['admin', 'pep'],
  approve: ['admin', 'approver'],
} as const satisfies Record<string, readonly AdminRole[]>;

export type Permission = keyof typeof ROLE_PERMISSIONS;

export function hasPermission(principal: AdminPrincipal, permission: Permission): boolean {
  return (ROLE_PERMISSIONS[permission] as readonly AdminRole[]).includes(principal.role);
}
