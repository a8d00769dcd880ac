/**
 * Connections before the WebSocket upgrade: each client IP may hold only so many sockets that
 * connected but have not upgraded (or closed), so a slowloris client — many sockets, each sending
 * half a request — cannot tie up the server's file descriptors. Slow headers themselves are cut
 * off by the http server's headersTimeout (see index.ts).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { IpCounter } from './limits.js';

/** Stops counting (the relay is closing). */
export type Detach = () => void;

/**
 * Counts `server`'s connections per `keyOf(socket)` (an ipKey) until they upgrade or close; destroys
 * those past `max`, or past `max × per48Factor` for their IPv6 /48.
 */
export function capPendingConnections(
  server: Server,
  max: number,
  keyOf: (socket: Socket) => string,
  refused: (key: string) => void,
  per48Factor = Infinity,
): Detach {
  const counts = new IpCounter(max, per48Factor);
  const keys = new WeakMap<Socket, string>();
  const release = (socket: Socket) => {
    const key = keys.get(socket);
    if (key === undefined) return;
    keys.delete(socket);
    counts.remove(key);
  };
  const onConnection = (socket: Socket) => {
    const key = keyOf(socket);
    if (!counts.tryAdd(key)) {
      refused(key);
      return void socket.destroy(); // nothing parsed yet: there is no request to answer
    }
    keys.set(socket, key);
    socket.once('close', () => release(socket));
  };
  // An upgraded socket (to any path) is no longer pending: the relay's own count per IP takes over.
  const onUpgrade = (req: IncomingMessage) => release(req.socket);
  server.on('connection', onConnection);
  server.prependListener('upgrade', onUpgrade);
  return () => {
    server.off('connection', onConnection);
    server.off('upgrade', onUpgrade);
  };
}
