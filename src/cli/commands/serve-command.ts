import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { GatehouseError } from '../../errors/index.js';
import { startServer } from '../../server/start-server.js';
import type { GlobalOptions } from '../context.js';
import type { CliIo } from '../output.js';

export function registerServeCommand(program: Command, io: CliIo) {
  program
    .command('serve')
    .description('run the Gatehouse server (binds 127.0.0.1 unless told otherwise)')
    .option('--host <host>', 'interface to bind')
    .option('--port <port>', 'port to listen on')
    .action(async (options: { host?: string; port?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfig({
        configFile: globals.config,
        dataDir: globals.dataDir,
        env: io.env,
        cwd: io.cwd,
      });
      if (options.host) config.server.host = options.host;
      if (options.port !== undefined) {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new GatehouseError('invalid_request', `--port \`${options.port}\` is not a port number`);
        }
        config.server.port = port;
      }
      const server = await startServer(config, { log: (line) => io.stderr(`${line}\n`) });
      await new Promise<void>((resolveStop) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.stderr('shutting down\n');
          server.close().then(resolveStop, resolveStop);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
