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

  // At the default 500 ms doubling, six attempts take 15.5 s; with delays of at most 40 ms, well under 3 s.
  for (const [names, options] of [
    ['minDelayMs / maxDelayMs', { minDelayMs: 20, maxDelayMs: 40 }],
    ['the deprecated minDelay / maxDelay', { minDelay: 20, maxDelay: 40 }],
  ] as const) {
    it(`retries as often as ${names} say`, async () => {
      let attempts = 0;
      const transport = new Transport('ws://127.0.0.1:9/relay', { ...options, protocols: () => (attempts++, [SUBPROTOCOL]) });
      transport.connect();
      await waitUntil(() => attempts >= 6, 'six attempts', { timeout: 3000 });
      transport.close();
    });
  }

  it('refuses a relay URL that is not ws: or wss:', () => {
    expect(() => new Transport('https://relay.example/')).to.throw(/ws: or wss:/);
  });
});
