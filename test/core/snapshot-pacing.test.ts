/**
 * The agent's snapshot requests, paced in the customer's page: an agent (or a forged agent client)
 * asking in a loop gets one snapshot at once and one more when SNAPSHOT_REQUEST_MS has passed, never
 * a frozen tab; and the last request is never dropped. Time is a test clock, not sleeps.
 */
import { expect } from '@open-wc/testing';
import { createStore } from 'idb-keyval';
import mitt from 'mitt';
import { AgentSession } from '../../core/agent-session.js';
import { CustomerSession } from '../../core/customer-session.js';
import type { Mirror } from '../../core/dom/mirror.js';
import { Pacer, type Timers } from '../../core/pacer.js';
import { SNAPSHOT_REQUEST_MS } from '../../core/protocol/index.js';
import type { Connection, ConnectionFactory, TransportEvents } from '../../core/transport.js';
import { sourceFrame } from '../helpers/dom.js';

/** A clock that stands still until `advance()` moves it, running the timers due meanwhile in order. */
function manualTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let serial = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  return {
    now: () => now,
    setTimeout: (run, ms) => (timers.set(++serial, { at: now + Math.max(0, ms), run }), serial),
    clearTimeout: (timer) => void timers.delete(timer as number),
    pending: () => timers.size,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].run();
      }
      now = end;
    },
  };
}

/** A connection that records what the page sends and lets the test play the relay. */
function fakeRelay() {
  const sent: Array<{ t: string; [key: string]: unknown }> = [];
  let connection: Connection | undefined;
  const factory: ConnectionFactory = () => {
    const events = mitt<TransportEvents>();
    connection = {
      events,
      connected: true,
      connect: () => events.emit('open'),
      send: (frame) => (sent.push(frame as { t: string }), true),
      sendText: (text) => (sent.push(JSON.parse(text) as { t: string }), true),
      close: () => {},
    };
    return connection;
  };
  const receive = (frame: object) => connection!.events.emit('message', JSON.stringify(frame));
  const snapshots = () => sent.filter((f) => f.t === 'snapshot' || (f.t === 'chunk' && f.of === 'snapshot' && f.i === 0)).length;
  return { factory, sent, receive, snapshots };
}

/** A customer page with an agent viewing it (the agent has acknowledged the page's first snapshot). */
async function sharedPage(timers: Timers) {
  const { doc } = await sourceFrame('<!doctype html><p>Hello</p>');
  const relay = fakeRelay();
  const session = new CustomerSession({
    relay: 'ws://relay.test/relay',
    doc,
    store: createStore(`pacing-test-${Math.random()}`, 's'),
    connection: relay.factory,
    timers,
  });
  await session.start();
  relay.receive({ t: 'created', code: '123456789', token: 't'.repeat(43), mode: 'full-control' });
  relay.receive({ t: 'peer', role: 'agent', status: 'online', name: 'Alice' });
  expect(relay.snapshots()).to.equal(1, 'a new agent gets the page at once');
  const first = relay.sent.find((f) => f.t === 'snapshot')!;
  relay.receive({ t: 'ack', s: first.s });
  return { doc, session, relay };
}

describe('snapshot requests in the customer page', () => {
  it('50 requests within 5 s produce 1 snapshot at once and 1 more when the window opens', async () => {
    expect(SNAPSHOT_REQUEST_MS).to.equal(5000);
    const timers = manualTimers();
    const { session, relay } = await sharedPage(timers);
    const before = relay.snapshots();
    relay.receive({ t: 'request-snapshot' });
    expect(relay.snapshots() - before).to.equal(1, 'the first request is served at once');
    for (let i = 1; i < 50; i++) {
      timers.advance(99); // 49 more over 4.85 s
      relay.receive({ t: 'request-snapshot' });
    }
    expect(relay.snapshots() - before).to.equal(1, 'none more within the window');
    expect(timers.pending()).to.equal(1, 'one snapshot waits for the window, however many asked');
    timers.advance(SNAPSHOT_REQUEST_MS - 49 * 99 - 1);
    expect(relay.snapshots() - before).to.equal(1, 'not a moment early');
    timers.advance(1);
    expect(relay.snapshots() - before).to.equal(2, 'the coalesced requests get one snapshot when the window opens');
    timers.advance(60_000);
    expect(relay.snapshots() - before).to.equal(2, 'and nothing more after it');
    session.dispose();
  });

  it('a flood for 30 s costs one snapshot per 5 s, and the last request is always answered', async () => {
    const timers = manualTimers();
    const { session, relay } = await sharedPage(timers);
    const before = relay.snapshots();
    for (let t = 0; t < 30_000; t += 10) {
      relay.receive({ t: 'request-snapshot' });
      timers.advance(10);
    }
    const during = relay.snapshots() - before;
    expect(during).to.be.within(6, 7);
    timers.advance(SNAPSHOT_REQUEST_MS);
    expect(relay.snapshots() - before).to.equal(7, 'the request in the last window was answered after it');
    session.dispose();
  });

  it('a snapshot the page sends anyway answers a waiting request; the customer’s own snapshots are not paced', async () => {
    const timers = manualTimers();
    const { session, relay } = await sharedPage(timers);
    const before = relay.snapshots();
    relay.receive({ t: 'request-snapshot' });
    relay.receive({ t: 'request-snapshot' }); // waits for the window
    expect(timers.pending()).to.equal(1);
    session.stopSharing();
    session.startSharing(); // the customer shares again: a fresh snapshot, at once
    expect(relay.snapshots() - before).to.equal(2);
    expect(timers.pending()).to.equal(0, 'the waiting request was answered by it');
    timers.advance(SNAPSHOT_REQUEST_MS);
    expect(relay.snapshots() - before).to.equal(2);
    session.dispose();
  });

  it('Pacer: first at once, the rest coalesced into one when the interval has passed; cancel drops a waiting run', () => {
    const timers = manualTimers();
    let runs = 0;
    const pacer = new Pacer(() => runs++, 1000, timers);
    pacer.request();
    pacer.request();
    pacer.request();
    expect([runs, pacer.waiting]).to.deep.equal([1, true]);
    timers.advance(1000);
    expect([runs, pacer.waiting]).to.deep.equal([2, false]);
    timers.advance(1000);
    pacer.request();
    expect(runs).to.equal(3, 'after a quiet interval, at once again');
    pacer.request();
    pacer.cancel();
    timers.advance(5000);
    expect(runs).to.equal(3);
  });

  it('the agent console: a `throttled` refusal is not fatal, and the need is asked for again after retryAfter', async () => {
    const relay = fakeRelay();
    const mirror = { applySnapshot() {}, applyPatch: () => true, setAssets() {} } as unknown as Mirror;
    const agent = new AgentSession({ relay: 'ws://relay.test/relay', mirror, connection: relay.factory });
    agent.join('123 456 789');
    relay.receive({ t: 'joined', code: '123456789', mode: 'full-control', online: true, token: 'a'.repeat(43) });
    const requests = () => relay.sent.filter((f) => f.t === 'request-snapshot').length;
    relay.receive({ t: 'no-such-frame' }); // a frame it cannot read: the mirror may be out of step
    expect(requests()).to.equal(1, 'the first need is asked for at once');
    relay.receive({ t: 'no-such-frame' });
    expect(requests()).to.equal(1, "not again within the relay's window");
    relay.receive({ t: 'error', code: 'throttled', message: 'One snapshot per 5 s: ask again in 0.0 s', retryAfter: 30 });
    expect(agent.state).to.not.equal('error');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(requests()).to.equal(2, 'asked again once the relay would serve it');
    relay.receive({ t: 'snapshot', s: 1, url: 'https://shop.test/', title: 'Shop', viewport: [800, 600], doc: [9, 1, []] });
    expect(agent.state).to.equal('live');
    agent.dispose();
  });
});
