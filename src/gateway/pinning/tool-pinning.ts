import { auditedTransaction } from '../../audit/audited-transaction.js';
import { mayEverRun, type Principal } from '../../policy/index.js';
import { principalOfAgent } from '../../policy-runtime/index.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import type { UpstreamTool } from '../upstreams/index.js';
import { compareToPins, pinsByTool } from './compare-to-pins.js';
import { diffDefinitions } from './diff-definitions.js';
import { pinEpoch } from './pin-cache-epoch.js';
import { scanDefinition } from './scan-definition.js';
import { createToolHasher, parseDefinition } from './tool-definition.js';
import type { HashedTool, HoldKind, ObservedTool, ToolPin } from './types.js';

/** How long a gateway trusts its cached pins of an agent; changes in this process apply at once. */
export const PIN_CACHE_MS = 5_000;
const FLAGGED_MEMORY = 100_000;

export type PinningDeps = Pick<Gatehouse, 'store' | 'clock' | 'policies'>;

/** A tool hidden from one agent until a reviewer accepts its current definition. */
export interface HeldTool {
  tool: string;
  upstream: string;
  kind: HoldKind;
  hash: string;
  /** The hash the agent has pinned; null for a new tool. */
  pinnedHash: string | null;
}

/** Who is asking, as the gateway knows it. */
export interface PinningCaller {
  agent: Agent;
  principal: Principal;
}

/**
 * The gateway's side of tool pinning: which of the tools an agent could use are held for it, with every newly
 * held definition recorded (audit entry and alert) once; and the upstream tools as observed, kept in the store
 * for reviews in any process. Pins are cached per agent; the comparison itself is pure (`compareToPins`).
 */
export interface ToolPinning {
  /**
   * The held tools among `tools` the policy lets the agent use, by name; empty while the agent has no pin
   * baseline (it was never approved). Records each newly held definition before answering.
   */
  held(caller: PinningCaller, tools: readonly UpstreamTool[]): Promise<Map<string, HeldTool>>;
  /**
   * Stores the tools as observed upstream (for `refreshed`, an upstream whose list was just fetched, tools no
   * longer offered are forgotten), then checks every pinned agent against them, so a change is flagged even
   * while no agent is connected.
   */
  observe(tools: readonly UpstreamTool[], refreshed?: string): Promise<void>;
  /** Forgets cached pins (of one agent, or all). */
  invalidate(agentId?: string): void;
}

interface CachedPins {
  loadedAt: number;
  epoch: number;
  /** Null while the agent has no baseline: pinning does not apply to it. */
  pins: Promise<Map<string, ToolPin> | null>;
}

const instances = new WeakMap<object, ToolPinning>();

/** The one `ToolPinning` of a running Gatehouse, shared by its MCP endpoint and its admin routes. */
export function toolPinningOf(deps: PinningDeps, log: (line: string) => void = () => {}): ToolPinning {
  let pinning = instances.get(deps.store);
  if (!pinning) {
    pinning = createToolPinning(deps, log);
    instances.set(deps.store, pinning);
  }
  return pinning;
}

export function createToolPinning(deps: PinningDeps, log: (line: string) => void): ToolPinning {
  const { store, clock } = deps;
  const hash = createToolHasher();
  const cache = new Map<string, CachedPins>();
  const flagged = new Set<string>();
  const flagging = new Map<string, Promise<void>>();
  let observing: Promise<void> = Promise.resolve();

  const pinsOf = (agentId: string): Promise<Map<string, ToolPin> | null> => {
    const now = clock.now();
    const cached = cache.get(agentId);
    if (cached && cached.epoch === pinEpoch() && now - cached.loadedAt < PIN_CACHE_MS) return cached.pins;
    const entry: CachedPins = {
      loadedAt: now,
      epoch: pinEpoch(),
      pins: (async () => {
        if (!(await store.toolPins.baseline(agentId))) return null;
        return pinsByTool(await store.toolPins.listPins(agentId));
      })(),
    };
    entry.pins.catch(() => {
      if (cache.get(agentId) === entry) cache.delete(agentId);
    });
    cache.set(agentId, entry);
    return entry.pins;
  };

  const flag = (agent: Agent, held: HeldTool, current: HashedTool, pin: ToolPin | undefined) => {
    const key = `${agent.id}\u0000${held.tool}\u0000${held.hash}`;
    if (flagged.has(key)) return Promise.resolve();
    const inFlight = flagging.get(key);
    if (inFlight) return inFlight;
    const work = auditedTransaction(deps, 'system', async (tx, emit) => {
      const first = await tx.toolPins.insertHold({
        agentId: agent.id,
        tool: held.tool,
        upstream: held.upstream,
        hash: held.hash,
        kind: held.kind,
        pinnedHash: held.pinnedHash,
        definition: current.canonical,
        heldAt: clock.now(),
      });
      if (!first) return;
      const diff = pin
        ? diffDefinitions(parseDefinition(pin.definition, pin.tool), current.definition)
        : null;
      const findings = scanDefinition(current.definition).map((finding) => ({
        rule: finding.rule,
        severity: finding.severity,
        field: finding.field,
      }));
      const facts = {
        agentId: agent.id,
        tool: held.tool,
        upstream: held.upstream,
        hash: held.hash,
        pinnedHash: held.pinnedHash,
        ...(diff
          ? { changed: (['description', 'inputSchema'] as const).filter((part) => diff[part] !== null) }
          : {}),
        findings,
      };
      emit({
        action: held.kind === 'changed' ? 'tool.changed' : 'tool.new',
        target: agent.id,
        details: facts,
      });
      emit({
        action: 'alert.tool_held',
        target: agent.id,
        details: {
          tool: held.tool,
          kind: held.kind,
          hash: held.hash,
          reason:
            held.kind === 'changed'
              ? `the definition of \`${held.tool}\` changed since it was reviewed`
              : `\`${held.tool}\` appeared and has not been reviewed`,
        },
      });
    })
      .then(() => {
        if (flagged.size >= FLAGGED_MEMORY) flagged.clear();
        flagged.add(key);
      })
      .finally(() => flagging.delete(key));
    flagging.set(key, work);
    return work;
  };

  const held: ToolPinning['held'] = async (caller, tools) => {
    const result = new Map<string, HeldTool>();
    if (tools.length === 0) return result;
    const pins = await pinsOf(caller.agent.id);
    if (!pins) return result;
    const bundle = deps.policies.active();
    const usable = tools.filter((tool) => mayEverRun(bundle, caller.principal, tool.name)).map(hash);
    const comparison = compareToPins(usable, pins);
    const records: Promise<void>[] = [];
    for (const change of comparison.changed) {
      const entry: HeldTool = {
        tool: change.tool,
        upstream: change.new.upstream,
        kind: 'changed',
        hash: change.new.hash,
        pinnedHash: change.old.hash,
      };
      result.set(change.tool, entry);
      records.push(flag(caller.agent, entry, change.new, change.old));
    }
    for (const added of comparison.new) {
      const entry: HeldTool = {
        tool: added.tool,
        upstream: added.upstream,
        kind: 'new',
        hash: added.hash,
        pinnedHash: null,
      };
      result.set(added.tool, entry);
      records.push(flag(caller.agent, entry, added, undefined));
    }
    // A hold that could not be recorded stays a hold (fail closed); it is recorded on a later look.
    await Promise.all(
      records.map((record) =>
        record.catch((error: unknown) =>
          log(
            `warning: tool pinning: a held tool was not recorded: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ),
      ),
    );
    return result;
  };

  const syncObserved = async (tools: readonly HashedTool[], refreshed: string | undefined) => {
    const now = clock.now();
    const known = new Map((await store.toolPins.listObserved()).map((tool) => [tool.tool, tool]));
    const changed: ObservedTool[] = [];
    for (const tool of tools) {
      const before = known.get(tool.tool);
      if (before && before.hash === tool.hash && before.upstream === tool.upstream) continue;
      changed.push({
        tool: tool.tool,
        upstream: tool.upstream,
        hash: tool.hash,
        definition: tool.canonical,
        firstSeenAt: before?.firstSeenAt ?? now,
        changedAt: now,
      });
    }
    await store.toolPins.saveObserved(changed);
    if (refreshed !== undefined) {
      const offered = new Set(tools.map((tool) => tool.tool));
      const gone = [...known.values()]
        .filter((tool) => tool.upstream === refreshed && !offered.has(tool.tool))
        .map((tool) => tool.tool);
      await store.toolPins.deleteObserved(gone);
    }
  };

  const checkPinnedAgents = async (tools: readonly UpstreamTool[]) => {
    for (const baseline of await store.toolPins.listBaselines()) {
      const agent = await store.agents.findById(baseline.agentId);
      if (!agent || agent.state === 'retired') continue;
      await held({ agent, principal: await principalOfAgent(store, agent) }, tools);
    }
  };

  return {
    held,
    observe(tools, refreshed) {
      // A process without upstreams (the CLI's direct mode) has nothing to report and must not forget anything.
      if (tools.length === 0 && refreshed === undefined) return observing;
      const run = async () => {
        await syncObserved(tools.map(hash), refreshed);
        await checkPinnedAgents(tools);
      };
      observing = observing.then(run).catch((error: unknown) => {
        log(`warning: tool pinning: ${error instanceof Error ? error.message : String(error)}`);
      });
      return observing;
    },
    invalidate(agentId) {
      if (agentId === undefined) cache.clear();
      else cache.delete(agentId);
    },
  };
}
