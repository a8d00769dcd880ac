// A session on a real relay, opened by hand so a test can mirror frames through the relay's asset
// proxy without a launcher: a customer socket from `customerOrigin` (browsers send Origin; the proxy
// fetches from the customer's origin), an agent that joins, and the proxy grant its `joined` carries.
import { connect } from '../relay/helpers.js';

/**
 * `relayUrl`: the relay's WebSocket URL (ws://host:port/relay). Resolves with `{ proxy, grant, close }`:
 * the proxy's absolute URL and this agent's grant, as the mirror's `assets` option takes them.
 */
export async function assetGrant(relayUrl, customerOrigin) {
  const customer = await connect(relayUrl, { origin: customerOrigin });
  customer.send({ t: 'create', v: 1, mode: 'no-control' });
  const { code } = await customer.next();
  const agent = await connect(relayUrl);
  agent.send({ t: 'join', v: 1, code });
  const { assets } = await agent.next();
  if (!assets) throw new Error('The relay offered no asset proxy in joined');
  return {
    proxy: new URL(assets.path, relayUrl.replace(/^ws/, 'http')).href,
    grant: assets.grant,
    code,
    close() {
      customer.close();
      agent.close();
    },
  };
}
