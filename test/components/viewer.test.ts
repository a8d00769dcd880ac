import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import '../../components/viewer/cobrowse-viewer.js';
import type { CobrowseViewer } from '../../components/viewer/cobrowse-viewer.js';
import { CustomerSession } from '../../core/customer-session.js';
import { createStore } from 'idb-keyval';
import { RELAY_URL } from '../helpers/relay.js';
import { sourceFrame } from '../helpers/dom.js';
import { THIS_BROWSER } from '../helpers/browser.js';

const mirrorDoc = (el: CobrowseViewer) => el.shadowRoot!.querySelector<HTMLIFrameElement>('[part=mirror]')!.contentDocument!;

/** A real customer session recording a page in an iframe, with its own IndexedDB store. */
async function customer(html: string, mode: 'full-control' | 'no-control' = 'full-control') {
  const { doc } = await sourceFrame(html);
  const session = new CustomerSession({ relay: RELAY_URL, mode, doc, store: createStore(`viewer-test-${Math.random()}`, 's') });
  const created = new Promise<string>((resolve) => session.events.on('created', ({ code }) => resolve(code)));
  await session.start();
  return { doc, session, code: await created };
}

describe('<cobrowse-viewer>', () => {
  it('is accessible before joining', async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL}></cobrowse-viewer>`);
    await expect(el).to.be.accessible();
    expect(el.shadowRoot!.querySelector('label')!.textContent).to.equal('Session ID');
  });

  it('keeps its mirror iframe sandboxed without scripts', async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL}></cobrowse-viewer>`);
    expect(el.shadowRoot!.querySelector('iframe')!.getAttribute('sandbox')).to.equal('allow-same-origin');
  });

  it('explains a malformed and an unknown session ID', async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL}></cobrowse-viewer>`);
    const input = el.shadowRoot!.querySelector('input')!;
    input.value = '12345';
    el.shadowRoot!.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).to.equal('A session ID is 9 digits.');

    el.join('000 000-000');
    await waitUntil(() => el.state === 'error', 'the relay refuses the ID');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).to.contain('No session with this ID');
    await expect(el).to.be.accessible();
  });

  it('joins by the code attribute, mirrors the page live, and closes from the toolbar', async () => {
    const { doc, session, code } = await customer('<!doctype html><body><h1 id="title">Loan</h1><ul id="list"><li>a</li></ul></body>');
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL} code=${code}></cobrowse-viewer>`);
    const joined = await oneEvent(el, 'cobrowse-joined');
    expect(joined.detail).to.deep.equal({ code, mode: 'full-control' });
    await waitUntil(() => el.state === 'live', 'the snapshot arrives');
    expect(mirrorDoc(el).getElementById('title')!.textContent).to.equal('Loan');

    const item = doc.createElement('li');
    item.textContent = 'added live';
    doc.getElementById('list')!.append(item);
    await waitUntil(() => mirrorDoc(el).getElementById('list')!.children.length === 2, 'the patch arrives');
    expect(mirrorDoc(el).getElementById('list')!.lastElementChild!.textContent).to.equal('added live');

    const toolbar = el.shadowRoot!.querySelector('cobrowse-toolbar')!;
    await toolbar.updateComplete;
    expect(toolbar.shadowRoot!.querySelector('[part=mode]')!.textContent).to.equal('Full control');
    // The customer's platform reaches the toolbar: browser, system, viewport.
    await waitUntil(() => toolbar.platform, 'platform details arrive');
    expect(toolbar.platform).to.match(new RegExp(`^${THIS_BROWSER} \\d+ on .+ · .+ · 800×600 @`));
    expect(toolbar.shadowRoot!.querySelector('[part=label]')!.getAttribute('title')).to.equal(toolbar.platform);
    await expect(el).to.be.accessible();

    const customerEnded = new Promise((resolve) => session.events.on('ended', resolve));
    const ended = oneEvent(el, 'cobrowse-ended');
    toolbar.shadowRoot!.querySelector<HTMLButtonElement>('[part=close]')!.click();
    expect((await ended).detail.by).to.equal('agent');
    expect(await customerEnded).to.deep.equal({ by: 'agent' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=message]')!.textContent).to.equal('You closed the session.');
  });

  it('scales the customer viewport to fit, aspect kept', async () => {
    const { session, code } = await customer('<!doctype html><body><p>fit</p></body>');
    const el = await fixture<CobrowseViewer>(
      html`<cobrowse-viewer style="width:400px;height:500px" relay=${RELAY_URL} code=${code}></cobrowse-viewer>`,
    );
    await waitUntil(() => el.state === 'live');
    await el.updateComplete;
    const iframe = el.shadowRoot!.querySelector<HTMLIFrameElement>('[part=mirror]')!;
    const box = iframe.getBoundingClientRect();
    const stage = el.shadowRoot!.querySelector('[part=stage]')!.getBoundingClientRect();
    // The source iframe is 800×600: fitting it into the stage keeps 4:3 and touches one side.
    expect(box.width / box.height).to.be.closeTo(800 / 600, 0.01);
    expect(Math.max(box.width / stage.width, box.height / stage.height)).to.be.closeTo(1, 0.01);

    // The toolbar's 100% turns auto-fit off: the page shows at its own size, and the stage scrolls.
    const toolbar = el.shadowRoot!.querySelector('cobrowse-toolbar')!;
    const hundred = Array.from(toolbar.shadowRoot!.querySelectorAll('[part=zoom] button')).find(
      (b) => b.textContent === '100%',
    ) as HTMLButtonElement;
    hundred.click();
    await waitUntil(() => Math.abs(iframe.getBoundingClientRect().width - 800) < 0.5, 'shown at 100%');
    const stageEl = el.shadowRoot!.querySelector('[part=stage]') as HTMLElement;
    expect(stageEl.scrollWidth > stageEl.clientWidth || stageEl.scrollHeight > stageEl.clientHeight, 'scrollable').to.equal(true);
    session.end();
  });

  it('tells the agent when the customer ends the session', async () => {
    const { session, code } = await customer('<!doctype html><body><p>bye</p></body>');
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL} code=${code}></cobrowse-viewer>`);
    await waitUntil(() => el.state === 'live');
    const ended = oneEvent(el, 'cobrowse-ended');
    session.end();
    expect((await ended).detail.by).to.equal('customer');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=message]')!.textContent).to.equal('The customer ended the session.');
  });
});

describe('<cobrowse-viewer> API', () => {
  it('fires cobrowse-session-joined, the deprecated cobrowse-joined too, and state changes with the state before', async () => {
    const { session, code } = await customer('<!doctype html><body><p>names</p></body>');
    const el = document.createElement('cobrowse-viewer');
    el.relay = RELAY_URL;
    const changes: Array<{ state: string; previous: string }> = [];
    el.addEventListener('cobrowse-state-change', (e) => changes.push(e.detail));
    const joined = oneEvent(el, 'cobrowse-session-joined');
    const oldJoined = oneEvent(el, 'cobrowse-joined');
    el.code = code;
    await fixture(html`<div></div>`).then((div) => div.append(el));
    expect((await joined).detail).to.deep.equal({ code, mode: 'full-control' });
    expect((await oldJoined).detail).to.deep.equal({ code, mode: 'full-control' });
    await waitUntil(() => el.state === 'live');
    expect(changes[0]).to.deep.equal({ state: 'joining', previous: 'idle' });
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.previous).to.equal(changes[i - 1]!.state);
    session.end();
  });

  it('keeps marks highlight-ms ms; highlight-seconds still works (deprecated)', async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL} highlight-ms="1500"></cobrowse-viewer>`);
    expect([el.highlightMs, el.highlightSeconds]).to.deep.equal([1500, 1.5]);
    el.setAttribute('highlight-seconds', '2');
    expect(el.highlightMs).to.equal(2000);
    el.highlightSeconds = 3;
    expect(el.highlightMs).to.equal(3000);
  });

  it("reads auto-fit as the toolbar does, and turns Highlight off with '' (or null, deprecated)", async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL} auto-fit="false"></cobrowse-viewer>`);
    expect(el.autoFit).to.equal(false);
    el.removeAttribute('auto-fit');
    expect(el.autoFit).to.equal(true);
    el.highlight('pen');
    await el.updateComplete;
    expect(el.toolbarState.highlightTool).to.equal('pen');
    el.highlight('');
    expect(el.toolbarState.highlightTool).to.equal('');
    el.highlight('spot');
    el.highlight(null);
    expect(el.toolbarState.highlightTool).to.equal('');
  });

  it('speaks its lang, and so does its built-in toolbar; strings win', async () => {
    const el = await fixture<CobrowseViewer>(html`<cobrowse-viewer relay=${RELAY_URL} lang="fr"></cobrowse-viewer>`);
    const toolbar = el.shadowRoot!.querySelector('cobrowse-toolbar')!;
    await toolbar.updateComplete;
    expect(el.shadowRoot!.querySelector('label')!.textContent).to.equal('Numéro de session');
    expect(el.shadowRoot!.querySelector('button[type=submit]')!.textContent).to.equal('Démarrer');
    expect(toolbar.shadowRoot!.querySelector('[part=close]')!.textContent).to.equal('Fermer la session');
    el.strings = { join: 'Rejoindre', close: 'Quitter' };
    await el.updateComplete;
    await toolbar.updateComplete;
    expect(el.shadowRoot!.querySelector('button[type=submit]')!.textContent).to.equal('Rejoindre');
    expect(toolbar.shadowRoot!.querySelector('[part=close]')!.textContent).to.equal('Quitter');
    el.join('12345');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[role=alert]')!.textContent).to.equal('Un numéro de session a 9 chiffres.');
    await expect(el).to.be.accessible();
  });
});
