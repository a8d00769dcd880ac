/**
 * rrweb 2.2.1 end to end: `record()` on the customer's page, a `Replayer` in live mode on the
 * agent's page, every event as one JSON text message through a bare `ws` forwarder.
 */
import { record, Replayer } from 'rrweb';
import { install, until } from './common.js';

const open = (url: string): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });

install({
  async share(url) {
    const ws = await open(url);
    record({ emit: (event) => ws.send(JSON.stringify(event)) });
    return '';
  },
  async join(url) {
    const root = document.createElement('div');
    document.body.append(root);
    const replayer = new Replayer([], { liveMode: true, root });
    // Both pages share one clock and the customer starts recording after this: every event is
    // cast in the first animation frame after it arrives (no buffer, rrweb's fastest live setting).
    replayer.startLive(Date.now());
    const ws = await open(url);
    ws.onmessage = (e) => replayer.addEvent(JSON.parse(e.data as string));
    (window as unknown as { __joined: boolean }).__joined = true;
    return until(
      () => {
        const doc = replayer.iframe.contentDocument;
        return doc?.getElementById('bench-ready') ? doc : null;
      },
      60_000,
      'the mirror',
    );
  },
});
