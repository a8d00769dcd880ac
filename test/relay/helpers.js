// Shared by the relay suites: real ws clients, a relay per suite, frames to send.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startRelay } from '../../dist/relay/index.js';

export const V = 1;
export const SNAPSHOT = {
  t: 'snapshot',
  s: 1,
  url: 'https://shop.example/cart',
  title: 'Cart',
  viewport: [1280, 800],
  doc: [
    9,
    1,
    [
      [10, 2, 'html', '', ''],
      [1, 3, 'html', ['lang', 'en'], [[1, 4, 'body', [], [[3, 5, 'Hello']]]]],
    ],
  ],
};
export const PATCH = {
  t: 'patch',
  s: 2,
  ops: [
    [3, 5, 'Bye'],
    [2, 4, 'class', 'x'],
    [0, 4, null, [1, 6, 'p', [], []]],
    [1, 6],
    [7, 800, 600],
  ],
};

/**
 * A test client: buffers every message and the close, so nothing is missed between awaits.
 * `options` go to ws (e.g. `autoPong`, `headers`, `localAddress`), plus `protocols` (subprotocols to offer).
 */
export function connect(url, options = {}) {
  const { protocols, ...wsOptions } = options;
  const ws = new WebSocket(url, protocols, wsOptions);
  const inbox = [];
  const waiters = [];
  let closeInfo = null;
  const wake = () => {
    while (waiters.length) waiters.shift()();
  };
  ws.on('message', (data, isBinary) => {
    inbox.push({ text: data.toString(), isBinary });
    wake();
  });
  ws.on('error', () => {}); // the close event carries what the tests check
  const closed = new Promise((resolve) =>
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      wake();
      resolve(closeInfo);
    }),
  );
  const client = {
    ws,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    /** The next message's raw text. */
    async nextText(ms = 2000) {
      const deadline = Date.now() + ms;
      while (!inbox.length) {
        if (closeInfo) throw new Error(`closed (${closeInfo.code}) while waiting for a message`);
        if (Date.now() > deadline) throw new Error('timed out waiting for a message');
        await new Promise((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50); // a tick to check the deadline, while waiting for a message
        });
      }
      return inbox.shift().text;
    },
    async next(ms) {
      return JSON.parse(await client.nextText(ms));
    },
    /** Resolves with the close; fails if it takes longer than `ms`. */
    async closedWithin(ms = 2000) {
      return Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed in time')), ms).unref())]);
    },
    pending: () => inbox.length,
    close() {
      if (ws.readyState <= WebSocket.OPEN) ws.close();
      return closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject); // e.g. "Unexpected server response: 404"
    ws.once('close', () => reject(new Error('closed before open')));
  });
}

/** A customer with a fresh session. */
export async function createSession(url, mode = 'full-control') {
  const customer = await connect(url);
  customer.send({ t: 'create', v: V, mode });
  const created = await customer.next();
  assert.equal(created.t, 'created');
  return { customer, created };
}

/** A customer and an agent in one session, with the join handshake already read. */
export async function pair(url, name = 'Alice') {
  const { customer, created } = await createSession(url);
  const agent = await connect(url);
  agent.send({ t: 'join', v: V, code: created.code, name });
  assert.equal((await agent.next()).t, 'joined');
  assert.equal((await customer.next()).t, 'peer');
  return { customer, agent, created };
}

export async function expectRefused(client, errorCode, closeCode) {
  const frame = await client.next();
  assert.deepEqual({ t: frame.t, code: frame.code }, { t: 'error', code: errorCode });
  assert.equal(typeof frame.message, 'string');
  assert.equal((await client.closedWithin()).code, closeCode);
}

export { sleep } from '../helpers/wait.js';

/** Starts a quiet relay per suite and closes it, and every client the suite opened, afterwards. */
export function relaySuite(options = {}) {
  const ctx = { logs: [] };
  before(async () => {
    ctx.server = await startRelay({ port: 0, log: (e) => ctx.logs.push(e), ...options });
    ctx.url = ctx.server.url;
  });
  after(async () => {
    await ctx.server.close();
  });
  return ctx;
}

/** The subprotocols a browser agent offers: the protocol, and its token. */
export const agentProtocols = (token) => ['cobrowse.v1', `cobrowse.bearer.${token}`];

/** An agent with a token, joined to `code`; resolves with the client and the `joined` frame. */
export async function joinAs(url, token, code, name) {
  const agent = await connect(url, { protocols: agentProtocols(token) });
  agent.send({ t: 'join', v: V, code, ...(name ? { name } : {}) });
  return { agent, joined: await agent.next() };
}

/** GET a path on the relay's http side; `url` is its ws URL. */
export const httpBase = (url) => url.replace(/^ws/, 'http').replace(/\/relay$/, '');

/** One metric sample from Prometheus text, e.g. metric(text, 'cobrowse_join_failures_total{reason="not-found"}'). */
export function metric(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
