import type { SqlDialect } from './sql.js';

/** The column types that differ between the dialects; everything else in the DDL is shared. */
export interface ColumnTypes {
  /** Epoch-millisecond times and sequence numbers. On SQLite `INTEGER PRIMARY KEY` is the rowid, as wanted. */
  int64: string;
  /** JSON documents: TEXT on SQLite, JSONB on PostgreSQL (queryable later). */
  json: string;
  /** Booleans, stored as 0/1 on both so repositories read them the same way. */
  flag: string;
}

export const COLUMN_TYPES: Record<SqlDialect, ColumnTypes> = {
  sqlite: { int64: 'INTEGER', json: 'TEXT', flag: 'INTEGER' },
  postgres: { int64: 'BIGINT', json: 'JSONB', flag: 'SMALLINT' },
};

export interface Migration {
  version: number;
  name: string;
  /** The DDL, written once for both dialects. */
  sql(t: ColumnTypes): string;
}

/**
 * Versioned schema changes, applied in order and recorded in `schema_migrations`. Never edit a released
 * migration: add a new one. Audit times are ISO text (they are hashed as text); other times are epoch ms.
 * audit_entries has no index on `hash`: the chain is addressed by seq, a duplicate hash would need a SHA-256
 * collision, and a random-keyed index costs SQLite half its append throughput (BENCHMARKS.md).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, identity and audit',
    sql: (t) => `
        CREATE TABLE teams (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          created_at ${t.int64} NOT NULL, updated_at ${t.int64} NOT NULL);
        CREATE TABLE users (
          id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, display_name TEXT, active ${t.flag} NOT NULL,
          created_at ${t.int64} NOT NULL, updated_at ${t.int64} NOT NULL, deactivated_at ${t.int64});
        CREATE TABLE team_members (
          team_id TEXT NOT NULL REFERENCES teams(id), user_id TEXT NOT NULL REFERENCES users(id),
          added_at ${t.int64} NOT NULL, PRIMARY KEY (team_id, user_id));
        CREATE INDEX team_members_user ON team_members(user_id);
        CREATE TABLE agents (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          team_id TEXT NOT NULL REFERENCES teams(id), sponsor_id TEXT NOT NULL REFERENCES users(id),
          labels ${t.json} NOT NULL, review_status TEXT NOT NULL, reviewed_version INTEGER, reviewed_by TEXT,
          reviewed_at ${t.int64}, review_note TEXT, state TEXT NOT NULL, state_reason TEXT,
          needs_sponsor ${t.flag} NOT NULL, orphaned_at ${t.int64}, manifest_version INTEGER,
          created_at ${t.int64} NOT NULL, updated_at ${t.int64} NOT NULL);
        CREATE INDEX agents_team ON agents(team_id);
        CREATE INDEX agents_sponsor ON agents(sponsor_id);
        CREATE TABLE agent_manifests (
          agent_id TEXT NOT NULL REFERENCES agents(id), version INTEGER NOT NULL, manifest ${t.json} NOT NULL,
          digest TEXT NOT NULL, created_at ${t.int64} NOT NULL, created_by TEXT NOT NULL,
          PRIMARY KEY (agent_id, version));
        CREATE TABLE agent_keys (
          kid TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), alg TEXT NOT NULL,
          public_jwk ${t.json} NOT NULL, created_at ${t.int64} NOT NULL, revoked_at ${t.int64});
        CREATE INDEX agent_keys_agent ON agent_keys(agent_id);
        CREATE TABLE used_assertions (
          agent_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at ${t.int64} NOT NULL, PRIMARY KEY (agent_id, jti));
        CREATE INDEX used_assertions_expiry ON used_assertions(expires_at);
        CREATE TABLE signing_keys (
          kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk ${t.json} NOT NULL, private_jwk_encrypted TEXT NOT NULL,
          status TEXT NOT NULL, created_at ${t.int64} NOT NULL, retired_at ${t.int64}, verify_until ${t.int64});
        CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(status) WHERE status = 'active';
        CREATE TABLE admin_tokens (
          id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, user_id TEXT REFERENCES users(id),
          token_hash TEXT NOT NULL UNIQUE, created_at ${t.int64} NOT NULL, created_by TEXT NOT NULL,
          revoked_at ${t.int64}, last_used_at ${t.int64});
        CREATE TABLE audit_entries (
          seq ${t.int64} PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
          details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE TABLE audit_checkpoints (
          seq ${t.int64} PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, kid TEXT NOT NULL,
          signature TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'policy versions and sessions',
    sql: (t) => `
        CREATE TABLE policy_versions (
          version ${t.int64} PRIMARY KEY, digest TEXT NOT NULL, sources ${t.json} NOT NULL, message TEXT,
          created_at ${t.int64} NOT NULL, created_by TEXT NOT NULL);
        CREATE TABLE policy_pointers (
          name TEXT PRIMARY KEY, version ${t.int64} NOT NULL REFERENCES policy_versions(version),
          updated_at ${t.int64} NOT NULL, updated_by TEXT NOT NULL);
        CREATE TABLE policy_sessions (
          id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, scope ${t.json} NOT NULL, on_behalf_of ${t.json},
          chain ${t.json} NOT NULL, state ${t.json} NOT NULL, revision ${t.int64} NOT NULL,
          created_at ${t.int64} NOT NULL, updated_at ${t.int64} NOT NULL);
        CREATE INDEX policy_sessions_agent ON policy_sessions(agent_id, updated_at);
        CREATE TABLE session_calls (
          session_id TEXT NOT NULL REFERENCES policy_sessions(id), step ${t.int64} NOT NULL, at ${t.int64} NOT NULL,
          tool TEXT NOT NULL, args ${t.json} NOT NULL, principal ${t.json} NOT NULL, effect TEXT NOT NULL,
          code TEXT NOT NULL, rule_ids ${t.json} NOT NULL, bundle_version TEXT NOT NULL, outcome TEXT NOT NULL,
          shadow_effect TEXT, shadow_rule_ids ${t.json}, shadow_version TEXT,
          PRIMARY KEY (session_id, step));
        CREATE INDEX session_calls_at ON session_calls(at);
    `,
  },
  {
    version: 3,
    name: 'vault and capability redemptions',
    sql: (t) => `
        CREATE TABLE secrets (
          name TEXT PRIMARY KEY, upstream TEXT, description TEXT, sealed_value TEXT NOT NULL,
          version ${t.int64} NOT NULL, created_at ${t.int64} NOT NULL, updated_at ${t.int64} NOT NULL,
          updated_by TEXT NOT NULL);
        CREATE TABLE capability_redemptions (
          jti TEXT PRIMARY KEY, session_id TEXT, redeemed_at ${t.int64} NOT NULL, expires_at ${t.int64} NOT NULL);
        CREATE INDEX capability_redemptions_expiry ON capability_redemptions(expires_at);
    `,
  },
  {
    version: 4,
    name: 'llm usage',
    sql: (t) => `
        CREATE TABLE llm_usage (
          id TEXT PRIMARY KEY, at ${t.int64} NOT NULL, agent_id TEXT NOT NULL, team_id TEXT NOT NULL,
          session_id TEXT, provider TEXT NOT NULL, operation TEXT NOT NULL, model TEXT NOT NULL,
          input_tokens ${t.int64} NOT NULL, output_tokens ${t.int64} NOT NULL, outcome TEXT NOT NULL,
          duration_ms ${t.int64} NOT NULL);
        CREATE INDEX llm_usage_agent_at ON llm_usage(agent_id, at);
        CREATE INDEX llm_usage_team_at ON llm_usage(team_id, at);
        CREATE INDEX llm_usage_at ON llm_usage(at);
        CREATE TABLE llm_usage_daily (
          scope TEXT NOT NULL, owner_id TEXT NOT NULL, day ${t.int64} NOT NULL, requests ${t.int64} NOT NULL,
          tokens ${t.int64} NOT NULL, PRIMARY KEY (scope, owner_id, day));
    `,
  },
  // Tool definitions are TEXT, not JSON: their canonical text is what is hashed, and JSONB would reorder it.
  {
    version: 5,
    name: 'tool pinning',
    sql: (t) => `
        CREATE TABLE tool_pin_baselines (
          agent_id TEXT PRIMARY KEY REFERENCES agents(id), manifest_version INTEGER,
          established_at ${t.int64} NOT NULL, established_by TEXT NOT NULL, updated_at ${t.int64} NOT NULL);
        CREATE TABLE tool_pins (
          agent_id TEXT NOT NULL REFERENCES agents(id), tool TEXT NOT NULL, upstream TEXT NOT NULL,
          hash TEXT NOT NULL, definition TEXT NOT NULL, pinned_at ${t.int64} NOT NULL, pinned_by TEXT NOT NULL,
          PRIMARY KEY (agent_id, tool));
        CREATE TABLE observed_tools (
          tool TEXT PRIMARY KEY, upstream TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL,
          first_seen_at ${t.int64} NOT NULL, changed_at ${t.int64} NOT NULL);
        CREATE TABLE tool_holds (
          agent_id TEXT NOT NULL REFERENCES agents(id), tool TEXT NOT NULL, upstream TEXT NOT NULL,
          hash TEXT NOT NULL, kind TEXT NOT NULL, pinned_hash TEXT, definition TEXT NOT NULL,
          held_at ${t.int64} NOT NULL, PRIMARY KEY (agent_id, tool, hash));
    `,
  },
  {
    version: 6,
    name: 'delegation: exchanged tokens, revocations, token sessions',
    sql: (t) => `
        CREATE TABLE delegated_tokens (
          jti TEXT PRIMARY KEY, parent_jti TEXT, root_jti TEXT NOT NULL, subject TEXT NOT NULL,
          subject_kind TEXT NOT NULL, holder TEXT NOT NULL, audience TEXT NOT NULL, chain ${t.json} NOT NULL,
          scope TEXT, task ${t.json}, parent_session TEXT, via_tool TEXT, issued_at ${t.int64} NOT NULL,
          expires_at ${t.int64} NOT NULL);
        CREATE INDEX delegated_tokens_root ON delegated_tokens(root_jti);
        CREATE INDEX delegated_tokens_expiry ON delegated_tokens(expires_at);
        CREATE TABLE token_revocations (
          jti TEXT PRIMARY KEY, revoked_at ${t.int64} NOT NULL, expires_at ${t.int64} NOT NULL,
          revoked_by TEXT NOT NULL, reason TEXT);
        CREATE TABLE token_sessions (
          session_id TEXT PRIMARY KEY, jti TEXT NOT NULL, opened_at ${t.int64} NOT NULL);
        CREATE INDEX token_sessions_jti ON token_sessions(jti);
    `,
  },
  {
    version: 7,
    name: 'discovery history',
    sql: (t) => `
        CREATE TABLE discovery_runs (
          id TEXT PRIMARY KEY, started_at ${t.int64} NOT NULL, finished_at ${t.int64} NOT NULL, host TEXT NOT NULL,
          source TEXT NOT NULL, actor TEXT NOT NULL, summary ${t.json} NOT NULL);
        CREATE INDEX discovery_runs_finished ON discovery_runs(finished_at);
        CREATE TABLE discovery_candidates (
          id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, host TEXT NOT NULL, status TEXT NOT NULL,
          agent_id TEXT, confidence INTEGER NOT NULL, providers ${t.json} NOT NULL, owner TEXT,
          first_seen ${t.int64} NOT NULL, last_seen ${t.int64} NOT NULL, first_run TEXT NOT NULL, last_run TEXT NOT NULL);
        CREATE INDEX discovery_candidates_last_seen ON discovery_candidates(last_seen);
        CREATE TABLE discovery_findings (
          id TEXT PRIMARY KEY, candidate_id TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
          summary TEXT NOT NULL, location TEXT NOT NULL, first_seen ${t.int64} NOT NULL, last_seen ${t.int64} NOT NULL,
          last_run TEXT NOT NULL);
        CREATE INDEX discovery_findings_candidate ON discovery_findings(candidate_id);
    `,
  },
  // One vote per approver and request (the primary key): a double click counts once.
  {
    version: 8,
    name: 'approval requests and votes',
    sql: (t) => `
        CREATE TABLE approval_requests (
          id TEXT PRIMARY KEY, state TEXT NOT NULL, agent_id TEXT NOT NULL, session_id TEXT NOT NULL,
          user_id TEXT, user_email TEXT, chain ${t.json} NOT NULL, tool TEXT NOT NULL, args_sha256 TEXT NOT NULL,
          arguments ${t.json} NOT NULL, rule_ids ${t.json} NOT NULL, reason TEXT NOT NULL,
          required ${t.int64} NOT NULL, requested_at ${t.int64} NOT NULL, expires_at ${t.int64} NOT NULL,
          resolved_at ${t.int64}, resolved_by TEXT, resolution_reason TEXT, consumed_at ${t.int64},
          updated_at ${t.int64} NOT NULL);
        CREATE INDEX approval_requests_state ON approval_requests(state, requested_at);
        CREATE INDEX approval_requests_call ON approval_requests(session_id, tool, args_sha256);
        CREATE INDEX approval_requests_updated ON approval_requests(updated_at);
        CREATE TABLE approval_votes (
          request_id TEXT NOT NULL, approver_id TEXT NOT NULL, actor TEXT NOT NULL, vote TEXT NOT NULL,
          reason TEXT NOT NULL, at ${t.int64} NOT NULL, PRIMARY KEY (request_id, approver_id));
    `,
  },
];

/** The DDL of a migration in one dialect. */
export function migrationSql(migration: Migration, dialect: SqlDialect): string {
  return migration.sql(COLUMN_TYPES[dialect]);
}
