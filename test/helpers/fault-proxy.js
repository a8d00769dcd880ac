// A TCP proxy for fault injection: sits between clients and servers (relays, Redis…) and, on
// demand, resets connections (RST: whatever was in flight is lost), delays, stalls or throttles
// them. Given several targets it is also a load balancer: round-robin over them, skipping one that
// refuses the connection (a dead node), as a load balancer's health check would.
import { connect, createServer } from 'node:net';

/**
 * Starts a proxy on 127.0.0.1 (port 0) to `target` ({ host, port }) or to a list of them.
 * Returns { port, url(path), counts, connections, targets, setTargets(list), resetOne(), resetAll(),
 * setDelay(ms), stall(on), setBandwidth(bytesPerSecond), close() }.
 */
export async function startFaultProxy(target) {
  let targets = [].concat(target);
  let next = 0;
  /** Live connections: { client, upstream, ready, up, down } (up: client → server). */
  const pairs = new Set();
  let delayMs = 0;
  let stalled = false;
  /** Bytes per second each way, shared by all connections (one link); 0: no limit. */
  let bandwidth = 0;
  /** When the throttled link is next free, per direction. */
  const freeAt = { up: 0, down: 0 };
  /** unreachable: connects a target refused (the next one was tried); refused: clients reset because none answered. */
  const counts = { connections: 0, resets: 0, unreachable: 0, refused: 0 };

  // Data goes through a queue per direction so a delay, a stall or a throttle keeps its order.
  function pipe(pair, dir) {
    const queue = [];
    let timer;
    let ending = false;
    const out = () => (dir === 'up' ? (pair.ready ? pair.upstream : null) : pair.client);
    const step = () => {
      clearTimeout(timer);
      timer = undefined;
      for (;;) {
        const to = out();
        if (!to || to.destroyed || stalled) return;
        if (!queue.length) {
          // The sender finished (FIN): pass it on once everything before it went through.
          if (ending && !to.writableEnded) to.end();
          return;
        }
        const head = queue[0];
        const now = Date.now();
        let wait = head.at + delayMs - now;
        if (wait <= 0 && bandwidth) {
          if (head.slot === undefined) {
            // Slices of a tenth of a second's worth, so a big chunk does not hold the link in one go.
            const slice = Math.max(1024, Math.floor(bandwidth / 10));
            if (head.chunk.length > slice) {
              queue.splice(1, 0, { chunk: head.chunk.subarray(slice), at: head.at });
              head.chunk = head.chunk.subarray(0, slice);
            }
            head.slot = Math.max(now, freeAt[dir]);
            freeAt[dir] = head.slot + (head.chunk.length * 1000) / bandwidth;
          }
          wait = head.slot - now;
        }
        if (wait > 0) return void (timer = setTimeout(step, wait));
        queue.shift();
        to.write(head.chunk);
      }
    };
    return {
      push(chunk) {
        queue.push({ chunk, at: Date.now() });
        if (!timer) step();
      },
      end() {
        ending = true;
        step();
      },
      /** Forgets any bandwidth reservations (the limit changed) and goes on. */
      replan() {
        for (const item of queue) delete item.slot;
        step();
      },
      step,
      drop() {
        clearTimeout(timer);
        queue.length = 0;
      },
    };
  }

  const abort = (pair, reset) => {
    if (!pairs.delete(pair)) return;
    pair.up.drop();
    pair.down.drop();
    for (const socket of [pair.client, pair.upstream]) {
      if (!socket || socket.destroyed) continue;
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  };
  // A connection is over once both of its sockets are closed.
  const closed = (pair) => {
    if (pair.client.destroyed && (!pair.upstream || pair.upstream.destroyed)) abort(pair, false);
  };

  /** Connects the pair upstream: the next target in turn, then the others if it refuses. */
  function dial(pair, tried = 0) {
    const list = targets;
    if (tried >= list.length) {
      counts.refused++;
      return abort(pair, true);
    }
    const { host = '127.0.0.1', port } = list[next++ % list.length];
    const upstream = connect({ port, host, allowHalfOpen: true });
    pair.upstream = upstream;
    upstream.once('connect', () => {
      pair.ready = true;
      pair.target = { host, port };
      upstream.on('data', (chunk) => pair.down.push(chunk));
      upstream.on('end', () => pair.down.end());
      upstream.on('close', () => {
        pair.down.end(); // a FIN we did not see (the server's process died): the client hears it too
        pair.up.drop();
        closed(pair);
      });
      pair.up.step();
    });
    upstream.on('error', () => {
      if (!pairs.has(pair)) return;
      if (pair.ready) return abort(pair, false);
      counts.unreachable++;
      upstream.destroy();
      dial(pair, tried + 1);
    });
  }

  const server = createServer({ allowHalfOpen: true }, (client) => {
    counts.connections++;
    const pair = { client, upstream: null, ready: false };
    pair.up = pipe(pair, 'up');
    pair.down = pipe(pair, 'down');
    pairs.add(pair);
    client.on('data', (chunk) => pair.up.push(chunk));
    client.on('end', () => pair.up.end());
    client.on('error', () => abort(pair, false));
    client.on('close', () => {
      pair.up.end();
      pair.down.drop();
      if (!pair.ready) abort(pair, false);
      else closed(pair);
    });
    dial(pair);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  const reset = (pair) => {
    counts.resets++;
    abort(pair, true);
  };
  const everyPipe = (fn) => {
    for (const pair of pairs) [pair.up, pair.down].forEach(fn);
  };

  return {
    port,
    counts,
    url: (path = '/relay') => `ws://127.0.0.1:${port}${path}`,
    get connections() {
      return pairs.size;
    },
    get targets() {
      return [...targets];
    },
    /** Where new connections go from now on (live ones stay where they are). */
    setTargets(list) {
      targets = [].concat(list);
    },
    /** Resets one live connection, chosen by `pick` (default: at random); returns whether there was one. */
    resetOne(pick = (list) => list[Math.floor(Math.random() * list.length)]) {
      const list = [...pairs];
      if (!list.length) return false;
      reset(pick(list));
      return true;
    },
    resetAll() {
      for (const pair of [...pairs]) reset(pair);
    },
    /** Adds this much latency to every chunk, each way. */
    setDelay(ms) {
      delayMs = ms;
      everyPipe((p) => p.step());
    },
    /** Holds all data (connections stay open) until stall(false). */
    stall(on) {
      stalled = on;
      if (!on) everyPipe((p) => p.step());
    },
    /** Caps throughput at this many bytes per second each way, over all connections together; 0 lifts the cap. */
    setBandwidth(bytesPerSecond) {
      bandwidth = Math.max(0, bytesPerSecond);
      freeAt.up = freeAt.down = 0;
      everyPipe((p) => p.replan());
    },
    close() {
      for (const pair of [...pairs]) abort(pair, false);
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
