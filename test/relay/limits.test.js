// Abuse limits over real sockets: join guessing, frame and byte rates, per-IP caps, origins, payload options.
// Clients pick their source address (127.0.0.x all reach loopback on Linux) to act as different IPs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { SignJWT } from 'jose';
import { ManualClock, RELAY_DEFAULTS, startRelay } from '../../dist/relay/index.js';
import { EventEmitter } from 'node:events';
import { capPendingConnections } from '../../dist/relay/connections.js';
import { IpCounter, ipKey, prefix48 } from '../../dist/relay/limits.js';
import { PATCH, V, agentProtocols, connect, createSession, expectRefused, httpBase, metric, relaySuite } from './helpers.js';
import { until } from '../helpers/wait.js';

const SECRET = 'limits-test-secret-0123456789abcdef';
const tokenFor = (sub) =>
  new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setSubject(sub)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));

/** One join attempt as agent `sub` from `ip`; resolves with 'joined' or the error code. */
async function attempt(url, { token, ip = '127.0.0.1', code }) {
  const agent = await connect(url, { protocols: agentProtocols(token), localAddress: ip });
  agent.send({ t: 'join', v: V, code });
  const frame = await agent.next();
  if (frame.t === 'joined') {
    agent.send({ t: 'leave' }); // frees the place for the next attempt (a dropped agent's place is held)
    await agent.closed;
    return 'joined';
  }
  await agent.closed;
  return frame.code;
}

const randomCode = () => String(Math.floor(Math.random() * 1e9)).padStart(9, '0');

describe('join brute force', () => {
  const ctx = relaySuite({ agentAuth: { secret: SECRET }, limits: { socketsPerIp: 1000 } });

  it('10,000 guesses from 4 addresses and 4 agents join zero sessions', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => createSession(ctx.url)));
    const codes = new Set(sessions.map((s) => s.created.code));
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
    const tokens = await Promise.all(['m1', 'm2', 'm3', 'm4'].map(tokenFor));
    const results = {};
    let next = 0;
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        let code;
        do code = randomCode();
        while (codes.has(code)); // a guess, never a lucky hit
        const result = await attempt(ctx.url, { token: tokens[i % 4], ip: ips[Math.floor(i / 4) % 4], code });
        results[result] = (results[result] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(results.joined, undefined, 'a guess joined a session');
    assert.ok(results['session-not-found'] <= 20, `at most 5 failures per address were even looked up: ${JSON.stringify(results)}`);
    assert.equal(results['rate-limited'], 10_000 - results['session-not-found']);
    // Locked out means locked out: even a right code is refused now.
    const real = sessions[0].created.code;
    assert.equal(await attempt(ctx.url, { token: tokens[0], ip: ips[0], code: real }), 'rate-limited');
    for (const s of sessions) assert.equal(s.customer.pending(), 0, 'a customer heard of an agent');
    // An honest agent elsewhere is not affected.
    assert.equal(await attempt(ctx.url, { token: await tokenFor('honest'), ip: '127.0.0.9', code: real }), 'joined');
    await Promise.all(sessions.map((s) => s.customer.close()));
  });
});

describe('parallel join guesses', () => {
  const ctx = relaySuite({ limits: { socketsPerIp: 1000, pendingPerIp: 1000 } });

  it('100 guesses sent at once get at most 5 session-not-found answers, the rest rate-limited', async () => {
    const guesses = await Promise.all(Array.from({ length: 100 }, () => connect(ctx.url, { localAddress: '127.0.7.1' })));
    guesses.forEach((g, i) => g.send({ t: 'join', v: V, code: String(100_000_000 + i) }));
    const counts = {};
    for (const frame of await Promise.all(guesses.map((g) => g.next(5000)))) counts[frame.code] = (counts[frame.code] ?? 0) + 1;
    assert.deepEqual(counts, { 'session-not-found': 5, 'rate-limited': 95 });
    await Promise.all(guesses.map((g) => g.closed));
  });
});

describe('join failures per agent and per address', () => {
  // The default 15 min window, on a clock that moves only when the test says (heartbeats out of the way).
  const clock = new ManualClock();
  const ctx = relaySuite({ agentAuth: { secret: SECRET }, clock, heartbeatMs: 24 * 3600_000 });
  const { joinFailureWindowMs } = RELAY_DEFAULTS.limits;

  it('one agent is locked out on every address after 5 failures; the error says when to retry', async () => {
    const token = await tokenFor('roaming');
    for (let i = 0; i < 5; i++)
      assert.equal(await attempt(ctx.url, { token, ip: `127.0.1.${i + 1}`, code: randomCode() }), 'session-not-found');
    const { customer, created } = await createSession(ctx.url);
    const agent = await connect(ctx.url, { protocols: agentProtocols(token), localAddress: '127.0.1.99' });
    agent.send({ t: 'join', v: V, code: created.code });
    const frame = await agent.next();
    assert.equal(frame.code, 'rate-limited');
    assert.match(frame.message, /try again in 15 min/); // the whole window: time stood still since the failures
    assert.equal((await agent.closedWithin()).code, 4029);
    assert.equal(await attempt(ctx.url, { token: await tokenFor('other'), ip: '127.0.1.99', code: created.code }), 'joined');
    await customer.close();
  });

  it('one address is locked out for every agent after 5 failures', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal(await attempt(ctx.url, { token: await tokenFor(`a${i}`), ip: '127.0.2.1', code: randomCode() }), 'session-not-found');
    }
    const { customer, created } = await createSession(ctx.url);
    assert.equal(await attempt(ctx.url, { token: await tokenFor('fresh'), ip: '127.0.2.1', code: created.code }), 'rate-limited');
    await customer.close();
  });

  it('a success does not reset the count; the window does', async () => {
    const token = await tokenFor('careless');
    const ip = '127.0.3.1';
    for (let i = 0; i < 4; i++) assert.equal(await attempt(ctx.url, { token, ip, code: randomCode() }), 'session-not-found');
    const { customer, created } = await createSession(ctx.url);
    assert.equal(await attempt(ctx.url, { token, ip, code: created.code }), 'joined');
    assert.equal(await attempt(ctx.url, { token, ip, code: randomCode() }), 'session-not-found'); // the 5th
    assert.equal(await attempt(ctx.url, { token, ip, code: created.code }), 'rate-limited');
    clock.advance(joinFailureWindowMs - 1);
    assert.equal(await attempt(ctx.url, { token, ip, code: created.code }), 'rate-limited', 'not a moment early');
    clock.advance(1); // the oldest failure ages out
    assert.equal(await attempt(ctx.url, { token, ip, code: created.code }), 'joined');
    await customer.close();
  });

  it('session-taken is not a failed guess', async () => {
    const { customer, created } = await createSession(ctx.url);
    const first = await connect(ctx.url, { protocols: agentProtocols(await tokenFor('first')) });
    first.send({ t: 'join', v: V, code: created.code });
    assert.equal((await first.next()).t, 'joined');
    const token = await tokenFor('second');
    for (let i = 0; i < 6; i++) assert.equal(await attempt(ctx.url, { token, ip: '127.0.4.1', code: created.code }), 'session-taken');
    await Promise.all([first.close(), customer.close()]);
  });
});

// ws keeps emitting the messages of a read it already has after pause(), so a burst can pass
// one socket read (≤ 64 KiB) beyond the bucket; the balance goes negative and the pause that
// follows pays it back, so the long-run rate holds. The floods here are many reads long.
describe('frame rate', () => {
  const ctx = relaySuite({ metrics: true, limits: { framesPerSecond: 200, bytesPerSecond: Infinity } });

  it('a customer over its frame rate is slowed down, not cut off: every frame arrives, in order', async () => {
    const { customer, agent } = await pairPlain(ctx.url);
    const pad = 'x'.repeat(1000);
    const started = Date.now();
    for (let i = 0; i < 600; i++) customer.send({ t: 'patch', s: i + 2, ops: [[3, 5, `${i} ${pad}`]] });
    for (let i = 0; i < 600; i++) assert.equal((await agent.next(5000)).ops[0][2].split(' ')[0], String(i));
    const took = Date.now() - started;
    // 600 frames at 200/s after a 200-frame burst: 2 s, less one read's worth of overshoot.
    assert.ok(took >= 1200, `600 frames at 200/s took only ${took} ms`);
    assert.equal(customer.ws.readyState, 1);
    const metrics = await (await fetch(`${httpBase(ctx.url)}/metrics`)).text();
    assert.ok(metric(metrics, 'cobrowse_throttled_total{role="customer"}') >= 1);
    await Promise.all([agent.close(), customer.close()]);
  });
});

describe('byte rate', () => {
  const ctx = relaySuite({ limits: { framesPerSecond: Infinity, bytesPerSecond: 256 * 1024 } });

  it('a customer over its byte rate is slowed down the same way', async () => {
    const { customer, agent } = await pairPlain(ctx.url);
    const text = 'x'.repeat(32 * 1024);
    const started = Date.now();
    for (let i = 0; i < 24; i++) customer.send({ t: 'patch', s: i + 2, ops: [[3, 5, text]] }); // 768 KiB at 256 KiB/s
    for (let i = 0; i < 24; i++) assert.equal((await agent.next(5000)).t, 'patch');
    const took = Date.now() - started;
    // 512 KiB past the burst at 256 KiB/s: 2 s, less one read's worth.
    assert.ok(took >= 1200, `768 KiB at 256 KiB/s took only ${took} ms`);
    await Promise.all([agent.close(), customer.close()]);
  });
});

/** A customer and an unauthenticated agent (relays without agentAuth). */
async function pairPlain(url) {
  const { customer, created } = await createSession(url);
  const agent = await connect(url);
  agent.send({ t: 'join', v: V, code: created.code });
  assert.equal((await agent.next()).t, 'joined');
  assert.equal((await customer.next()).t, 'peer');
  return { customer, agent, created };
}

describe('per-IP caps', () => {
  const ctx = relaySuite({ limits: { socketsPerIp: 3, sessionsPerIp: 2 } });

  it('sockets per IP: the next upgrade gets HTTP 429; others are unaffected; closing frees a slot', async () => {
    const ip = '127.0.5.1';
    const open = await Promise.all([1, 2, 3].map(() => connect(ctx.url, { localAddress: ip })));
    await assert.rejects(connect(ctx.url, { localAddress: ip }), /429/);
    const elsewhere = await connect(ctx.url, { localAddress: '127.0.5.2' });
    const sockets = ctx.server.relay.socketCount;
    await open[0].close();
    await until(() => ctx.server.relay.socketCount === sockets - 1, 'the relay to count the closed socket out');
    const again = await connect(ctx.url, { localAddress: ip });
    await Promise.all([...open.slice(1), elsewhere, again].map((c) => c.close()));
  });

  it('sessions per IP: the next create gets rate-limited and 4029; ending one frees a slot', async () => {
    const ip = '127.0.6.1';
    const make = async () => {
      const customer = await connect(ctx.url, { localAddress: ip });
      customer.send({ t: 'create', v: V, mode: 'full-control' });
      return { customer, frame: await customer.next() };
    };
    const a = await make();
    const b = await make();
    assert.equal(b.frame.t, 'created');
    const c = await make();
    assert.equal(c.frame.code, 'rate-limited');
    assert.equal((await c.customer.closedWithin()).code, 4029);
    a.customer.send({ t: 'end' });
    await a.customer.closed;
    const d = await make();
    assert.equal(d.frame.t, 'created');
    await Promise.all([b.customer.close(), d.customer.close()]);
  });
});

/** A raw TCP connection to the relay's port from `ip`; resolves once connected, with a promise of its close. */
function rawSocket(url, ip = '127.0.0.1') {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port: Number(port), host: '127.0.0.1', localAddress: ip }, () => resolve({ socket, closed }));
    const closed = new Promise((done) => socket.once('close', done));
    socket.once('error', reject);
    socket.on('error', () => {});
  });
}

describe('connections before the upgrade', () => {
  const ctx = relaySuite({ headersTimeoutMs: 200, limits: { pendingPerIp: 4 } });

  it('a client that sends half a request and waits (slowloris) is cut off after the header timeout', async () => {
    const { socket } = await rawSocket(ctx.url, '127.0.8.1');
    socket.write('GET /relay HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n'); // and never the rest
    const started = Date.now();
    let answer = '';
    socket.on('data', (d) => (answer += d));
    await until(() => socket.destroyed, 'the relay to close the slow socket', { ms: 3000 });
    assert.ok(Date.now() - started >= 150, 'closed before its headers were late');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it('an IP may hold pendingPerIp connections that have not upgraded; the next is closed at once, others are unaffected', async () => {
    const ip = '127.0.8.2';
    const held = await Promise.all([1, 2, 3, 4].map(() => rawSocket(ctx.url, ip)));
    await until(() => held.every((h) => !h.socket.destroyed), 'four open connections');
    const extra = await rawSocket(ctx.url, ip);
    await until(() => extra.socket.destroyed, 'the relay to close the extra connection', { ms: 2000 });
    assert.ok(
      held.every((h) => !h.socket.destroyed),
      'the held ones are still open',
    );
    const elsewhere = await connect(ctx.url, { localAddress: '127.0.8.3' });
    held[0].socket.destroy();
    await held[0].closed;
    // Once one closes, the IP may connect again, and an upgraded socket no longer counts as pending.
    const upgraded = await until(() => connect(ctx.url, { localAddress: ip }).catch(() => null), 'a free slot');
    const again = await until(() => connect(ctx.url, { localAddress: ip }).catch(() => null), 'a slot the upgrade released');
    await Promise.all([elsewhere.close(), upgraded.close(), again.close(), ...held.slice(1).map((h) => h.socket.destroy())]);
  });
});

describe('origin allowlists', () => {
  const ctx = relaySuite({ customerOrigins: ['https://shop.example'], agentOrigins: ['https://console.example:8443'] });

  it('an origin on neither list gets HTTP 403 before any WebSocket exists', async () => {
    await assert.rejects(connect(ctx.url, { origin: 'https://evil.example' }), /403/);
    await assert.rejects(connect(ctx.url, { origin: 'https://shop.example.evil.example' }), /403/);
    await assert.rejects(connect(ctx.url, { origin: 'http://shop.example' }), /403/); // exact: scheme too
  });

  it('a shop page may create but not join; a console may join but not create', async () => {
    const customer = await connect(ctx.url, { origin: 'https://shop.example' });
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const created = await customer.next();
    assert.equal(created.t, 'created');
    const shopAsAgent = await connect(ctx.url, { origin: 'https://shop.example' });
    shopAsAgent.send({ t: 'join', v: V, code: created.code });
    await expectRefused(shopAsAgent, 'not-allowed', 1008);
    const consoleAsCustomer = await connect(ctx.url, { origin: 'https://console.example:8443' });
    consoleAsCustomer.send({ t: 'create', v: V, mode: 'full-control' });
    await expectRefused(consoleAsCustomer, 'not-allowed', 1008);
    const agent = await connect(ctx.url, { origin: 'https://console.example:8443' });
    agent.send({ t: 'join', v: V, code: created.code });
    assert.equal((await agent.next()).t, 'joined');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a client that sends no Origin (not a browser) is not stopped by it', async () => {
    const { customer } = await createSession(ctx.url);
    await customer.close();
  });

  it('with no allowlist the relay warns at start', async () => {
    const logs = [];
    const open = await startRelay({ port: 0, log: (e) => logs.push(e) });
    await open.close();
    assert.ok(logs.some((e) => e.event === 'warning' && /origin allowlist/.test(e.message)));
    assert.ok(!ctx.server.relay.summary.join('\n').includes('any (no allowlist)'));
  });
});

describe('transport options', () => {
  const ctx = relaySuite();

  it('never negotiates per-message compression, even when a client offers it', async () => {
    const client = await connect(ctx.url, { perMessageDeflate: true });
    assert.equal(client.ws.extensions, '');
    await client.close();
  });

  it('refuses impossible limits and origins with a TypeError', async () => {
    for (const options of [
      { maxPayload: 1024 * 1024 + 1 },
      { limits: { framesPerSecond: 0 } },
      { limits: { highWaterBytes: 2e6, hardCapBytes: 1e6 } },
      { origins: ['https://shop.example/path'] },
      { origins: ['shop.example'] },
      { webhook: { url: 'ftp://hooks.example' } },
    ]) {
      await assert.rejects(startRelay({ port: 0, log: () => {}, ...options }), TypeError, JSON.stringify(options));
    }
  });

  it('a limit can be switched off with Infinity', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, limits: { framesPerSecond: Infinity, sessionsPerIp: Infinity } });
    const { customer, agent } = await pairPlain(relay.url);
    for (let i = 0; i < 300; i++) customer.send(PATCH);
    for (let i = 0; i < 300; i++) await agent.next();
    await relay.close();
  });
});

describe('client IP keys', () => {
  it('IPv4 as is, IPv4-mapped IPv6 unwrapped, IPv6 by its /64', () => {
    assert.equal(ipKey('203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('2001:db8:1:2:aaaa::1'), '2001:0db8:0001:0002::/64');
    assert.equal(ipKey('2001:db8:1:2::ffff'), ipKey('2001:0db8:0001:0002:1:2:3:4'));
    assert.equal(ipKey('::1'), '0000:0000:0000:0000::/64');
  });

  it('IPv4-mapped IPv6 in every spelling is the IPv4 address; an IPv6 /64 lies in its /48', () => {
    for (const mapped of ['::FFFF:203.0.113.7', '0:0:0:0:0:ffff:203.0.113.7', '::ffff:cb00:7107', '::ffff:203.0.113.7%eth0']) {
      assert.equal(ipKey(mapped), '203.0.113.7', mapped);
    }
    assert.equal(ipKey('2001:DB8:1:2::1'), '2001:0db8:0001:0002::/64');
    assert.equal(prefix48(ipKey('2001:db8:1:2::1')), '2001:0db8:0001::/48');
    assert.equal(prefix48(ipKey('2001:db8:1:ffff::1')), '2001:0db8:0001::/48');
    assert.notEqual(prefix48(ipKey('2001:db8:2:1::1')), prefix48(ipKey('2001:db8:1:1::1')));
    assert.equal(prefix48(ipKey('203.0.113.7')), null);
    assert.equal(prefix48(ipKey('::ffff:203.0.113.7')), null);
    assert.equal(prefix48('unknown'), null);
  });

  it('a /48 is capped at per48Factor × the per-IP cap, whichever of its /64s the clients come from', () => {
    const counter = new IpCounter(2, 4); // 2 per /64, 8 per /48
    const in48 = (n) => ipKey(`2001:db8:1:${n.toString(16)}::1`);
    for (let n = 0; n < 8; n++) assert.ok(counter.tryAdd(in48(n)), `a client from /64 number ${n}`);
    for (let n = 8; n < 1000; n++) assert.equal(counter.tryAdd(in48(n)), false, `/64 number ${n} of a full /48`);
    assert.ok(counter.tryAdd(ipKey('2001:db8:2::1')), 'another /48 is unaffected');
    assert.ok(counter.tryAdd(ipKey('203.0.113.7')), 'IPv4 is unaffected');
    counter.remove(in48(3));
    assert.ok(counter.tryAdd(in48(500)), 'one leaving frees a place in the /48');
    // A /64's own cap still holds inside a /48 with room, and a refusal there takes no /48 place.
    const wide = new IpCounter(2, 4);
    assert.ok(wide.tryAdd(in48(0)) && wide.tryAdd(in48(0)));
    assert.equal(wide.tryAdd(in48(0)), false);
    for (let n = 1; n < 7; n++) assert.ok(wide.tryAdd(in48(n)), `the /48 still has room for /64 number ${n}`);
    assert.equal(wide.tryAdd(in48(7)), false);
  });

  it('connections before the upgrade are capped per /48 too', () => {
    const server = new EventEmitter();
    let refused = 0;
    const detach = capPendingConnections(
      server,
      2,
      (socket) => ipKey(socket.remoteAddress),
      () => refused++,
      3,
    );
    const sockets = [];
    const open = (address) => {
      const socket = Object.assign(new EventEmitter(), { remoteAddress: address, destroyed: false });
      socket.destroy = () => {
        socket.destroyed = true;
        socket.emit('close');
      };
      server.emit('connection', socket);
      sockets.push(socket);
      return socket;
    };
    for (let n = 0; n < 6; n++) assert.equal(open(`2001:db8:1:${n}::1`).destroyed, false, `/64 number ${n}`);
    assert.equal(open('2001:db8:1:6::1').destroyed, true, 'the 7th /64 of a /48 capped at 2 × 3');
    assert.equal(open('2001:db8:9::1').destroyed, false, 'another /48');
    sockets[0].emit('close');
    assert.equal(open('2001:db8:1:7::1').destroyed, false, 'a closed connection frees its /48 place');
    assert.equal(refused, 1);
    detach();
  });

  it('behind a trusted proxy, sockets from many /64s of one /48 are refused past its cap; IPv4-mapped counts as IPv4', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, trustProxy: true, limits: { socketsPerIp: 2, per48Factor: 3 } });
    const from = (ip) => connect(relay.url, { headers: { 'x-forwarded-for': ip } });
    const open = [];
    for (let n = 1; n <= 6; n++) open.push(await from(`2001:db8:5:${n}::1`));
    await assert.rejects(from('2001:db8:5:7::1'), /429/);
    await assert.rejects(from('2001:db8:5:ff00::99'), /429/);
    open.push(await from('2001:db8:6:1::1')); // another /48
    open.push(await from('198.51.100.7'), await from('::ffff:198.51.100.7'));
    await assert.rejects(from('::ffff:c633:6407'), /429/); // 198.51.100.7 again, a third time
    await open[0].close();
    open.push(await until(() => from('2001:db8:5:8::1').catch(() => null), 'a place freed in the /48'));
    await Promise.all(open.slice(1).map((c) => c.close()));
    await relay.close();
  });

  it('behind a trusted proxy, sessions from many /64s of one /48 are refused past its cap', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, trustProxy: true, limits: { sessionsPerIp: 1, per48Factor: 2 } });
    const create = async (ip) => {
      const customer = await connect(relay.url, { headers: { 'x-forwarded-for': ip } });
      customer.send({ t: 'create', v: V, mode: 'full-control' });
      return { customer, frame: await customer.next() };
    };
    const a = await create('2001:db8:7:1::1');
    const b = await create('2001:db8:7:2::1');
    assert.deepEqual([a.frame.t, b.frame.t], ['created', 'created']);
    const c = await create('2001:db8:7:3::1');
    assert.equal(c.frame.code, 'rate-limited');
    assert.equal((await c.customer.closedWithin()).code, 4029);
    const d = await create('2001:db8:8:1::1');
    assert.equal(d.frame.t, 'created');
    await Promise.all([a.customer.close(), b.customer.close(), d.customer.close()]);
    await relay.close();
  });

  it('behind a trusted proxy, the last X-Forwarded-For entry is the client', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, trustProxy: true, limits: { socketsPerIp: 1 } });
    const headers = (ip) => ({ headers: { 'x-forwarded-for': `10.0.0.1, ${ip}` } });
    const a = await connect(relay.url, headers('198.51.100.1'));
    await assert.rejects(connect(relay.url, headers('198.51.100.1')), /429/);
    const b = await connect(relay.url, headers('198.51.100.2'));
    await Promise.all([a.close(), b.close()]);
    await relay.close();
  });
});
