// A TCP proxy for fault injection: sits between clients and a server (a relay, Redis…) and,
// on demand, resets connections (RST: whatever was in flight is lost), delays or stalls them.
import { connect, createServer } from 'node:net';

/**
 * Starts a proxy on 127.0.0.1 (port 0) to `target` ({ host, port }).
 * Returns { port, url(path), connections, resetOne(), resetAll(), setDelay(ms), stall(on), close() }.
 */
export async function startFaultProxy(target) {
  /** Live pairs of [client side, server side]. */
  const pairs = new Set();
  let delayMs = 0;
  let stalled = false;
  const counts = { connections: 0, resets: 0 };

  // Data goes through a queue per direction so a delay or a stall keeps its order.
  function pipe(from, to) {
    const queue = [];
    let flushing = false;
    const flush = () => {
      if (flushing) return;
      flushing = true;
      const step = () => {
        if (stalled || !queue.length || to.destroyed) return void (flushing = false);
        const { chunk, at } = queue[0];
        const wait = at + delayMs - Date.now();
        if (wait > 0) return void setTimeout(step, wait);
        queue.shift();
        to.write(chunk);
        step();
      };
      step();
    };
    from.on('data', (chunk) => {
      queue.push({ chunk, at: Date.now() });
      flush();
    });
    return flush;
  }

  const server = createServer((client) => {
    counts.connections++;
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair = { client, upstream, flushes: [] };
    pairs.add(pair);
    pair.flushes.push(pipe(client, upstream), pipe(upstream, client));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  const reset = (pair) => {
    pairs.delete(pair);
    counts.resets++;
    pair.client.resetAndDestroy();
    pair.upstream.resetAndDestroy();
  };

  return {
    port,
    counts,
    url: (path = '/relay') => `ws://127.0.0.1:${port}${path}`,
    get connections() {
      return pairs.size;
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
    },
    /** Holds all data (connections stay open) until stall(false). */
    stall(on) {
      stalled = on;
      if (!on) for (const pair of pairs) pair.flushes.forEach((flush) => flush());
    },
    close() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
