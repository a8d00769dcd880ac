/**
 * The relay's public API: attach to your own http server, or start a standalone one.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachRelay, type Relay } from './relay.js';
import { RELAY_DEFAULTS, type RelayOptions } from './options.js';

export { attachRelay, type Relay } from './relay.js';
export { RELAY_DEFAULTS, type RelayLimits, type RelayOptions } from './options.js';
export type { AgentAuthOptions, AgentIdentity } from './auth.js';
export type { WebhookOptions, WebhookEvent } from './webhook.js';
export type { RedisClusterOptions } from './cluster.js';
export { ManualClock, systemClock, type Clock, type ClockTimer } from './clock.js';

export interface StandaloneRelay {
  relay: Relay;
  server: Server;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** Where peers connect, e.g. ws://127.0.0.1:8090/relay. */
  url: string;
  /** The port GET /metrics is served on alone, when `metricsPort` was given. */
  metricsPort?: number;
  /** Stops accepting connections, closes the relay's sockets with 1001 and waits for them, then the http server. */
  close(): Promise<void>;
}

/**
 * Listens on a server the relay owns the upgrades of: an upgrade for any other path is answered
 * with 404, not left hanging. Closes the relay when the port cannot be had.
 */
export async function listenWithRelay(server: Server, relay: Relay, path: string, port: number, host: string): Promise<void> {
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
}

/** A server of its own for GET /metrics (e.g. a port only the monitoring network reaches); 404 for anything else. */
async function listenForMetrics(relay: Relay, port: number, host: string, timeouts: ServerOptions): Promise<Server> {
  const server = createServer(timeouts, (req, res) => relay.handleMetrics(req, res) || res.writeHead(404).end());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    await relay.close();
    throw err;
  }
  return server;
}

/**
 * Starts a standalone relay: an http server with GET /healthz (JSON {ok, sessions, sockets}),
 * GET /metrics (Prometheus text, when `metrics` is on; on `metricsPort` if given), in dev mode GET /dev/agent-token, and 404 elsewhere.
 */
export async function startRelay(options: RelayOptions & { port?: number; host?: string } = {}): Promise<StandaloneRelay> {
  const { port = 8090, host = '127.0.0.1', ...relayOptions } = options;
  const path = relayOptions.path ?? RELAY_DEFAULTS.path;
  // Slow headers (slowloris) are cut off; the check runs often enough for the timeout to mean what it says.
  const headersTimeout = relayOptions.headersTimeoutMs ?? RELAY_DEFAULTS.headersTimeoutMs;
  const timeouts = {
    headersTimeout,
    requestTimeout: 2 * headersTimeout,
    connectionsCheckingInterval: Math.min(1_000, Math.max(10, headersTimeout / 4)),
  };
  const server = createServer(timeouts, (req, res) => {
    if (relay.handleHttp(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ ok: false }));
  });
  const relay = attachRelay(server, relayOptions);
  // On Redis, start serving once it answers (or after a few seconds: /healthz then says it is down).
  if (relayOptions.redis && !(await relay.ready()))
    relayOptions.log?.({
      event: 'warning',
      message: 'Redis is not reachable yet: /healthz fails and new sessions are refused until it is',
    });
  await listenWithRelay(server, relay, path, port, host);
  const bound = (server.address() as AddressInfo).port;
  const metricsServer =
    relayOptions.metricsPort === undefined ? null : await listenForMetrics(relay, relayOptions.metricsPort, host, timeouts);
  let closing: Promise<void> | undefined;
  return {
    relay,
    server,
    port: bound,
    ...(metricsServer ? { metricsPort: (metricsServer.address() as AddressInfo).port } : {}),
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${bound}${path}`,
    close() {
      closing ??= (async () => {
        // Stop accepting first, so no new peer arrives while the others are told to go.
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await relay.close();
        server.closeAllConnections();
        await serverClosed;
        metricsServer?.closeAllConnections();
        if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
      })();
      return closing;
    },
  };
}

/**
 * The package's documented entry point (`import { createRelay } from 'cobrowse-sdk/relay'`): starts a
 * standalone relay and resolves once it listens, e.g. `await createRelay({ port: 0 })`. It is
 * `startRelay` under the name users look for; to serve the relay from your own http server, use `attachRelay`.
 */
export const createRelay: typeof startRelay = startRelay;
