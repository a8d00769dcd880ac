// The relay, end to end over real WebSockets. Run: npx tsc -p tsconfig.build.json && node --test test/relay/
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { once } from 'node:events';
import { ManualClock, RELAY_DEFAULTS, startRelay } from '../../dist/relay/index.js';
import { until } from '../helpers/wait.js';
import { PATCH, SNAPSHOT, V, connect, createSession, expectRefused, pair, relaySuite } from './helpers.js';

describe('sessions', () => {
  const ctx = relaySuite();

  it('create returns a 9-digit code, a long token and the mode', async () => {
    const { customer, created } = await createSession(ctx.url, 'no-control');
    assert.match(created.code, /^\d{9}$/);
    assert.match(created.token, /^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    assert.equal(created.mode, 'no-control');
    await customer.close();
  });

  it('codes differ between sessions', async () => {
    const a = await createSession(ctx.url);
    const b = await createSession(ctx.url);
    assert.notEqual(a.created.code, b.created.code);
    assert.notEqual(a.created.token, b.created.token);
    await Promise.all([a.customer.close(), b.customer.close()]);
  });

  it('join binds the agent; the customer hears its name', async () => {
    const { customer, created } = await createSession(ctx.url, 'partial-control');
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code, name: 'Alice' });
    const joined = await agent.next();
    assert.match(joined.token, /^[\w-]{43}$/, 'a resume token of its own');
    assert.deepEqual(joined, {
      t: 'joined',
      code: created.code,
      mode: 'partial-control',
      online: true,
      token: joined.token,
      assets: { path: '/asset', grant: joined.assets.grant }, // the asset proxy's (see assets.test.js)
    });
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'online', name: 'Alice' });
    await Promise.all([agent.close(), customer.close()]);
  });

  it('an agent without a name is called "Agent"', async () => {
    const { customer, created } = await createSession(ctx.url);
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code });
    assert.equal((await agent.next()).t, 'joined');
    assert.equal((await customer.next()).name, 'Agent');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('forwards snapshot and patch to the agent and request-snapshot to the customer, byte for byte', async () => {
    const { customer, agent } = await pair(ctx.url);
    const snapshot = JSON.stringify(SNAPSHOT);
    const patch = `{ "t" : "patch",\n "ops": [[3, 5, "h\u00e9llo \u2603"]], "s": 2 }`; // odd spacing survives only if not re-serialized
    customer.send(snapshot);
    customer.send(patch);
    customer.send(PATCH);
    assert.equal(await agent.nextText(), snapshot);
    assert.equal(await agent.nextText(), patch);
    assert.deepEqual(await agent.next(), PATCH);
    agent.send('{"t":"request-snapshot"}');
    assert.equal(await customer.nextText(), '{"t":"request-snapshot"}');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('drops frames while nobody is there to receive them', async () => {
    const { customer, created } = await createSession(ctx.url);
    customer.send(PATCH); // no agent yet
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code });
    assert.equal((await agent.next()).t, 'joined');
    customer.send(SNAPSHOT);
    assert.equal((await agent.next()).t, 'snapshot'); // the early patch never arrives
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a wrong code gets session-not-found and 4004', async () => {
    const { customer, created } = await createSession(ctx.url);
    const wrong = String((Number(created.code) + 1) % 1e9).padStart(9, '0');
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: wrong });
    const frame = await agent.next();
    assert.deepEqual(frame, { t: 'error', code: 'session-not-found', message: 'No session with this ID' });
    assert.equal((await agent.closedWithin()).code, 4004);
    await customer.close();
  });

  it('a second agent gets session-taken and 4009; the first stays', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    const second = await connect(ctx.url);
    second.send({ t: 'join', v: V, code: created.code, name: 'Bob' });
    await expectRefused(second, 'session-taken', 4009);
    customer.send(PATCH);
    assert.equal((await agent.next()).t, 'patch');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('when the agent leaves, the customer is told and another agent may join at once', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    agent.send({ t: 'leave' });
    assert.deepEqual(await agent.closedWithin(), { code: 1000, reason: 'left' });
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'offline' });
    const next = await connect(ctx.url);
    next.send({ t: 'join', v: V, code: created.code, name: 'Bob' });
    assert.equal((await next.next()).t, 'joined');
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'online', name: 'Bob' });
    await customer.close();
  });

  it("a dropped agent's place is held: others are refused, its own token takes it back", async () => {
    const { customer, created } = await createSession(ctx.url);
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code, name: 'Alice' });
    const { token } = await agent.next();
    await customer.next(); // peer online
    await agent.close();
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'offline' });
    const other = await connect(ctx.url);
    other.send({ t: 'join', v: V, code: created.code, name: 'Mallory', token: 'x'.repeat(43) });
    await expectRefused(other, 'session-taken', 4009);
    const back = await connect(ctx.url);
    back.send({ t: 'join', v: V, code: created.code, name: 'Alice', token });
    const joined = await back.next();
    assert.equal(joined.t, 'joined');
    assert.equal(joined.token, token, 'the same token: had a new one been lost with this frame, the agent could never come back');
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'online', name: 'Alice', resumed: true });
    // After it leaves on purpose, its token is worth nothing.
    back.send({ t: 'leave' });
    await back.closedWithin();
    const next = await connect(ctx.url);
    next.send({ t: 'join', v: V, code: created.code, name: 'Bob' });
    assert.notEqual((await next.next()).token, token);
    await Promise.all([next.close(), customer.close()]);
  });

  for (const by of ['agent', 'customer']) {
    it(`end from the ${by}: both hear ended by:'${by}' and close 1000; the code is gone`, async () => {
      const { customer, agent, created } = await pair(ctx.url);
      const parties = { customer, agent };
      const before = ctx.server.relay.sessionCount;
      parties[by].send({ t: 'end' });
      for (const client of [customer, agent]) {
        assert.deepEqual(await client.next(), { t: 'ended', by });
        assert.equal((await client.closedWithin()).code, 1000);
      }
      assert.equal(ctx.server.relay.sessionCount, before - 1);
      const late = await connect(ctx.url);
      late.send({ t: 'join', v: V, code: created.code });
      await expectRefused(late, 'session-not-found', 4004);
    });
  }

  it('resume: after a drop the customer comes back with its token; the agent sees offline then online', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    await customer.close();
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' });

    const thief = await connect(ctx.url);
    thief.send({ t: 'resume', v: V, code: created.code, token: created.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    await expectRefused(thief, 'session-not-found', 4004);

    const back = await connect(ctx.url);
    back.send({ t: 'resume', v: V, code: created.code, token: created.token });
    assert.deepEqual(await back.next(), { t: 'resumed', code: created.code, mode: 'full-control', agent: 'Alice', seq: 0 });
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'online' });
    back.send(PATCH);
    assert.deepEqual(await agent.next(), PATCH);
    await Promise.all([agent.close(), back.close()]);
  });

  it('hand-off: a one-time token carries the session to another domain, which gets a resume token of its own', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    customer.send({ t: 'handoff' });
    const { t, token, ttl } = await customer.next();
    assert.equal(t, 'handoff-token');
    assert.match(token, /^[\w-]{43}$/);
    assert.ok(ttl >= 10_000);
    // The next page, on the other domain: no ID, no resume token, only the hand-off token.
    const next = await connect(ctx.url);
    next.send({ t: 'resume', v: V, handoff: token });
    const resumed = await next.next();
    assert.deepEqual(resumed, { t: 'resumed', code: created.code, mode: 'full-control', agent: 'Alice', seq: 0, token: resumed.token });
    assert.notEqual(resumed.token, created.token);
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'online' });
    // Spent: it opens nothing twice.
    const again = await connect(ctx.url);
    again.send({ t: 'resume', v: V, handoff: token });
    await expectRefused(again, 'session-not-found', 4004);
    // Both domains' resume tokens work (the customer may go back).
    for (const resumeToken of [resumed.token, created.token]) {
      const back = await connect(ctx.url);
      back.send({ t: 'resume', v: V, code: created.code, token: resumeToken });
      assert.equal((await back.next()).t, 'resumed');
      await back.close();
    }
    // A forged or malformed hand-off is refused like an unknown session.
    const forged = await connect(ctx.url);
    forged.send({ t: 'resume', v: V, handoff: 'A'.repeat(43) });
    await expectRefused(forged, 'session-not-found', 4004);
    const mixed = await connect(ctx.url);
    mixed.send({ t: 'resume', v: V, handoff: token, code: created.code });
    await expectRefused(mixed, 'bad-frame', 1008);
    await Promise.all([agent.close(), customer.close(), next.close()]);
  });

  it("hand-off: a token asked for with the session's domains opens it on those only, whoever else holds it", async () => {
    let customer = await connect(ctx.url, { origin: 'https://shop.example' });
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const created = await customer.next();
    const domains = [{ host: 'pay.example', subdomains: false, port: '' }];
    const token = async () => {
      customer.send({ t: 'handoff', domains });
      const frame = await customer.next();
      assert.equal(frame.t, 'handoff-token');
      return frame.token;
    };
    // Where a leaked token might turn up: another site, a client that sends no Origin, the listed host over http.
    for (const origin of ['https://evil.example', undefined, 'http://pay.example', 'https://pay.example:8443']) {
      const thief = await connect(ctx.url, origin ? { origin } : {});
      thief.send({ t: 'resume', v: V, handoff: await token() });
      await expectRefused(thief, 'session-not-found', 4004);
    }
    const spent = await token();
    const next = await connect(ctx.url, { origin: 'https://pay.example' });
    next.send({ t: 'resume', v: V, handoff: spent });
    const resumed = await next.next();
    assert.equal(resumed.t, 'resumed');
    assert.equal(resumed.code, created.code);
    customer = next; // the page on pay.example now holds the session (the first was replaced)
    // A refused redemption spends the token too: it cannot be tried on one site after another.
    const tried = await token();
    const wrong = await connect(ctx.url, { origin: 'https://evil.example' });
    wrong.send({ t: 'resume', v: V, handoff: tried });
    await expectRefused(wrong, 'session-not-found', 4004);
    const late = await connect(ctx.url, { origin: 'https://pay.example' });
    late.send({ t: 'resume', v: V, handoff: tried });
    await expectRefused(late, 'session-not-found', 4004);
    // Rules are checked as data: a malformed one is a bad frame.
    customer.send({ t: 'handoff', domains: [{ host: 'pay.example/evil', subdomains: false, port: '' }] });
    await expectRefused(customer, 'bad-frame', 1008);
    await Promise.all([next.close(), customer.close()]);
  });

  it('resume while the old socket is still open replaces it quietly', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    const second = await connect(ctx.url);
    second.send({ t: 'resume', v: V, code: created.code, token: created.token });
    assert.equal((await second.next()).t, 'resumed');
    assert.deepEqual(await customer.closedWithin(), { code: 1000, reason: 'replaced' });
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'online' }); // never 'offline'
    agent.send({ t: 'request-snapshot' });
    assert.equal((await second.next()).t, 'request-snapshot');
    await Promise.all([agent.close(), second.close()]);
  });

  it('a late handshake from a connection its client gave up cannot push out the newer one', async () => {
    const customer = await connect(ctx.url);
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const created = await customer.next();
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code, at: 2000 });
    const joined = await agent.next();
    assert.equal((await customer.next()).t, 'peer');
    const newer = await connect(ctx.url);
    newer.send({ t: 'resume', v: V, code: created.code, token: created.token, at: 2000 });
    assert.equal((await newer.next()).t, 'resumed');
    assert.deepEqual(await customer.closedWithin(), { code: 1000, reason: 'replaced' });

    // Opened earlier (at 1000), delivered now: closed as replaced, and nobody hears of it.
    const lateCustomer = await connect(ctx.url);
    lateCustomer.send({ t: 'resume', v: V, code: created.code, token: created.token, at: 1000 });
    assert.deepEqual(await lateCustomer.closedWithin(), { code: 1000, reason: 'replaced' });
    const lateAgent = await connect(ctx.url);
    lateAgent.send({ t: 'join', v: V, code: created.code, token: joined.token, at: 1000 });
    assert.deepEqual(await lateAgent.closedWithin(), { code: 1000, reason: 'replaced' });

    agent.send({ t: 'pointer', x: 1, y: 2 });
    assert.deepEqual(await newer.next(), { t: 'pointer', x: 1, y: 2 }, 'the newer customer connection still holds the session');
    newer.send({ t: 'pointer', x: 3, y: 4 });
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'online' });
    assert.deepEqual(await agent.next(), { t: 'pointer', x: 3, y: 4 }, 'and the agent its place');
    await Promise.all([agent.close(), newer.close()]);
  });

  it('resume of an unknown session gets 4004', async () => {
    const client = await connect(ctx.url);
    client.send({ t: 'resume', v: V, code: '000000000', token: 'x'.repeat(43) });
    await expectRefused(client, 'session-not-found', 4004);
  });

  it('logs events without full codes or tokens', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    customer.send(SNAPSHOT);
    await agent.next();
    await Promise.all([agent.close(), customer.close()]);
    const text = JSON.stringify(ctx.logs);
    assert.ok(ctx.logs.some((e) => e.event === 'session-created' && e.session === `${created.code.slice(0, 3)}******`));
    assert.ok(!text.includes(created.code), 'a full session code was logged');
    assert.ok(!text.includes(created.token), 'a resume token was logged');
    assert.ok(!text.includes('shop.example'), 'a frame body was logged');
  });
});

describe('bad input', () => {
  const ctx = relaySuite({ maxPayload: 4096 });

  it('malformed JSON gets bad-frame and 1008; the relay keeps serving', async () => {
    const client = await connect(ctx.url);
    client.send('{"t":"create",');
    await expectRefused(client, 'bad-frame', 1008);
    const { customer, agent } = await pair(ctx.url);
    customer.send(PATCH);
    assert.deepEqual(await agent.next(), PATCH);
    await Promise.all([agent.close(), customer.close()]);
  });

  it('an unknown frame type gets bad-frame and 1008, first or later', async () => {
    const first = await connect(ctx.url);
    first.send({ t: 'hello' });
    await expectRefused(first, 'bad-frame', 1008);
    const { customer } = await createSession(ctx.url);
    customer.send({ t: 'teleport', to: 'mars' });
    await expectRefused(customer, 'bad-frame', 1008);
  });

  it('a first frame other than create/resume/join gets not-allowed and 1008', async () => {
    const client = await connect(ctx.url);
    client.send(PATCH);
    await expectRefused(client, 'not-allowed', 1008);
  });

  it('a frame not allowed for the role gets not-allowed and 1008; the session survives', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    agent.send(PATCH); // agents do not send patches
    await expectRefused(agent, 'not-allowed', 1008);
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'offline' });
    customer.send({ t: 'request-snapshot' }); // nor customers this
    await expectRefused(customer, 'not-allowed', 1008);
    const back = await connect(ctx.url);
    back.send({ t: 'resume', v: V, code: created.code, token: created.token });
    assert.equal((await back.next()).t, 'resumed');
    await back.close();
  });

  it('a second handshake on a bound socket gets not-allowed and 1008', async () => {
    const { customer } = await createSession(ctx.url);
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    await expectRefused(customer, 'not-allowed', 1008);
  });

  it('a schema failure gets bad-frame and 1008', async () => {
    const { customer, agent } = await pair(ctx.url);
    customer.send({ t: 'patch', s: 2, ops: [[2, -1, 'class', 'x']] });
    await expectRefused(customer, 'bad-frame', 1008);
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' }); // nothing forwarded
    await agent.close();
  });

  it('a wrong protocol version gets unsupported-version and 4000', async () => {
    for (const frame of [
      { t: 'create', v: 2, mode: 'full-control' },
      { t: 'join', v: 0, code: '123456789' },
    ]) {
      const client = await connect(ctx.url);
      client.send(frame);
      await expectRefused(client, 'unsupported-version', 4000);
    }
  });

  it('a binary frame closes with 1003', async () => {
    const { customer, agent } = await pair(ctx.url);
    customer.ws.send(Buffer.from(JSON.stringify(PATCH)), { binary: true });
    assert.equal((await customer.closedWithin()).code, 1003);
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' });
    await agent.close();
  });

  it('a frame over maxPayload closes with 1009; the relay stays up', async () => {
    const { customer, agent } = await pair(ctx.url);
    customer.send({ t: 'patch', s: 2, ops: [[3, 5, 'x'.repeat(5000)]] });
    assert.equal((await customer.closedWithin()).code, 1009);
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' });
    await agent.close();
    const again = await pair(ctx.url);
    again.customer.send({ t: 'patch', s: 2, ops: [[3, 5, 'x'.repeat(3000)]] }); // under the limit
    assert.equal((await again.agent.next()).ops[0][2].length, 3000);
    await Promise.all([again.agent.close(), again.customer.close()]);
  });
});

describe('expiry', () => {
  // Time moves only when the test says so; heartbeats are kept out of the way here (see 'heartbeat').
  const clock = new ManualClock();
  const ctx = relaySuite({ clock, heartbeatMs: 24 * 3600_000 });
  const { unjoinedTtlMs, graceMs } = RELAY_DEFAULTS;

  it('a session nobody joins expires; the customer hears ended by:expired', async () => {
    const { customer, created } = await createSession(ctx.url);
    const live = ctx.server.relay.sessionCount;
    clock.advance(unjoinedTtlMs - 1);
    assert.equal(ctx.server.relay.sessionCount, live, 'not a moment early');
    clock.advance(1);
    assert.deepEqual(await customer.next(), { t: 'ended', by: 'expired' });
    assert.equal((await customer.closedWithin()).code, 1000);
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code });
    await expectRefused(agent, 'session-not-found', 4004);
  });

  it('a joined session outlives the unjoined TTL', async () => {
    const { customer, agent } = await pair(ctx.url);
    clock.advance(2 * unjoinedTtlMs);
    customer.send(PATCH);
    assert.deepEqual(await agent.next(), PATCH);
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a customer who does not come back within the grace period ends the session for the agent', async () => {
    const { customer, agent, created } = await pair(ctx.url);
    await customer.close();
    assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' });
    const live = ctx.server.relay.sessionCount;
    clock.advance(graceMs - 1);
    assert.equal(ctx.server.relay.sessionCount, live, 'not a moment early');
    clock.advance(1);
    assert.deepEqual(await agent.next(), { t: 'ended', by: 'expired' });
    assert.equal((await agent.closedWithin()).code, 1000);
    const late = await connect(ctx.url);
    late.send({ t: 'resume', v: V, code: created.code, token: created.token });
    await expectRefused(late, 'session-not-found', 4004);
  });
});

describe('heartbeat', () => {
  const clock = new ManualClock();
  const ctx = relaySuite({ clock });
  const { heartbeatMs } = RELAY_DEFAULTS;
  /** Pongs the relay has had from peers with a role (its round-trip histogram counts each). */
  const pongs = async () =>
    (await ctx.server.relay.registry.getSingleMetric('cobrowse_peer_rtt_seconds').get()).values
      .filter((v) => v.metricName === 'cobrowse_peer_rtt_seconds_count')
      .reduce((sum, v) => sum + v.value, 0);
  /** One heartbeat: every socket is pinged; resolves once the relay has the pongs of `answering`. */
  async function beat(...answering) {
    const before = await pongs();
    const pinged = answering.map((client) => once(client.ws, 'ping'));
    clock.advance(heartbeatMs);
    await Promise.all(pinged);
    await until(async () => (await pongs()) >= before + answering.length, 'the pongs');
  }

  it('a peer that answers no pings is terminated; one that does stays', async () => {
    const { customer, created } = await createSession(ctx.url);
    const deaf = await connect(ctx.url, { autoPong: false });
    deaf.send({ t: 'join', v: V, code: created.code });
    assert.equal((await deaf.next()).t, 'joined');
    assert.equal((await customer.next()).status, 'online');
    await beat(customer); // both pinged; only the customer answers
    await beat(customer); // the deaf agent is cut off; the customer pinged again
    assert.equal((await deaf.closedWithin()).code, 1006); // terminated: no close frame
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'offline' });
    await beat(customer); // pinged, not terminated, a third time
    assert.equal(customer.ws.readyState, WebSocket.OPEN);
    await customer.close();
  });

  it('a socket that never says who it is gets dropped', async () => {
    const idle = await connect(ctx.url);
    clock.advance(heartbeatMs); // its first heartbeat: seen, pinged (and answered)
    clock.advance(heartbeatMs); // still anonymous a whole interval later
    assert.equal((await idle.closedWithin()).code, 1006);
  });
});

describe('standalone server', () => {
  const ctx = relaySuite();
  const http = () => ctx.url.replace(/^ws/, 'http').replace(/\/relay$/, '');

  it('GET /healthz reports sessions and sockets', async () => {
    const { customer } = await createSession(ctx.url);
    const res = await fetch(`${http()}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, sessions: 1, sockets: 1 });
    await customer.close();
    const health = () => fetch(`${http()}/healthz`).then((r) => r.json());
    await until(async () => (await health()).sockets === 0, 'the socket gone from /healthz');
    assert.deepEqual(await health(), { ok: true, sessions: 1, sockets: 0 });
  });

  it('other paths get 404, for http and for WebSocket upgrades', async () => {
    assert.equal((await fetch(`${http()}/`)).status, 404);
    await assert.rejects(connect(`${http().replace(/^http/, 'ws')}/other`), /404/);
  });

  it('close() closes sockets with 1001 and frees the port', async () => {
    const own = await startRelay({ port: 0, log: () => {} });
    const client = await connect(own.url);
    client.send({ t: 'create', v: V, mode: 'full-control' });
    await client.next();
    await own.close();
    assert.equal((await client.closedWithin()).code, 1001);
    assert.equal(own.relay.socketCount, 0);
    assert.equal(own.relay.sessionCount, 0);
    assert.equal(own.server.listening, false);
  });

  it('rejects impossible options', async () => {
    await assert.rejects(startRelay({ port: 0, heartbeatMs: 0 }), TypeError);
    await assert.rejects(startRelay({ port: 0, path: 'relay' }), TypeError);
  });
});

describe('cobrowse-relay CLI', () => {
  const cli = fileURLToPath(new URL('../../dist/relay/cli.js', import.meta.url));

  it('--help prints usage', async () => {
    const child = spawn(process.execPath, [cli, '--help']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.match(out, /Usage: cobrowse-relay/);
  });

  it('starts, serves /healthz and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0', '--host', '127.0.0.1']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 5000);
        child.stdout.on('data', () => {
          const match = out.match(/ws:\/\/127\.0\.0\.1:(\d+)\/relay/);
          if (match) {
            clearTimeout(timer);
            resolve(match[0]);
          }
        });
      });
      assert.doesNotMatch(out.split('\n')[0], /\{/, 'the first line is a plain summary');
      const res = await fetch(url.replace(/^ws/, 'http').replace(/\/relay$/, '/healthz'));
      assert.deepEqual(await res.json(), { ok: true, sessions: 0, sockets: 0 });
      const client = await connect(url);
      child.kill('SIGTERM');
      assert.equal((await client.closedWithin()).code, 1001);
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses Redis without a cluster secret unless told --insecure-cluster', async () => {
    // Checked before connecting: no Redis needs to be there.
    await assert.rejects(async () => {
      const relay = await startRelay({ port: 0, log: () => {}, redis: 'redis://127.0.0.1:1' });
      await relay.close(); // started after all: stop it, so the failure is the assertion's, not a hang
    }, /redis\.secret is required/);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'COBROWSE_CLUSTER_SECRET'));
    const child = spawn(process.execPath, [cli, '--port', '0', '--redis', 'redis://127.0.0.1:1'], { env });
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    assert.notEqual(await new Promise((resolve) => child.on('exit', resolve)), 0);
    assert.match(err, /--cluster-secret/);
    assert.match(err, /--insecure-cluster/);
  });

  it('refuses a bad port', async () => {
    const child = spawn(process.execPath, [cli, '--port', 'eighty']);
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 2);
  });
});
