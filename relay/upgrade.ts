/**
 * Everything that can be decided before a WebSocket exists: the path, shutdown, the page's
 * origin, sockets per IP, and the agent's token. Connections that never upgrade are capped per IP.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AuthError, bearerToken, chooseProtocol, type AgentIdentity } from './auth.js';
import { capPendingConnections, type Detach } from './connections.js';
import type { RelayContext } from './context.js';
import { clientIp, ipKey } from './limits.js';

export const pathOf = (req: IncomingMessage) => req.url?.split('?')[0];
const ignore = () => {};

export type Accept = (ws: WebSocket, ip: string, origin: string | undefined, agent: AgentIdentity | null, authError: string | null) => void;

export class Upgrades {
  readonly #wss: WebSocketServer;
  /** Lets go of the server: its upgrades and its pending connections. */
  readonly #detach: Detach;
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req) !== this.#ctx.o.path) return; // someone else's, e.g. the demo server's
    this.#upgrade(req, socket, head).catch((err: unknown) => {
      this.#ctx.log({ event: 'internal-error', error: String(err) });
      socket.destroy();
    });
  };

  readonly #ctx: RelayContext;
  /** Takes each new WebSocket (sockets.ts). */
  readonly #accept: Accept;

  constructor(ctx: RelayContext, server: Server, accept: Accept) {
    this.#ctx = ctx;
    this.#accept = accept;
    const { o, limits, metrics } = ctx;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false, // the context's `conns` tracks them, with their state
      maxPayload: o.maxPayload,
      perMessageDeflate: false, // compression costs CPU per frame and invites zip bombs
      handleProtocols: chooseProtocol,
    });
    server.on('upgrade', this.#onUpgrade);
    const detachPending =
      o.trustProxy || limits.pendingPerIp === Infinity
        ? ignore
        : capPendingConnections(
            server,
            limits.pendingPerIp,
            (socket) => ipKey(socket.remoteAddress),
            () => metrics.refused('pending-limit'),
            limits.per48Factor,
          );
    this.#detach = () => {
      server.off('upgrade', this.#onUpgrade);
      detachPending();
    };
  }

  /** Stops taking upgrades (the relay is closing). */
  detach(): void {
    this.#detach();
    this.#wss.close();
  }

  #reject(socket: Duplex, status: number, reason: string): void {
    this.#ctx.metrics.refused(reason);
    this.#ctx.log({ event: 'upgrade-refused', status, reason });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.shuttingDown) return this.#reject(socket, 503, 'shutting-down');
    const origin = req.headers.origin;
    if (!ctx.customerOrigins.allows(origin) && !ctx.agentOrigins.allows(origin)) return this.#reject(socket, 403, 'origin');
    const ip = clientIp(req, ctx.o.trustProxy);
    if (!ctx.socketsPerIp.tryAdd(ip)) return this.#reject(socket, 429, 'ip-limit');
    // Until a WebSocket owns the socket (and its close releases the slot), a socket that dies releases it here.
    const release = () => ctx.socketsPerIp.remove(ip);
    socket.once('close', release);
    socket.on('error', ignore); // a reset while the token is checked must not crash the process
    const { agent, authError } = await this.#verify(req);
    socket.off('error', ignore);
    if (socket.destroyed) return;
    if (ctx.shuttingDown) return this.#reject(socket, 503, 'shutting-down');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', release);
      this.#accept(ws, ip, origin, agent, authError);
    });
  }

  /** The agent an offered token proves; a refused token's reason is told to the socket if it tries to join (it may still act as a customer). */
  async #verify(req: IncomingMessage): Promise<{ agent: AgentIdentity | null; authError: string | null }> {
    const { auth } = this.#ctx;
    const token = auth ? bearerToken(req) : undefined;
    if (token === undefined) return { agent: null, authError: null };
    try {
      return { agent: await auth!.verify(token), authError: null };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return { agent: null, authError: err.message };
    }
  }
}
