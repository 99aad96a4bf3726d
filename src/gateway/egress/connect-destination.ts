import { connect, type Socket } from 'node:net';
import { GatehouseError } from '../../errors/index.js';

/**
 * Opens a TCP connection to the first of `addresses` (already checked) that accepts, trying them in order
 * within one overall deadline. `egress_timeout` when the deadline passes, `egress_unreachable` when every
 * address refused.
 */
export function connectDestination(
  addresses: readonly string[],
  port: number,
  timeoutMs: number,
): Promise<Socket> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (index: number, lastError: unknown) => {
      const address = addresses[index];
      if (address === undefined) {
        reject(
          new GatehouseError(
            'egress_unreachable',
            `no address of the destination accepted a connection on port ${port}`,
            {
              cause: lastError,
            },
          ),
        );
        return;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        reject(
          new GatehouseError(
            'egress_timeout',
            `connecting to the destination took longer than ${timeoutMs} ms`,
          ),
        );
        return;
      }
      const socket = connect({ host: address, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new GatehouseError(
            'egress_timeout',
            `connecting to the destination took longer than ${timeoutMs} ms`,
          ),
        );
      }, remaining);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        // Whoever takes the socket adds its own handlers; until then an error must not crash the process.
        socket.on('error', () => socket.destroy());
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        socket.destroy();
        attempt(index + 1, error);
      });
    };
    attempt(0, undefined);
  });
}
