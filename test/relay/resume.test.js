// Resume without loss: a customer and an agent, real ws clients driving the SDK's own Outbox and
// Inbox (core/reliable.ts) through a real relay, with a fault proxy between them and the relay
// that resets their connections (RST: whatever is in flight is lost) at random points.
//
// The page is a list 1, 2, 3…; each patch appends the next number and a snapshot carries the
// whole list. A patch lost or applied twice shows at once: the agent's list would not count up by one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { Inbox, Outbox } from '../../dist/core/reliable.js';
import { startRelay } from '../../dist/relay/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { V, sleep } from './helpers.js';

/** A seeded generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOC = [9, 1, [[1, 2, 'html', [], [[1, 3, 'body', [], []]]]]];

/** A customer page as far as the stream goes: the same handling as core/customer-session.ts, without a DOM. */
class Customer {
  list = [];
  snapshots = 0;
  code = '';
  #token = '';
  #ws = null;
  #closed = false;

  constructor(url, { pad = () => 0 } = {}) {
    this.url = url;
    this.pad = pad;
    this.outbox = new Outbox((text) => this.#ws?.readyState === WebSocket.OPEN && (this.#ws.send(text), true));
  }

  start() {
    return new Promise((resolve) => {
      this.onCreated = resolve;
      this.#connect();
    });
  }

  /** One batch of changes to the page: appends `count` numbers. */
  mutate(count = 1) {
    const ops = [];
    for (let i = 0; i < count; i++) {
      const n = this.list.length + 1;
      this.list.push(n);
      ops.push([3, 3, String(n)]);
    }
    this.outbox.push({ t: 'patch', ops });
  }

  snapshot() {
    this.snapshots++;
    // Some snapshots are big enough to travel in chunks.
    this.outbox.push({
      t: 'snapshot',
      url: 'https://shop.example/',
      title: this.list.join(','),
      viewport: [800, 600],
      doc: DOC,
      pad: 'x'.repeat(this.pad()),
    });
  }

  close() {
    this.#closed = true;
    this.#ws?.close();
  }

  debug() {
    return { synced: this.outbox.synced, seq: this.outbox.seq, ws: this.#ws?.readyState, log: this.log.slice(-12) };
  }

  log = [];

  #catchUp(s) {
    if (!this.outbox.ack(s)) this.snapshot();
  }

  #connect() {
    const ws = new WebSocket(this.url, ['cobrowse.v1']);
    this.#ws = ws;
    ws.on('error', () => {});
    ws.on('open', () =>
      ws.send(
        JSON.stringify(
          this.#token ? { t: 'resume', v: V, code: this.code, token: this.#token } : { t: 'create', v: V, mode: 'full-control' },
        ),
      ),
    );
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.t !== 'ack') this.log.push(`${frame.t}${frame.status ?? ''} seq=${this.outbox.seq} synced=${this.outbox.synced}`);
      else if (!this.outbox.synced) this.log.push(`sync ack ${frame.s}`);
      switch (frame.t) {
        case 'created':
          this.code = frame.code;
          this.#token = frame.token;
          this.snapshot(); // the page is recorded from the start; the first agent gets it replayed
          this.onCreated();
          break;
        case 'resumed':
          this.outbox.continueFrom(frame.seq);
          this.outbox.unsync();
          break;
        case 'peer':
          this.outbox.unsync();
          if (frame.status === 'online' && !frame.resumed) this.#catchUp(0);
          break;
        case 'ack':
          this.#catchUp(frame.s);
          break;
        case 'request-snapshot':
          this.snapshot();
          break;
      }
    });
    ws.on('close', () => {
      if (this.#ws !== ws || this.#closed) return;
      this.outbox.unsync();
      setTimeout(() => this.#connect(), 10);
    });
  }
}

/** An agent console as far as the stream goes: the same handling as core/agent-session.ts, without a mirror. */
class Agent {
  list = [];
  /** Patches that did not count up by one: lost or duplicated. */
  errors = [];
  applied = { snapshots: 0, patches: 0, duplicates: 0, gaps: 0 };
  #inbox = new Inbox();
  #token = '';
  #ws = null;
  #closed = false;
  #timer;
  #syncedAt = 0;

  constructor(url, code) {
    this.url = url;
    this.code = code;
  }

  start() {
    this.#connect();
    this.#timer = setInterval(() => this.#ack(), 20);
  }

  close() {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#ws?.close();
  }

  log = [];
  debug() {
    return { last: this.#inbox.last, ws: this.#ws?.readyState, log: this.log.slice(-12) };
  }

  #ack() {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ t: 'ack', s: this.#inbox.last }));
  }

  #apply(frame) {
    const verdict = this.#inbox.accept(frame);
    if (!verdict.apply) {
      if (verdict.gap) {
        // As the console does: a replay may be on its way; ask for a snapshot if it does not fill the gap.
        this.applied.gaps++;
        this.log.push(`gap ${frame.t}${frame.s} last=${this.#inbox.last}`);
        const last = this.#inbox.last;
        const ask = () => this.#inbox.last === last && this.#ws.readyState === WebSocket.OPEN && this.#ws.send('{"t":"request-snapshot"}');
        const wait = this.#syncedAt + 2000 - Date.now();
        if (wait <= 0) ask();
        else setTimeout(ask, wait);
      } else if (frame.t !== 'chunk') this.applied.duplicates++; // (a chunk is also skipped while its frame is incomplete)
      return;
    }
    const whole = verdict.text === undefined ? frame : JSON.parse(verdict.text);
    if (whole.t === 'snapshot') {
      this.applied.snapshots++;
      this.list = whole.title ? whole.title.split(',').map(Number) : [];
    } else {
      this.applied.patches++;
      for (const op of whole.ops) {
        const n = Number(op[2]);
        if (n !== this.list.length + 1) this.errors.push(`${n} after ${this.list.length}`);
        this.list.push(n);
      }
    }
  }

  #connect() {
    const ws = new WebSocket(this.url, ['cobrowse.v1']);
    this.#ws = ws;
    ws.on('error', () => {});
    ws.on('open', () =>
      ws.send(
        JSON.stringify(this.#token ? { t: 'join', v: V, code: this.code, token: this.#token } : { t: 'join', v: V, code: this.code }),
      ),
    );
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.t !== 'patch' && frame.t !== 'chunk')
        this.log.push(`${frame.t}${frame.status ?? ''}${frame.s ?? ''} last=${this.#inbox.last}`);
      if (frame.t === 'joined') this.#token = frame.token;
      if (frame.t === 'joined' || (frame.t === 'peer' && frame.status === 'online')) {
        this.#syncedAt = Date.now();
        this.#ack();
      } else if (frame.t === 'snapshot' || frame.t === 'patch' || frame.t === 'chunk') this.#apply(frame);
      else if (frame.t === 'error') this.errors.push(`relay: ${frame.code} ${frame.message}`);
    });
    ws.on('close', () => {
      if (this.#ws !== ws || this.#closed) return;
      setTimeout(() => this.#connect(), 10);
    });
  }
}

async function until(test, ms, what) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

describe('resume without loss', () => {
  let relay, proxy;
  before(async () => {
    relay = await startRelay({ port: 0, host: '127.0.0.1', log: () => {} });
    proxy = await startFaultProxy({ port: relay.port });
  });
  after(async () => {
    await proxy?.close();
    await relay?.close();
  });

  it('100 forced closes at random points: no patch lost or applied twice, and the agent converges', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1e9);
    const rand = random(seed);
    const customer = new Customer(proxy.url(), { pad: () => (rand() < 0.2 ? Math.floor(rand() * 400_000) : 0) });
    await customer.start();
    const agent = new Agent(proxy.url(), customer.code);
    agent.start();
    await until(() => agent.list.length === customer.list.length && agent.applied.snapshots > 0, 5000, 'the first snapshot');

    let stop = false;
    // About 100 batches a second, as a busy page's MutationObserver delivers them (the relay's default rate limit is 200 frames/s).
    let batches = 0;
    const churn = (async () => {
      while (!stop) {
        customer.mutate(1 + Math.floor(rand() * 5));
        batches++;
        await sleep(5 + Math.floor(rand() * 10));
      }
    })();
    let resets = 0;
    const deadline = Date.now() + 60_000;
    while (resets < 100) {
      await sleep(5 + Math.floor(rand() * 40));
      if (proxy.resetOne((list) => list[Math.floor(rand() * list.length)])) resets++;
      assert.ok(
        Date.now() < deadline,
        `seed ${seed}: the clients stopped reconnecting after ${resets} resets: ${JSON.stringify({ customer: customer.debug(), agent: agent.debug() })}`,
      );
    }
    stop = true;
    await churn;

    await until(() => agent.list.length === customer.list.length, 5000, `convergence (seed ${seed})`).catch((err) => {
      err.message += `: agent has ${agent.list.length}, customer ${customer.list.length}; ${JSON.stringify({ customer: customer.debug(), agent: agent.debug() })}`;
      throw err;
    });
    customer.close();
    agent.close();
    const lost = agent.errors.filter((e) => !e.startsWith('relay:'));
    console.log(
      `seed ${seed}: ${resets} forced closes; ${batches} patches (${customer.list.length} changes); agent applied ${agent.applied.patches} patches and ` +
        `${agent.applied.snapshots} of the customer's ${customer.snapshots} snapshots; skipped ${agent.applied.duplicates} duplicates, ` +
        `${agent.applied.gaps} gaps; lost or doubled: ${lost.length}`,
    );
    assert.deepEqual(lost, [], `seed ${seed}`);
    assert.deepEqual(agent.list, customer.list, `seed ${seed}: the agent's page equals the customer's`);
    assert.ok(agent.applied.patches > batches / 2, 'most of the stream arrived as patches (replayed), not snapshots');
  });

  it('a snapshot over 1 MiB crosses the relay in chunks and is put back together', async () => {
    const customer = new Customer(proxy.url(), { pad: () => 3_000_000 });
    await customer.start();
    customer.mutate(10);
    const agent = new Agent(proxy.url(), customer.code);
    agent.start();
    await until(() => agent.list.length === 10, 10_000, 'the chunked snapshot');
    assert.deepEqual(agent.list, customer.list);
    assert.equal(agent.applied.snapshots, 1);
    customer.close();
    agent.close();
  });
});
