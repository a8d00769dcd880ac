import { expect, waitUntil } from '@open-wc/testing';
import { SUBPROTOCOL, Transport } from '../../core/transport.js';

describe('transport', () => {
  it('asks for its subprotocols at every connection, so a renewed agent token is used on reconnect', async () => {
    let asked = 0;
    // Nothing listens on port 9: every attempt fails and is retried.
    const transport = new Transport('ws://127.0.0.1:9/relay', {
      minDelay: 20,
      maxDelay: 40,
      protocols: () => (asked++, [SUBPROTOCOL, `cobrowse.bearer.t${asked}`]),
    });
    const closes: boolean[] = [];
    transport.events.on('close', ({ retrying }) => closes.push(retrying));
    transport.connect();
    await waitUntil(() => asked >= 3, 'three attempts', { timeout: 5000 });
    transport.close();
    expect(closes.every(Boolean), 'a refused connection is retried').to.equal(true);
  });

  it('refuses a relay URL that is not ws: or wss:', () => {
    expect(() => new Transport('https://relay.example/')).to.throw(/ws: or wss:/);
  });
});
