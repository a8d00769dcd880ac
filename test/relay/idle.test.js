// Idle sessions end: no page content and no command for `idleMs` ends a session as 'expired'.
// Heartbeats, pongs and acks do not count as activity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, RELAY_DEFAULTS } from '../../dist/relay/index.js';
import { PATCH, pair, relaySuite } from './helpers.js';

describe('idle sessions', () => {
  // Time moves only when the test says so; heartbeats (which do not count as activity) are kept out of the way.
  const clock = new ManualClock();
  const ctx = relaySuite({ clock, heartbeatMs: 24 * 3600_000 });
  const { idleMs } = RELAY_DEFAULTS;
  const step = idleMs / 8;

  it('a session through which nothing passes ends as expired; one in use lives on', async () => {
    const idle = await pair(ctx.url);
    const busy = await pair(ctx.url);
    /** The next frame of `client` that is not a forwarded ping or ack. */
    const nextOther = async (client) => {
      for (;;) {
        const frame = await client.next();
        if (frame.t !== 'ping' && frame.t !== 'ack') return frame;
      }
    };
    // The busy customer keeps sending page content; the idle pair only sends pings and acks.
    let s = 2;
    for (let elapsed = 0; elapsed < idleMs; elapsed += step) {
      busy.customer.send({ ...PATCH, s });
      idle.agent.send({ t: 'ping', n: s });
      idle.agent.send({ t: 'ack', s: 0 });
      // Once the frames have passed the relay (the last one reached its peer), time moves on.
      assert.equal((await busy.agent.next()).s, s++);
      while ((await idle.customer.next()).t !== 'ack');
      clock.advance(step);
    }
    for (const client of [idle.customer, idle.agent]) {
      assert.deepEqual(await nextOther(client), { t: 'ended', by: 'expired' });
      assert.equal((await client.closedWithin()).code, 1000);
    }
    busy.customer.send({ ...PATCH, s });
    assert.equal((await busy.agent.next()).s, s, 'the busy session lives on');
    assert.ok(
      ctx.logs.some((e) => e.event === 'session-expired' && e.why === 'idle'),
      'logged with its reason',
    );
    await Promise.all([busy.customer.close(), busy.agent.close()]);
  });
});
