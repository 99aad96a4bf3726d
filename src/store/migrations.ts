import type { SqlDialect } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: Record<SqlDialect, string>;
}

/**
 * Versioned schema changes, applied in order and recorded in `schema_migrations`. Never edit a released
 * migration: add a new one. Times are epoch milliseconds (BIGINT), except audit times, which are hashed as text.
 * audit_entries has no index on `hash`: the chain is addressed by seq, a duplicate hash would need a SHA-256
 * collision, and a random-keyed index costs SQLite half its append throughput (BENCHMARKS.md).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, identity and audit',
    sql: {
      sqlite: `
        CREATE TABLE teams (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
        CREATE TABLE users (
          id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, display_name TEXT, active INTEGER NOT NULL,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deactivated_at INTEGER);
        CREATE TABLE team_members (
          team_id TEXT NOT NULL REFERENCES teams(id), user_id TEXT NOT NULL REFERENCES users(id),
          added_at INTEGER NOT NULL, PRIMARY KEY (team_id, user_id));
        CREATE INDEX team_members_user ON team_members(user_id);
        CREATE TABLE agents (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          team_id TEXT NOT NULL REFERENCES teams(id), sponsor_id TEXT NOT NULL REFERENCES users(id),
          labels TEXT NOT NULL, review_status TEXT NOT NULL, reviewed_version INTEGER, reviewed_by TEXT,
          reviewed_at INTEGER, review_note TEXT, state TEXT NOT NULL, state_reason TEXT,
          needs_sponsor INTEGER NOT NULL, orphaned_at INTEGER, manifest_version INTEGER,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
        CREATE INDEX agents_team ON agents(team_id);
        CREATE INDEX agents_sponsor ON agents(sponsor_id);
        CREATE TABLE agent_manifests (
          agent_id TEXT NOT NULL REFERENCES agents(id), version INTEGER NOT NULL, manifest TEXT NOT NULL,
          digest TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
          PRIMARY KEY (agent_id, version));
        CREATE TABLE agent_keys (
          kid TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), alg TEXT NOT NULL,
          public_jwk TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
        CREATE INDEX agent_keys_agent ON agent_keys(agent_id);
        CREATE TABLE used_assertions (
          agent_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (agent_id, jti));
        CREATE INDEX used_assertions_expiry ON used_assertions(expires_at);
        CREATE TABLE signing_keys (
          kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk TEXT NOT NULL, private_jwk_encrypted TEXT NOT NULL,
          status TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER, verify_until INTEGER);
        CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(status) WHERE status = 'active';
        CREATE TABLE admin_tokens (
          id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, user_id TEXT REFERENCES users(id),
          token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
          revoked_at INTEGER, last_used_at INTEGER);
        CREATE TABLE audit_entries (
          seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
          details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE TABLE audit_checkpoints (
          seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, kid TEXT NOT NULL,
          signature TEXT NOT NULL);
      `,
      postgres: `
        CREATE TABLE teams (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
        CREATE TABLE users (
          id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, display_name TEXT, active SMALLINT NOT NULL,
          created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deactivated_at BIGINT);
        CREATE TABLE team_members (
          team_id TEXT NOT NULL REFERENCES teams(id), user_id TEXT NOT NULL REFERENCES users(id),
          added_at BIGINT NOT NULL, PRIMARY KEY (team_id, user_id));
        CREATE INDEX team_members_user ON team_members(user_id);
        CREATE TABLE agents (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT,
          team_id TEXT NOT NULL REFERENCES teams(id), sponsor_id TEXT NOT NULL REFERENCES users(id),
          labels JSONB NOT NULL, review_status TEXT NOT NULL, reviewed_version INTEGER, reviewed_by TEXT,
          reviewed_at BIGINT, review_note TEXT, state TEXT NOT NULL, state_reason TEXT,
          needs_sponsor SMALLINT NOT NULL, orphaned_at BIGINT, manifest_version INTEGER,
          created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
        CREATE INDEX agents_team ON agents(team_id);
        CREATE INDEX agents_sponsor ON agents(sponsor_id);
        CREATE TABLE agent_manifests (
          agent_id TEXT NOT NULL REFERENCES agents(id), version INTEGER NOT NULL, manifest JSONB NOT NULL,
          digest TEXT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
          PRIMARY KEY (agent_id, version));
        CREATE TABLE agent_keys (
          kid TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), alg TEXT NOT NULL,
          public_jwk JSONB NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);
        CREATE INDEX agent_keys_agent ON agent_keys(agent_id);
        CREATE TABLE used_assertions (
          agent_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (agent_id, jti));
        CREATE INDEX used_assertions_expiry ON used_assertions(expires_at);
        CREATE TABLE signing_keys (
          kid TEXT PRIMARY KEY, alg TEXT NOT NULL, public_jwk JSONB NOT NULL, private_jwk_encrypted TEXT NOT NULL,
          status TEXT NOT NULL, created_at BIGINT NOT NULL, retired_at BIGINT, verify_until BIGINT);
        CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(status) WHERE status = 'active';
        CREATE TABLE admin_tokens (
          id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, user_id TEXT REFERENCES users(id),
          token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
          revoked_at BIGINT, last_used_at BIGINT);
        CREATE TABLE audit_entries (
          seq BIGINT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
          details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE TABLE audit_checkpoints (
          seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, time TEXT NOT NULL, kid TEXT NOT NULL,
          signature TEXT NOT NULL);
      `,
    },
  },
];
