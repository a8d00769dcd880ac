// A session on a real relay, opened by hand so a test can mirror frames through the relay's asset
// proxy without a launcher: a customer socket from `customerOrigin` (browsers send Origin; the proxy
// fetches from the customer's origin), an agent that joins, and the proxy grant its `joined` carries.
import WebSocket from 'ws';
import { until } from './wait.js';

/** Resolves with the first frame `socket` receives that passes `test`. */
function frameOf(socket, test, what) {
  const frames = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  return until(
    () => frames.find(test),
    () => `${what}; got ${frames.map((f) => f.t).join(', ') || 'nothing'}`,
  );
}

const opened = (socket) => new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

/**
 * `relayUrl`: the relay's WebSocket URL (ws://host:port/relay). Resolves with `{ proxy, grant, close }`:
 * the proxy's absolute URL and this agent's grant, as the mirror's `assets` option takes them.
 */
export async function assetGrant(relayUrl, customerOrigin, headers = {}) {
  const customer = new WebSocket(relayUrl, ['cobrowse.v1'], { origin: customerOrigin });
  await opened(customer);
  const created = frameOf(customer, (f) => f.t === 'created', 'created');
  customer.send(JSON.stringify({ t: 'create', v: 1, mode: 'no-control' }));
  const { code } = await created;
  const agent = new WebSocket(relayUrl, ['cobrowse.v1'], { headers });
  await opened(agent);
  const joined = frameOf(agent, (f) => f.t === 'joined', 'joined');
  agent.send(JSON.stringify({ t: 'join', v: 1, code }));
  const { assets } = await joined;
  if (!assets) throw new Error('The relay offered no asset proxy in joined');
  const proxy = new URL(assets.path, relayUrl.replace(/^ws/, 'http')).href;
  return {
    proxy,
    grant: assets.grant,
    code,
    close() {
      customer.close();
      agent.close();
    },
  };
}
