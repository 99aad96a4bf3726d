import type { HashedTool, PinComparison, ToolPin } from './types.js';

/** An agent's pins by tool name, as `compareToPins` takes them. */
export function pinsByTool(pins: readonly ToolPin[]): Map<string, ToolPin> {
  return new Map(pins.map((pin) => [pin.tool, pin]));
}

/**
 * Splits live tools into those matching the agent's pins (visible), pinned tools whose definition changed, and
 * tools without a pin. Pure: the caller loads the tools and the pins. Pins of tools no longer offered are
 * ignored; a tool that comes back with its pinned definition is visible again.
 *
 * @example
 * const { visible, changed, new: added } = compareToPins(tools.map(hash), pinsByTool(pins));
 */
export function compareToPins(
  tools: readonly HashedTool[],
  pins: ReadonlyMap<string, ToolPin>,
): PinComparison {
  const result: PinComparison = { visible: [], changed: [], new: [] };
  for (const tool of tools) {
    const pin = pins.get(tool.tool);
    if (!pin) result.new.push(tool);
    else if (pin.hash === tool.hash) result.visible.push(tool);
    else result.changed.push({ tool: tool.tool, old: pin, new: tool });
  }
  return result;
}
