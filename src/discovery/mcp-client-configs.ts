import { parse as parseYaml } from 'yaml';
import { MCP_CLIENT_CONFIG_FILES, type McpClientConfigFile } from './signatures.js';

/** One MCP server an MCP client is configured to start or reach. */
export interface ConfiguredMcpServer {
  name: string;
  /** `stdio` (a command) or `http` (a URL). */
  transport: 'stdio' | 'http';
  /** The program and the package it runs, e.g. `npx @modelcontextprotocol/server-github`; never env values. */
  target: string;
  /** Names (never values) of the environment variables the config passes to the server. */
  envNames: string[];
}

export type McpConfigParse =
  | { ok: true; client: string; servers: ConfiguredMcpServer[] }
  | { ok: false; client: string; reason: string };

/** The MCP client a file belongs to, by its path relative to the scanned root (`/` separators). */
export function mcpClientConfigFor(relativePath: string): McpClientConfigFile | undefined {
  return MCP_CLIENT_CONFIG_FILES.find((file) => file.path.test(relativePath));
}

/**
 * Reads the MCP server list out of a client's configuration: `mcpServers` (Claude, Cursor, Windsurf, Cline,
 * Gemini…), `servers` (VS Code), `mcp.servers` (VS Code settings), `context_servers` (Zed),
 * `experimental.modelContextProtocolServers` and YAML `mcpServers` (Continue), `[mcp_servers.*]` (Codex TOML),
 * and per-project lists in `~/.claude.json`. A file that does not parse is reported as malformed.
 */
export function parseMcpClientConfig(file: McpClientConfigFile, text: string): McpConfigParse {
  if (file.format === 'toml') return { ok: true, client: file.client, servers: codexServers(text) };
  let document: unknown;
  try {
    document = file.format === 'yaml' ? parseYaml(text) : parseJsonc(text);
  } catch (error) {
    return { ok: false, client: file.client, reason: error instanceof Error ? error.message : 'unparseable' };
  }
  if (document === null || document === undefined) return { ok: true, client: file.client, servers: [] };
  if (typeof document !== 'object') return { ok: false, client: file.client, reason: 'not an object' };
  const root = document as Record<string, unknown>;
  const lists: unknown[] = [
    root.mcpServers,
    root.servers,
    (root.mcp as Record<string, unknown> | undefined)?.servers,
    root.context_servers,
    (root.experimental as Record<string, unknown> | undefined)?.modelContextProtocolServers,
  ];
  if (root.projects && typeof root.projects === 'object') {
    for (const project of Object.values(root.projects as Record<string, unknown>)) {
      if (project && typeof project === 'object') lists.push((project as Record<string, unknown>).mcpServers);
    }
  }
  // A Continue block file is one server, or a list under `mcpServers`.
  if (file.client === 'continue' && Array.isArray(document)) lists.push(document);
  const servers: ConfiguredMcpServer[] = [];
  for (const list of lists) {
    for (const server of serverEntries(list)) {
      if (!servers.some((seen) => seen.name === server.name && seen.target === server.target))
        servers.push(server);
    }
  }
  return { ok: true, client: file.client, servers };
}

function serverEntries(list: unknown): ConfiguredMcpServer[] {
  if (!list || typeof list !== 'object') return [];
  const entries: [string, unknown][] = Array.isArray(list)
    ? list.map((item, index) => [String((item as { name?: unknown })?.name ?? `server-${index + 1}`), item])
    : Object.entries(list as Record<string, unknown>);
  const servers: ConfiguredMcpServer[] = [];
  for (const [name, value] of entries) {
    if (!value || typeof value !== 'object') continue;
    const spec = value as Record<string, unknown>;
    // Continue and Zed nest the command one level down.
    const transport = (spec.transport ?? spec.command) as Record<string, unknown> | string | undefined;
    const nested = transport && typeof transport === 'object' ? transport : undefined;
    const command = typeof spec.command === 'string' ? spec.command : (nested?.command ?? nested?.path);
    const args = (Array.isArray(spec.args) ? spec.args : Array.isArray(nested?.args) ? nested.args : []).map(
      String,
    );
    const url = spec.url ?? spec.serverUrl ?? spec.httpUrl ?? nested?.url;
    const env = (spec.env ?? nested?.env) as Record<string, unknown> | undefined;
    const envNames = env && typeof env === 'object' && !Array.isArray(env) ? Object.keys(env).sort() : [];
    if (typeof command === 'string') {
      servers.push({ name, transport: 'stdio', target: describeCommand(command, args), envNames });
    } else if (typeof url === 'string') {
      servers.push({ name, transport: 'http', target: describeUrl(url), envNames });
    }
  }
  return servers;
}

/** The program and the first argument that names what it runs; flags and values (which may hold secrets) dropped. */
function describeCommand(command: string, args: string[]): string {
  const subject = args.find((arg) => !arg.startsWith('-') && !arg.includes('=')) ?? '';
  return `${command}${subject ? ` ${subject}` : ''}`.slice(0, 200);
}

/** Scheme, host and path only: query strings often carry tokens. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'invalid url';
  }
}

function codexServers(text: string): ConfiguredMcpServer[] {
  const servers: ConfiguredMcpServer[] = [];
  for (const hit of text.matchAll(/^\s*\[mcp_servers\.("?)([^\]"]+)\1\]\s*$/gm)) {
    const name = hit[2] ?? '';
    const body = text.slice((hit.index ?? 0) + hit[0].length).split(/^\s*\[/m)[0] ?? '';
    const command = /^\s*command\s*=\s*"([^"]*)"/m.exec(body)?.[1];
    const url = /^\s*url\s*=\s*"([^"]*)"/m.exec(body)?.[1];
    const args = [...(/^\s*args\s*=\s*\[([^\]]*)\]/m.exec(body)?.[1] ?? '').matchAll(/"([^"]*)"/g)].map(
      (arg) => arg[1] ?? '',
    );
    if (command)
      servers.push({ name, transport: 'stdio', target: describeCommand(command, args), envNames: [] });
    else if (url) servers.push({ name, transport: 'http', target: describeUrl(url), envNames: [] });
  }
  return servers;
}

/** JSON with comments and trailing commas, as VS Code, Zed and others write their settings. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    const next = text[index + 1];
    if (inString) {
      out += char;
      if (char === '\\') {
        out += next ?? '';
        index += 1;
      } else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '/' && next === '/') {
      while (index < text.length && text[index] !== '\n') index += 1;
      out += '\n';
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', index + 2);
      index = end === -1 ? text.length : end + 1;
    } else if (char === ',' && /^\s*[}\]]/.test(text.slice(index + 1, index + 200))) {
      // a trailing comma: dropped
    } else out += char;
  }
  return JSON.parse(out);
}
