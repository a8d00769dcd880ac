// Idle sessions end: no page content and no command for `idleMs` ends a session as 'expired'.
// Heartbeats, pongs and acks do not count as activity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PATCH, pair, relaySuite, sleep } from './helpers.js';

describe('idle sessions', () => {
  const ctx = relaySuite({ idleMs: 600 });

  it('a session through which nothing passes ends as expired; one in use lives on', async () => {
    const idle = await pair(ctx.url);
    const busy = await pair(ctx.url);
    // The busy customer keeps sending page content; the idle pair only heartbeats.
    const started = Date.now();
    let s = 2;
    while (Date.now() - started < 1200) {
      busy.customer.send({ ...PATCH, s: s++ });
      idle.agent.send({ t: 'ping', n: s });
      idle.agent.send({ t: 'ack', s: 0 });
      await sleep(100);
    }
    for (const client of [idle.customer, idle.agent]) {
      let frame = await client.next();
      while (frame.t !== 'ended') frame = await client.next(); // (forwarded pings and acks before it)
      assert.deepEqual(frame, { t: 'ended', by: 'expired' });
      assert.equal((await client.closedWithin()).code, 1000);
    }
    assert.equal(busy.customer.ws.readyState, 1, 'the busy session lives on');
    assert.ok(
      ctx.logs.some((e) => e.event === 'session-expired' && e.why === 'idle'),
      'logged with its reason',
    );
    await Promise.all([busy.customer.close(), busy.agent.close()]);
  });
});
