/**
 * The relay's public API: attach to your own http server, or start a standalone one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RELAY_DEFAULTS, attachRelay, type Relay, type RelayOptions } from './relay.js';

export { attachRelay, type Relay, type RelayOptions } from './relay.js';

export interface StandaloneRelay {
  relay: Relay;
  server: Server;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** Where peers connect, e.g. ws://127.0.0.1:8090/relay. */
  url: string;
  /** Closes the relay's sockets, then the http server. */
  close(): Promise<void>;
}

/** Starts a standalone relay: an http server with GET /healthz (200 JSON {ok, sessions, sockets}), 404 elsewhere. */
export async function startRelay(
  options: RelayOptions & { port?: number; host?: string } = {},
): Promise<StandaloneRelay> {
  const { port = 8090, host = '127.0.0.1', ...relayOptions } = options;
  const path = relayOptions.path ?? RELAY_DEFAULTS.path;
  const server = createServer((req, res) => {
    const health = req.method === 'GET' && req.url?.split('?')[0] === '/healthz';
    res.writeHead(health ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(health ? { ok: true, sessions: relay.sessionCount, sockets: relay.socketCount } : { ok: false }));
  });
  const relay = attachRelay(server, relayOptions);
  // The server is ours alone, so an upgrade for any other path is answered, not left hanging.
  server.on('upgrade', (req, socket) => {
    if (req.url?.split('?')[0] !== path) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await relay.close();
    throw err;
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    relay,
    server,
    port: bound,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${bound}${path}`,
    async close() {
      await relay.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
