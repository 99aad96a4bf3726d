import type { Team, User } from '../../registry/types.js';
import type { SqlExecutor } from '../sql.js';
import { type UserRow, userFromRow } from './users.js';

export interface TeamRepository {
  insert(team: Team): Promise<void>;
  findById(id: string): Promise<Team | undefined>;
  findByName(name: string): Promise<Team | undefined>;
  list(): Promise<Team[]>;
  addMember(teamId: string, userId: string, at: number): Promise<boolean>;
  removeMember(teamId: string, userId: string): Promise<boolean>;
  listMembers(teamId: string): Promise<User[]>;
  countActiveMembers(teamId: string): Promise<number>;
  listTeamsOfUser(userId: string): Promise<Team[]>;
}

interface TeamRow {
  id: string;
  name: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

const teamFromRow = (row: TeamRow): Team => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export function createTeamRepository(db: SqlExecutor): TeamRepository {
  return {
    async insert(team) {
      await db.run(
        'INSERT INTO teams (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        [team.id, team.name, team.description, team.createdAt, team.updatedAt],
      );
    },
    async findById(id) {
      const row = await db.get<TeamRow>('SELECT * FROM teams WHERE id = ?', [id]);
      return row && teamFromRow(row);
    },
    async findByName(name) {
      const row = await db.get<TeamRow>('SELECT * FROM teams WHERE name = ?', [name]);
      return row && teamFromRow(row);
    },
    async list() {
      return (await db.all<TeamRow>('SELECT * FROM teams ORDER BY name')).map(teamFromRow);
    },
    async addMember(teamId, userId, at) {
      const result = await db.run(
        'INSERT INTO team_members (team_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [teamId, userId, at],
      );
      return result.changes > 0;
    },
    async removeMember(teamId, userId) {
      const result = await db.run('DELETE FROM team_members WHERE team_id = ? AND user_id = ?', [
        teamId,
        userId,
      ]);
      return result.changes > 0;
    },
    async listMembers(teamId) {
      const rows = await db.all<UserRow>(
        'SELECT u.* FROM users u JOIN team_members m ON m.user_id = u.id WHERE m.team_id = ? ORDER BY u.email',
        [teamId],
      );
      return rows.map(userFromRow);
    },
    async countActiveMembers(teamId) {
      const row = await db.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM users u JOIN team_members m ON m.user_id = u.id WHERE m.team_id = ? AND u.active = 1',
        [teamId],
      );
      return Number(row?.n ?? 0);
    },
    async listTeamsOfUser(userId) {
      const rows = await db.all<TeamRow>(
        'SELECT t.* FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ? ORDER BY t.name',
        [userId],
      );
      return rows.map(teamFromRow);
    },
  };
}
