/**
 * Our product end to end: the customer's page runs a CustomerSession (what <cobrowse-launcher>
 * runs), the agent's page a <cobrowse-viewer>, both through our relay.
 */
import { CustomerSession } from '../../../core/customer-session.js';
import { Mode } from '../../../core/protocol/index.js';
import '../../../components/viewer/cobrowse-viewer.js';
import { install, until } from './common.js';

install({
  async share(relay) {
    const session = new CustomerSession({ relay, mode: Mode.None, doc: document });
    const created = new Promise<string>((resolve) => session.events.on('created', ({ code }) => resolve(code)));
    await session.start();
    return created;
  },
  async join(relay, code) {
    const viewer = document.createElement('cobrowse-viewer');
    viewer.style.cssText = 'display:block;width:1280px;height:800px';
    viewer.relay = relay;
    document.body.append(viewer);
    viewer.code = code;
    return until(
      () => {
        const doc = viewer.shadowRoot?.querySelector('iframe')?.contentDocument;
        return viewer.state === 'live' && doc?.getElementById('bench-ready') ? doc : null;
      },
      60_000,
      'the mirror',
    );
  },
});
