// Snapshot requests: an agent (or a forged agent client) asking for full snapshots in a loop
// reaches the customer's page at most once per SNAPSHOT_REQUEST_MS; the rest are refused, not fatally.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../dist/relay/index.js';
import { SNAPSHOT_REQUEST_MS } from '../../dist/core/protocol/index.js';
import { V, connect, pair, relaySuite } from './helpers.js';

/** Sends a ping as a marker and returns the frames `to` received before it. */
async function framesBefore(from, to, n) {
  from.send({ t: 'ping', n });
  const frames = [];
  for (;;) {
    const frame = await to.next();
    if (frame.t === 'ping' && frame.n === n) return frames;
    frames.push(frame);
  }
}

describe('snapshot requests', () => {
  // Time moves only when the test says (heartbeats out of the way).
  const clock = new ManualClock();
  const ctx = relaySuite({ clock, heartbeatMs: 24 * 3600_000 });

  it('a forged agent sending 20 snapshot requests in a burst gets 1 forwarded per 5 s and a throttled refusal for the rest', async () => {
    assert.equal(SNAPSHOT_REQUEST_MS, 5000);
    const { customer, agent } = await pair(ctx.url);
    for (let i = 0; i < 20; i++) agent.send({ t: 'request-snapshot' });
    const toCustomer = await framesBefore(agent, customer, 1);
    assert.deepEqual(toCustomer, [{ t: 'request-snapshot' }], 'one request reached the page (the marker pings follow it)');
    const answers = [];
    for (let i = 0; i < 19; i++) answers.push(await agent.next());
    for (const answer of answers) {
      assert.deepEqual(
        { t: answer.t, code: answer.code, retryAfter: answer.retryAfter },
        { t: 'error', code: 'throttled', retryAfter: 5000 },
      );
      assert.match(answer.message, /One snapshot per 5 s: ask again in 5\.0 s/);
    }
    assert.equal(agent.ws.readyState, 1, 'a refusal is not fatal: the agent stays');

    clock.advance(4999);
    agent.send({ t: 'request-snapshot' });
    const early = await agent.next();
    assert.deepEqual([early.code, early.retryAfter], ['throttled', 1], 'not a moment early');
    assert.deepEqual(await framesBefore(agent, customer, 2), []);

    clock.advance(1); // refused requests did not extend the window
    for (let i = 0; i < 20; i++) agent.send({ t: 'request-snapshot' });
    assert.deepEqual(await framesBefore(agent, customer, 3), [{ t: 'request-snapshot' }]);
    for (let i = 0; i < 19; i++) assert.equal((await agent.next()).code, 'throttled');

    // Over 30 s of requests every 100 ms: one per 5 s gets through.
    let forwarded = 0;
    for (let t = 100; t <= 30_000; t += 100) {
      clock.advance(100);
      agent.send({ t: 'request-snapshot' });
      forwarded += (await framesBefore(agent, customer, 10 + t)).length;
    }
    assert.equal(forwarded, 6, 'at 5, 10, 15, 20, 25 and 30 s');
    for (let i = 0; i < 300 - forwarded; i++) assert.equal((await agent.next()).code, 'throttled');
    await Promise.all([customer.close(), agent.close()]);
  });

  it('the window is the session’s: a reconnecting agent does not open it again; another session is unaffected', async () => {
    clock.advance(SNAPSHOT_REQUEST_MS);
    const one = await pair(ctx.url);
    const two = await pair(ctx.url, 'Bob');
    one.agent.send({ t: 'request-snapshot' });
    assert.deepEqual(await framesBefore(one.agent, one.customer, 1), [{ t: 'request-snapshot' }]);
    two.agent.send({ t: 'request-snapshot' });
    assert.deepEqual(await framesBefore(two.agent, two.customer, 1), [{ t: 'request-snapshot' }], 'another session has its own window');

    // The agent leaves and joins again on a new socket: the session's window still runs.
    one.agent.send({ t: 'leave' });
    await one.agent.closed;
    assert.equal((await one.customer.next()).status, 'offline');
    const again = await connect(ctx.url);
    again.send({ t: 'join', v: V, code: one.created.code, name: 'Alice' });
    assert.equal((await again.next()).t, 'joined');
    assert.equal((await one.customer.next()).status, 'online');
    again.send({ t: 'request-snapshot' });
    assert.equal((await again.next()).code, 'throttled');
    assert.deepEqual(await framesBefore(again, one.customer, 2), []);
    await Promise.all([one.customer.close(), again.close(), two.customer.close(), two.agent.close()]);
  });
});
