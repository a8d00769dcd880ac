// Scale-out: relay processes (dist/relay/cli.js --redis) sharing one real redis-server.
// A customer on node A and an agent on node B share a session; node A dies (SIGKILL) and the
// customer resumes on B with its token: the same ID, and a stream (the SDK's own Outbox/Inbox)
// that neither loses nor doubles a patch. Then the rules that must hold across nodes, and Redis
// going away and coming back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedis } from '../helpers/redis.js';
import { connect, expectRefused, metric } from '../relay/helpers.js';
import { Agent, Customer, V, clusterSuite, health, sleep } from './helpers.js';
import { until } from '../helpers/wait.js';

/** A customer creates a session on node `a`; an agent, Alice, joins it on node `b` (`join` adds to her frame). */
async function pairAcross(a, b, join = {}) {
  const customer = await connect(a.url);
  customer.send({ t: 'create', v: V, mode: 'full-control' });
  const created = await customer.next();
  const agent = await connect(b.url);
  agent.send({ t: 'join', v: V, code: created.code, name: 'Alice', ...join });
  const joined = await agent.next();
  assert.equal(joined.t, 'joined');
  assert.equal((await customer.next()).t, 'peer');
  return { customer, created, agent, joined };
}

/** The customer's socket dies and it resumes on `node`: the agent hears it go and come back, and Alice is still there. */
async function moveCustomer({ customer, created, agent }, node) {
  customer.ws.terminate();
  assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'offline' });
  const back = await connect(node.url);
  back.send({ t: 'resume', v: V, code: created.code, token: created.token });
  const resumed = await back.next();
  assert.deepEqual({ t: resumed.t, code: resumed.code, agent: resumed.agent }, { t: 'resumed', code: created.code, agent: 'Alice' });
  assert.deepEqual(await agent.next(), { t: 'peer', role: 'customer', status: 'online' });
  return back;
}

describe('two relays on one Redis: a node dies mid-session', () => {
  const ctx = clusterSuite();

  it('customer on A, agent on B co-browse; A is killed; the session continues on B with the same ID, nothing lost or applied twice', async () => {
    const { a, b } = ctx;
    const customer = new Customer([a.url, b.url]);
    await customer.start();
    const code = customer.code;
    assert.match(code, /^\d{9}$/);
    const agent = new Agent([b.url, a.url], code);
    agent.start();
    await until(
      () => agent.applied.snapshots > 0 && agent.list.length === customer.list.length,
      'the first snapshot from A reaches the agent on B',
      { ms: 5000 },
    );

    let stop = false;
    let batches = 0;
    const churn = (async () => {
      while (!stop) {
        customer.mutate(1 + (batches % 3));
        batches++;
        await sleep(8); // pacing on purpose: a page's mutation batches
      }
    })();
    await until(() => agent.applied.patches > 20, 'patches to cross from A to B');
    const beforeKill = agent.list.length;
    const patchesBeforeKill = agent.applied.patches;

    await a.kill(); // no goodbye: its sockets just die
    // The customer resumes on B while the page goes on changing; patches flow again.
    await until(() => customer.nodes.length === 2 && agent.applied.patches > patchesBeforeKill + 20, 'patches again, from B', {
      ms: 10_000,
    });
    stop = true;
    await churn;
    await until(() => agent.list.length === customer.list.length, 'convergence on B', { ms: 5000 }).catch((err) => {
      err.message += `: agent ${agent.list.length}, customer ${customer.list.length}; ${JSON.stringify({ c: customer.log.slice(-8), a: agent.log.slice(-8) })}`;
      throw err;
    });
    customer.close();
    agent.close();

    console.log(
      `${batches} patches (${customer.list.length} changes), ${beforeKill} before the kill; agent applied ${agent.applied.patches} patches and ` +
        `${agent.applied.snapshots} snapshots, skipped ${agent.applied.duplicates} duplicates and ${agent.applied.gaps} gaps`,
    );
    assert.deepEqual(customer.nodes, [0, 1], 'the customer started on A and resumed on B');
    assert.equal(customer.resumedCode, code, 'resumed the same session: no new ID');
    assert.deepEqual(agent.nodes, [0], 'the agent stayed on B throughout');
    assert.deepEqual(agent.errors, [], 'no patch lost or applied twice');
    assert.deepEqual(agent.list, customer.list, "the agent's page equals the customer's");
    assert.ok(agent.list.length > beforeKill, 'the stream went on after the kill');
    assert.ok(agent.applied.patches > batches / 2, 'mostly replayed patches, not snapshots');
  });
});

describe('two relays on one Redis: the rules hold across nodes', () => {
  const ctx = clusterSuite(['--join-failures', '3']);

  it('one agent at a time, presence and end cross nodes', async () => {
    const { a, b } = ctx;
    const customer = await connect(a.url);
    customer.send({ t: 'create', v: V, mode: 'no-control' });
    const created = await customer.next();
    assert.equal(created.t, 'created');

    const agent = await connect(b.url);
    agent.send({ t: 'join', v: V, code: created.code, name: 'Alice' });
    const joined = await agent.next();
    assert.deepEqual({ t: joined.t, online: joined.online, mode: joined.mode }, { t: 'joined', online: true, mode: 'no-control' });
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'online', name: 'Alice' });

    const second = await connect(a.url);
    second.send({ t: 'join', v: V, code: created.code, name: 'Bob' });
    await expectRefused(second, 'session-taken', 4009);

    // The mode is enforced on the agent's node too.
    agent.send({ t: 'control', n: 1, a: 'click', id: 4, x: 1, y: 1 });
    assert.equal((await agent.next()).ok, false);

    customer.send({ t: 'pointer', x: 5, y: 6 });
    assert.deepEqual(await agent.next(), { t: 'pointer', x: 5, y: 6 });
    agent.send({ t: 'pointer', x: 7, y: 8 });
    assert.deepEqual(await customer.next(), { t: 'pointer', x: 7, y: 8 });

    // The customer drops from A and resumes on B: the agent hears both.
    const back = await moveCustomer({ customer, created, agent }, b);

    agent.send({ t: 'end' });
    assert.deepEqual(await back.next(), { t: 'ended', by: 'agent' });
    assert.equal((await back.closedWithin()).code, 1000);
    await agent.closedWithin();

    const late = await connect(a.url);
    late.send({ t: 'resume', v: V, code: created.code, token: created.token });
    await expectRefused(late, 'session-not-found', 4004);
  });

  it('a late handshake on one node cannot push out the newer connection on another', async () => {
    const { a, b } = ctx;
    const { customer, created, agent, joined } = await pairAcross(a, b, { at: 2000 });
    const lateAgent = await connect(a.url);
    lateAgent.send({ t: 'join', v: V, code: created.code, token: joined.token, at: 1000 });
    assert.deepEqual(await lateAgent.closedWithin(), { code: 1000, reason: 'replaced' });
    const newer = await connect(b.url);
    newer.send({ t: 'resume', v: V, code: created.code, token: created.token, at: 3000 });
    assert.equal((await newer.next()).t, 'resumed');
    const lateCustomer = await connect(a.url);
    lateCustomer.send({ t: 'resume', v: V, code: created.code, token: created.token, at: 1000 });
    assert.deepEqual(await lateCustomer.closedWithin(), { code: 1000, reason: 'replaced' });
    agent.send({ t: 'pointer', x: 1, y: 2 });
    assert.deepEqual(await newer.next(), { t: 'pointer', x: 1, y: 2 });
    await Promise.all([agent.close(), newer.close(), customer.close()]);
  });

  it('a wrong resume token is refused on any node; session IDs are unique', async () => {
    const { a, b } = ctx;
    const customer = await connect(a.url);
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const { code } = await customer.next();
    const thief = await connect(b.url);
    thief.send({ t: 'resume', v: V, code, token: 'x'.repeat(43) });
    await expectRefused(thief, 'session-not-found', 4004);
    const codes = new Set([code]);
    const clients = [customer];
    for (let i = 0; i < 20; i++) {
      const c = await connect(i % 2 ? a.url : b.url);
      c.send({ t: 'create', v: V, mode: 'full-control' });
      codes.add((await c.next()).code);
      clients.push(c);
    }
    assert.equal(codes.size, 21);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('failed joins are counted cluster-wide: three misses on A lock the address out on B too', async () => {
    const { a, b } = ctx;
    const customer = await connect(a.url);
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const { code } = await customer.next();
    const wrong = code === '000000000' ? '000000001' : '000000000';
    for (let i = 0; i < 3; i++) {
      const guess = await connect(a.url);
      guess.send({ t: 'join', v: V, code: wrong });
      await expectRefused(guess, 'session-not-found', 4004);
    }
    const agent = await connect(b.url);
    agent.send({ t: 'join', v: V, code });
    await expectRefused(agent, 'rate-limited', 4029);
    await customer.close();
  });

  it("a hand-off token issued on one node opens the session on another, only on the session's domains", async () => {
    const { a, b } = ctx;
    const customer = await connect(a.url, { origin: 'https://shop.example' });
    customer.send({ t: 'create', v: V, mode: 'no-control' });
    const created = await customer.next();
    const token = async () => {
      customer.send({ t: 'handoff', domains: [{ host: 'pay.example', subdomains: false, port: '' }] });
      const frame = await customer.next();
      assert.equal(frame.t, 'handoff-token');
      return frame.token;
    };
    const thief = await connect(b.url, { origin: 'https://evil.example' });
    thief.send({ t: 'resume', v: V, handoff: await token() });
    await expectRefused(thief, 'session-not-found', 4004);
    const next = await connect(b.url, { origin: 'https://pay.example' });
    next.send({ t: 'resume', v: V, handoff: await token() });
    const resumed = await next.next();
    assert.deepEqual([resumed.t, resumed.code], ['resumed', created.code]);
    next.send({ t: 'end' });
    await next.closedWithin();
  });
});

describe('two relays on one Redis: sessions per IP', () => {
  const ctx = clusterSuite(['--sessions-per-ip', '2']);

  it('are counted cluster-wide: two on A leave none for B, until one ends', async () => {
    const { a, b } = ctx;
    const create = async (url) => {
      const client = await connect(url);
      client.send({ t: 'create', v: V, mode: 'full-control' });
      return { client, frame: await client.next() };
    };
    const first = await create(a.url);
    const second = await create(a.url);
    assert.deepEqual([first.frame.t, second.frame.t], ['created', 'created']);
    const third = await create(b.url);
    assert.equal(third.frame.code, 'rate-limited');
    assert.match(third.frame.message, /Too many live sessions/);
    first.client.send({ t: 'end' });
    assert.deepEqual(await first.client.next(), { t: 'ended', by: 'customer' });
    const fourth = await create(b.url);
    assert.equal(fourth.frame.t, 'created', 'an ended session frees its place on every node');
    await Promise.all([first, second, fourth].map(({ client }) => client.close()));
  });
});

describe('two relays on one Redis: Redis goes away and comes back', () => {
  const ctx = clusterSuite();

  it('health fails and new sessions are refused with a clear error; both recover when Redis is back', async () => {
    const { a, b } = ctx;
    assert.deepEqual((await health(a)).body.redis, 'up');
    const port = ctx.redis.port;
    await ctx.redis.kill();

    await until(async () => (await health(a)).status === 503, 'node A reports Redis down', { ms: 5000 });
    const down = await health(a);
    assert.deepEqual({ ok: down.body.ok, redis: down.body.redis }, { ok: false, redis: 'down' });
    const customer = await connect(a.url);
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const refused = await customer.next();
    assert.equal(refused.t, 'error');
    assert.equal(refused.code, 'unavailable');
    assert.match(refused.message, /Redis/);
    assert.equal((await customer.closedWithin()).code, 1013, 'try again later');
    const agent = await connect(b.url);
    agent.send({ t: 'join', v: V, code: '123456789' });
    assert.equal((await agent.next()).code, 'unavailable', 'joins too: never a session only one node knows');

    ctx.redis = await startRedis({ port });
    await until(async () => (await health(a)).status === 200 && (await health(b)).status === 200, 'both nodes see Redis again', {
      ms: 10_000,
    });
    const again = await connect(a.url);
    again.send({ t: 'create', v: V, mode: 'full-control' });
    const created = await again.next();
    assert.equal(created.t, 'created');
    const joiner = await connect(b.url);
    joiner.send({ t: 'join', v: V, code: created.code });
    assert.equal((await joiner.next()).t, 'joined');
    assert.equal((await again.next()).t, 'peer');
    again.send({ t: 'pointer', x: 1, y: 2 });
    assert.deepEqual(await joiner.next(), { t: 'pointer', x: 1, y: 2 });
    await again.close();
    await joiner.close();
  });
});

describe('two relays on one Redis: a node dies with nobody coming back from it', () => {
  const ctx = clusterSuite(['--grace', '2']);

  it('the other node notices: the agent hears the customer go offline, and the grace period ends the session', async () => {
    const { a, b } = ctx;
    const { agent } = await pairAcross(a, b);
    const killedAt = Date.now();
    await a.kill(); // its customer's socket dies with it, and A can no longer tell anyone
    assert.deepEqual(await agent.next(10_000), { t: 'peer', role: 'customer', status: 'offline' });
    const noticed = Date.now() - killedAt;
    assert.ok(noticed < 8_000, `noticed ${noticed} ms after the kill`);
    assert.deepEqual(await agent.next(6_000), { t: 'ended', by: 'expired' }, 'the customer did not resume within the grace period');
    console.log(`B noticed A's death after ${noticed} ms; the session ended ${Date.now() - killedAt} ms after the kill`);
  });
});

describe('two relays on one Redis: Redis restarts empty', () => {
  const ctx = clusterSuite();

  it('nodes write back the sessions they hold: the session goes on, and its tokens still resume it on any node', async () => {
    const { a, b } = ctx;
    const pair = await pairAcross(a, b);
    const { customer, created, agent } = pair;

    const port = ctx.redis.port;
    await ctx.redis.kill();
    ctx.redis = await startRedis({ port }); // nothing persisted: it comes back empty
    await until(async () => (await health(a)).status === 200 && (await health(b)).status === 200, 'both nodes see Redis again', {
      ms: 10_000,
    });
    await until(
      () => a.logs.some((l) => l.event === 'redis-restored') && b.logs.some((l) => l.event === 'redis-restored'),
      'both write back',
      {
        ms: 5_000,
      },
    );

    customer.send({ t: 'pointer', x: 1, y: 2 });
    assert.deepEqual(await agent.next(), { t: 'pointer', x: 1, y: 2 });
    agent.send({ t: 'pointer', x: 3, y: 4 });
    assert.deepEqual(await customer.next(), { t: 'pointer', x: 3, y: 4 });

    // The customer drops from A and resumes on B with its token: the restored record knows it.
    const back = await moveCustomer(pair, b);

    // One agent at a time still holds: the restored record binds Alice's place.
    const intruder = await connect(a.url);
    intruder.send({ t: 'join', v: V, code: created.code, name: 'Bob' });
    await expectRefused(intruder, 'session-taken', 4009);
    await back.close();
    await agent.close();
  });
});
describe('two relays on one Redis: parallel join guesses', () => {
  const ctx = clusterSuite(['--join-failures', '5', '--sockets-per-ip', 'unlimited']);

  it('100 guesses sent at once across both nodes get at most 5 session-not-found answers, the rest rate-limited', async () => {
    const { a, b } = ctx;
    const guesses = await Promise.all(Array.from({ length: 100 }, (_, i) => connect((i % 2 ? a : b).url)));
    // Every socket is open before the first guess leaves: the guesses race each other in both nodes.
    guesses.forEach((g, i) => g.send({ t: 'join', v: V, code: String(100_000_000 + i) }));
    const answers = await Promise.all(guesses.map(async (g) => (await g.next(10_000)).code));
    const counts = {};
    for (const code of answers) counts[code] = (counts[code] ?? 0) + 1;
    assert.deepEqual(counts, { 'session-not-found': 5, 'rate-limited': 95 }); // was 65 and 35 with a check, then a count
    await Promise.all(guesses.map((g) => g.closed));
  });
});

describe('two relays on one Redis: the bus is signed', () => {
  const SECRET = 'cluster-test-secret-0123456789abcdef';
  const ctx = clusterSuite(['--cluster-secret', SECRET, '--metrics']);

  it('a frame PUBLISHed onto a node channel without the secret never reaches its agent; sealed with the secret it would', async () => {
    const { a, b } = ctx;
    const { customer, created, agent } = await pairAcross(a, b);
    const { node } = (await health(b)).body;
    const forged = (text) =>
      Buffer.concat([Buffer.from(`Fap${created.code}`, 'latin1'), Buffer.from(JSON.stringify({ t: 'patch', s: 2, ops: [[3, 5, text]] }))]);
    const redis = new Redis(ctx.redis.url);
    try {
      const channel = `cobrowse:node:${node}`;
      await redis.publish(channel, forged('forged, unsigned'));
      await redis.publish(channel, Buffer.concat([Buffer.alloc(43, 'A'), forged('forged, wrong MAC')]));
      const marker = { t: 'patch', s: 2, ops: [[3, 5, 'marker']] };
      customer.send(marker);
      assert.deepEqual(await agent.next(), marker, 'the forged frames were dropped, the real one passed');
      const metrics = await (await fetch(`${b.http}/metrics`)).text();
      assert.equal(metric(metrics, 'cobrowse_bus_rejected_total{reason="mac"}'), 2);
      assert.ok(b.logs.some((e) => e.event === 'bus-message-dropped' && e.reason === 'mac'));
      // A signed message is still checked like a socket's frame: an invalid one is dropped too.
      const seal = (body) => Buffer.concat([Buffer.from(createHmac('sha256', SECRET).update(body).digest('base64url')), body]);
      await redis.publish(channel, seal(Buffer.from(`Fap${created.code}{"t":"patch","s":"x"}`)));
      // The same frame with the right MAC is delivered: the test above could have failed.
      await redis.publish(channel, seal(forged('sealed')));
      assert.equal((await agent.next()).ops[0][2], 'sealed');
      const later = await (await fetch(`${b.http}/metrics`)).text();
      assert.equal(metric(later, 'cobrowse_bus_rejected_total{reason="invalid"}'), 1);
    } finally {
      redis.disconnect();
      await Promise.all([agent.close(), customer.close()]);
    }
  });
});
