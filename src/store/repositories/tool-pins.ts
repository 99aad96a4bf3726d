import type { HoldKind, ObservedTool, PinBaseline, ToolHold, ToolPin } from '../../gateway/pinning/types.js';
import type { SqlExecutor } from '../sql.js';

/** Pins of reviewed tool definitions per agent, the tools gateways observe upstream, and held definitions. */
export interface ToolPinRepository {
  baseline(agentId: string): Promise<PinBaseline | undefined>;
  listBaselines(): Promise<PinBaseline[]>;
  /** Inserts the agent's baseline, or moves its manifest version and update time (the first time stays). */
  saveBaseline(baseline: PinBaseline): Promise<void>;
  listPins(agentId: string): Promise<ToolPin[]>;
  /** Inserts or replaces pins by (agent, tool). */
  savePins(pins: readonly ToolPin[]): Promise<void>;
  listObserved(): Promise<ObservedTool[]>;
  /** Inserts or replaces observed tools by name. */
  saveObserved(tools: readonly ObservedTool[]): Promise<void>;
  deleteObserved(tools: readonly string[]): Promise<number>;
  /**
   * Records a held definition. True the first time for this (agent, tool, hash); false when it was already
   * recorded, by this process or any other replica, since the primary key decides.
   */
  insertHold(hold: ToolHold): Promise<boolean>;
  /** Held definitions, newest first; of one agent when given. */
  listHolds(agentId?: string): Promise<ToolHold[]>;
}

interface BaselineRow {
  agent_id: string;
  manifest_version: number | null;
  established_at: number;
  established_by: string;
  updated_at: number;
}

interface PinRow {
  agent_id: string;
  tool: string;
  upstream: string;
  hash: string;
  definition: string;
  pinned_at: number;
  pinned_by: string;
}

interface ObservedRow {
  tool: string;
  upstream: string;
  hash: string;
  definition: string;
  first_seen_at: number;
  changed_at: number;
}

interface HoldRow {
  agent_id: string;
  tool: string;
  upstream: string;
  hash: string;
  kind: string;
  pinned_hash: string | null;
  definition: string;
  held_at: number;
}

const baselineFromRow = (row: BaselineRow): PinBaseline => ({
  agentId: row.agent_id,
  manifestVersion: row.manifest_version === null ? null : Number(row.manifest_version),
  establishedAt: row.established_at,
  establishedBy: row.established_by,
  updatedAt: row.updated_at,
});

const pinFromRow = (row: PinRow): ToolPin => ({
  agentId: row.agent_id,
  tool: row.tool,
  upstream: row.upstream,
  hash: row.hash,
  definition: row.definition,
  pinnedAt: row.pinned_at,
  pinnedBy: row.pinned_by,
});

const observedFromRow = (row: ObservedRow): ObservedTool => ({
  tool: row.tool,
  upstream: row.upstream,
  hash: row.hash,
  definition: row.definition,
  firstSeenAt: row.first_seen_at,
  changedAt: row.changed_at,
});

const holdFromRow = (row: HoldRow): ToolHold => ({
  agentId: row.agent_id,
  tool: row.tool,
  upstream: row.upstream,
  hash: row.hash,
  kind: row.kind as HoldKind,
  pinnedHash: row.pinned_hash,
  definition: row.definition,
  heldAt: row.held_at,
});

export function createToolPinRepository(db: SqlExecutor): ToolPinRepository {
  return {
    async baseline(agentId) {
      const row = await db.get<BaselineRow>('SELECT * FROM tool_pin_baselines WHERE agent_id = ?', [agentId]);
      return row && baselineFromRow(row);
    },
    async listBaselines() {
      const rows = await db.all<BaselineRow>('SELECT * FROM tool_pin_baselines ORDER BY agent_id');
      return rows.map(baselineFromRow);
    },
    async saveBaseline(baseline) {
      await db.run(
        `INSERT INTO tool_pin_baselines (agent_id, manifest_version, established_at, established_by, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (agent_id) DO UPDATE SET manifest_version = excluded.manifest_version,
           updated_at = excluded.updated_at`,
        [
          baseline.agentId,
          baseline.manifestVersion,
          baseline.establishedAt,
          baseline.establishedBy,
          baseline.updatedAt,
        ],
      );
    },
    async listPins(agentId) {
      const rows = await db.all<PinRow>('SELECT * FROM tool_pins WHERE agent_id = ? ORDER BY tool', [
        agentId,
      ]);
      return rows.map(pinFromRow);
    },
    async savePins(pins) {
      if (pins.length === 0) return;
      await db.runMany(
        `INSERT INTO tool_pins (agent_id, tool, upstream, hash, definition, pinned_at, pinned_by)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id, tool) DO UPDATE SET upstream = excluded.upstream, hash = excluded.hash,
           definition = excluded.definition, pinned_at = excluded.pinned_at, pinned_by = excluded.pinned_by`,
        pins.map((pin) => [
          pin.agentId,
          pin.tool,
          pin.upstream,
          pin.hash,
          pin.definition,
          pin.pinnedAt,
          pin.pinnedBy,
        ]),
      );
    },
    async listObserved() {
      const rows = await db.all<ObservedRow>('SELECT * FROM observed_tools ORDER BY tool');
      return rows.map(observedFromRow);
    },
    async saveObserved(tools) {
      if (tools.length === 0) return;
      await db.runMany(
        `INSERT INTO observed_tools (tool, upstream, hash, definition, first_seen_at, changed_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tool) DO UPDATE SET upstream = excluded.upstream, hash = excluded.hash,
           definition = excluded.definition, changed_at = excluded.changed_at`,
        tools.map((tool) => [
          tool.tool,
          tool.upstream,
          tool.hash,
          tool.definition,
          tool.firstSeenAt,
          tool.changedAt,
        ]),
      );
    },
    async deleteObserved(tools) {
      if (tools.length === 0) return 0;
      return (
        await db.runMany(
          'DELETE FROM observed_tools WHERE tool = ?',
          [...tools].map((tool) => [tool]),
        )
      ).changes;
    },
    async insertHold(hold) {
      const result = await db.run(
        `INSERT INTO tool_holds (agent_id, tool, upstream, hash, kind, pinned_hash, definition, held_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [
          hold.agentId,
          hold.tool,
          hold.upstream,
          hold.hash,
          hold.kind,
          hold.pinnedHash,
          hold.definition,
          hold.heldAt,
        ],
      );
      return result.changes === 1;
    },
    async listHolds(agentId) {
      const rows =
        agentId === undefined
          ? await db.all<HoldRow>('SELECT * FROM tool_holds ORDER BY held_at DESC, tool')
          : await db.all<HoldRow>('SELECT * FROM tool_holds WHERE agent_id = ? ORDER BY held_at DESC, tool', [
              agentId,
            ]);
      return rows.map(holdFromRow);
    },
  };
}
