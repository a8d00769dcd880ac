import { expect, waitUntil } from '@open-wc/testing';
import { SUBPROTOCOL, Transport } from '../../core/transport.js';

describe('transport', () => {
  it('asks for its subprotocols at every connection, so a renewed agent token is used on reconnect', async () => {
    let asked = 0;
    // Nothing listens on port 9: every attempt fails and is retried.
    const transport = new Transport('ws://127.0.0.1:9/relay', {
      minDelayMs: 20,
      maxDelayMs: 40,
      protocols: () => (asked++, [SUBPROTOCOL, `cobrowse.bearer.t${asked}`]),
    });
    const closes: boolean[] = [];
    transport.events.on('close', ({ retrying }) => closes.push(retrying));
    transport.connect();
    await waitUntil(() => asked >= 3, 'three attempts', { timeout: 5000 });
    transport.close();
    expect(closes.every(Boolean), 'a refused connection is retried').to.equal(true);
  });

  // Measured from each refusal to the next attempt, so a browser's own delay before it reports a refused
  // socket (Firefox's) does not count. The random share of the back-off is pinned to its ceiling: the gaps are
  // then 20, 40 ms here, where the default would be 500, 1000 ms.
  for (const [names, options] of [
    ['minDelayMs / maxDelayMs', { minDelayMs: 20, maxDelayMs: 40 }],
    ['the deprecated minDelay / maxDelay', { minDelay: 20, maxDelay: 40 }],
  ] as const) {
    it(`waits between attempts as ${names} say`, async () => {
      const attempts: number[] = [];
      const refusals: number[] = [];
      const random = Math.random;
      Math.random = () => 0.999;
      const transport = new Transport('ws://127.0.0.1:9/relay', {
        ...options,
        protocols: () => (attempts.push(performance.now()), [SUBPROTOCOL]),
      });
      transport.events.on('close', () => refusals.push(performance.now()));
      try {
        transport.connect();
        await waitUntil(() => attempts.length >= 3, 'three attempts', { timeout: 5000 });
      } finally {
        transport.close();
        Math.random = random;
      }
      const gaps = attempts.slice(1).map((at, i) => at - refusals[i]);
      expect(Math.max(...gaps), `gaps ${gaps.map(Math.round).join(', ')} ms`).to.be.below(400);
    });
  }

  it('refuses a relay URL that is not ws: or wss:', () => {
    expect(() => new Transport('https://relay.example/')).to.throw(/ws: or wss:/);
  });
});
