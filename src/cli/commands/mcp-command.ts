import path from 'node:path';
import type { Command } from 'commander';
import { bridgeStdioToGateway, createTokenSource, readAgentKey } from '../../agent-client/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { CliIo } from '../output.js';

/** `gatehouse mcp`: the stdio mode, for MCP clients that can only spawn a process. */
export function registerMcpCommand(program: Command, io: CliIo) {
  program
    .command('mcp')
    .description('serve MCP on stdin/stdout for one agent, relaying every message to a Gatehouse server')
    .requiredOption('--agent <id>', 'the agent id (agt_…)')
    .requiredOption(
      '--key <file>',
      "the agent's private key (the JWK printed at registration, or PKCS#8 PEM)",
    )
    .action(async (_options: object, command: Command) => {
      // `--server` is the program-wide option (a running server), read with the globals.
      const options = command.optsWithGlobals<{ agent: string; key: string; server?: string }>();
      const server = options.server ?? io.env.GATEHOUSE_SERVER;
      if (!server) throw new GatehouseError('invalid_request', 'name the Gatehouse server with --server URL');
      const key = await readAgentKey(path.resolve(io.cwd, options.key));
      const tokens = createTokenSource({ server, agentId: options.agent, key });
      // stdout carries the protocol: everything for people goes to stderr.
      await bridgeStdioToGateway({ server, tokens, log: (line) => io.stderr(`${line}\n`) });
    });
}
