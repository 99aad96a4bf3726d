import { Command, CommanderError } from 'commander';
import { isGatehouseError, toGatehouseError } from '../errors/index.js';
import { registerApprovalCommands } from './commands/approval-commands.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerDiscoverCommand } from './commands/discover-command.js';
import { registerMcpCommand } from './commands/mcp-command.js';
import {
  registerAdminCommands,
  registerAuditCommands,
  registerKeyCommands,
  registerLifecycleCommands,
} from './commands/ops-commands.js';
import { registerPolicyCommands } from './commands/policy-commands.js';
import {
  registerAgentCommands,
  registerTeamCommands,
  registerUserCommands,
} from './commands/registry-commands.js';
import { registerSecretCommands } from './commands/secret-commands.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerSessionCommands } from './commands/session-commands.js';
import { registerToolCommands } from './commands/tool-commands.js';
import { registerUsageCommand } from './commands/usage-command.js';
import type { CliIo } from './output.js';

export function createProgram(io: CliIo): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: every AI agent a principal, every tool call decided')
    .version('0.1.0')
    .option(
      '--data-dir <dir>',
      'where the embedded store lives (env GATEHOUSE_DATA_DIR; default ~/.gatehouse)',
    )
    .option('--config <file>', 'gatehouse.yaml (env GATEHOUSE_CONFIG; default ./gatehouse.yaml if present)')
    .option('--server <url>', 'talk to a running server instead of the store (env GATEHOUSE_SERVER)')
    .option('--token <token>', 'admin bearer token for --server (env GATEHOUSE_TOKEN)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerServeCommand(program, io);
  registerDemoCommand(program, io);
  registerDiscoverCommand(program, io);
  registerMcpCommand(program, io);
  registerTeamCommands(program, io);
  registerUserCommands(program, io);
  registerAgentCommands(program, io);
  registerPolicyCommands(program, io);
  registerSessionCommands(program, io);
  registerApprovalCommands(program, io);
  registerToolCommands(program, io);
  registerUsageCommand(program, io);
  registerSecretCommands(program, io);
  registerKeyCommands(program, io);
  registerAuditCommands(program, io);
  registerAdminCommands(program, io);
  registerLifecycleCommands(program, io);
  for (const command of allCommands(program))
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

/** Runs the CLI and returns its exit code; errors become `error: … (code)` on stderr and a stable exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    const failure = isGatehouseError(error) ? error : toGatehouseError(error);
    const json = argv.includes('--json');
    // The CLI's reader is the operator: configuration and store problems are theirs to see; bugs are not.
    const message = failure.code === 'internal_error' ? 'internal error' : failure.message;
    if (json) io.stderr(`${JSON.stringify({ error: { code: failure.code, message } })}\n`);
    else io.stderr(`error: ${message} (${failure.code})\n`);
    if (failure.code === 'internal_error' && error instanceof Error && io.env.GATEHOUSE_DEBUG)
      io.stderr(`${error.stack}\n`);
    return failure.exitCode;
  }
}
