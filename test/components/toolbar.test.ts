import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { createStore } from 'idb-keyval';
import '../../components/toolbar/cobrowse-toolbar.js';
import '../../components/viewer/cobrowse-viewer.js';
import type { CobrowseToolbar } from '../../components/toolbar/cobrowse-toolbar.js';
import type { ViewerChangeDetail } from '../../components/events.js';
import { parseAutoFit } from '../../components/internal/attributes.js';
import { registerViewerStrings } from '../../components/viewer/strings.js';
import { CustomerSession } from '../../core/customer-session.js';
import { RELAY_URL } from '../helpers/relay.js';
import { sourceFrame } from '../helpers/dom.js';

/** A real customer session recording a page in an iframe, through the test relay. */
async function liveCustomer(page: string) {
  const { doc } = await sourceFrame(page);
  const session = new CustomerSession({
    relay: RELAY_URL,
    mode: 'full-control',
    doc,
    store: createStore(`toolbar-test-${Math.random()}`, 's'),
  });
  const created = new Promise<string>((resolve) => session.events.on('created', ({ code }) => resolve(code)));
  await session.start();
  return { session, code: await created };
}

describe('<cobrowse-toolbar>', () => {
  it('is accessible', async () => {
    const el = await fixture<CobrowseToolbar>(
      html`<cobrowse-toolbar mode="full-control" state="live" code="123456789"></cobrowse-toolbar>`,
    );
    await expect(el).to.be.accessible();
  });

  it('shows the mode, the status and the session ID', async () => {
    for (const [mode, label] of [
      ['full-control', 'Full control'],
      ['partial-control', 'Partial control'],
      ['no-control', 'No control'],
    ]) {
      const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar mode=${mode} state="live" code="123456789"></cobrowse-toolbar>`);
      expect(el.shadowRoot!.querySelector('[part=mode]')!.textContent).to.equal(label);
      expect(el.shadowRoot!.querySelector('[part=status]')!.textContent).to.equal('Live');
      expect(el.shadowRoot!.querySelector('[part=label]')!.textContent).to.contain('123 456 789');
    }
  });

  it('fires cobrowse-close from Close session, only while a session is open', async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar state="idle"></cobrowse-toolbar>`);
    const button = el.shadowRoot!.querySelector<HTMLButtonElement>('[part=close]')!;
    expect(button.disabled).to.equal(true);
    el.state = 'live';
    await el.updateComplete;
    expect(button.disabled).to.equal(false);
    const closed = oneEvent(el, 'cobrowse-close');
    button.click();
    const event = await closed;
    expect(event.bubbles && event.composed).to.equal(true);
  });
});

describe('<cobrowse-toolbar> zoom', () => {
  it('asks for zoom in, out, 100% and auto-fit, within 25–400%', async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar state="live" .zoom=${0.5}></cobrowse-toolbar>`);
    const asked: Array<{ zoom?: number; autoFit: boolean }> = [];
    el.addEventListener('cobrowse-zoom', (e) => asked.push(e.detail));
    const button = (label: string) =>
      Array.from(el.shadowRoot!.querySelectorAll('[part=zoom] button')).find(
        (b) => (b.getAttribute('aria-label') ?? b.textContent) === label,
      ) as HTMLButtonElement;
    expect(el.shadowRoot!.querySelector('[part=zoom] output')!.textContent).to.equal('50%');
    button('Zoom in').click();
    button('Zoom out').click();
    button('100%').click();
    button('Auto-fit').click();
    expect(asked).to.deep.equal([
      { zoom: 0.63, autoFit: false },
      { zoom: 0.4, autoFit: false },
      { zoom: 1, autoFit: false },
      { autoFit: false },
    ]);
    expect(button('Auto-fit').getAttribute('aria-pressed')).to.equal('true');
    await expect(el).to.be.accessible();
  });
});

describe('<cobrowse-toolbar> connection status', () => {
  it('shows good, slow and offline with the round trip', async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar state="live" link="good" .rtt=${42}></cobrowse-toolbar>`);
    const link = () => el.shadowRoot!.querySelector('[part=link]')!;
    expect(link().textContent!.replace(/\s+/g, ' ').trim()).to.equal('Good · 42 ms');
    el.link = 'slow';
    el.rtt = 640;
    await el.updateComplete;
    expect(link().getAttribute('data-link')).to.equal('slow');
    expect(link().getAttribute('aria-label')).to.equal("Customer's connection: Slow, 640 ms");
    el.link = 'offline';
    el.rtt = null;
    await el.updateComplete;
    expect(link().textContent!.trim()).to.equal('Offline');
    await expect(el).to.be.accessible();
  });
});

/** A stand-in for `<cobrowse-viewer>`: the state a toolbar reads, and the calls it makes. */
class FakeViewer extends HTMLElement {
  calls: unknown[][] = [];
  zoom = 1;
  autoFit = true;
  toolbarState: ViewerChangeDetail = {
    mode: 'full-control',
    state: 'live',
    code: '123456789',
    platform: 'Chrome 140 on Linux',
    link: 'good',
    rtt: 12,
    zoom: 0.5,
    autoFit: true,
    highlightTool: '',
    url: 'https://shop.example/cart',
    canNavigate: true,
  };
  /** Changes the state and tells toolbars, as the viewer does after each render. */
  change(patch: Partial<ViewerChangeDetail>): void {
    this.toolbarState = { ...this.toolbarState, ...patch };
    this.dispatchEvent(new CustomEvent('cobrowse-viewer-change', { detail: this.toolbarState, bubbles: true, composed: true }));
  }
  highlight(tool: unknown) {
    this.calls.push(['highlight', tool]);
  }
  clearHighlights() {
    this.calls.push(['clearHighlights']);
  }
  async navigate(detail: unknown) {
    this.calls.push(['navigate', detail]);
  }
  end() {
    this.calls.push(['end']);
  }
}
customElements.define('fake-viewer', FakeViewer);

const part = (el: CobrowseToolbar, name: string) => el.shadowRoot!.querySelector(`[part=${name}]`);
const buttonLabelled = (el: CobrowseToolbar, label: string) =>
  Array.from(el.shadowRoot!.querySelectorAll('button')).find(
    (b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === label,
  ) as HTMLButtonElement;

describe('<cobrowse-toolbar> standalone, following a viewer', () => {
  it('is accessible', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    await expect(el).to.be.accessible();
  });

  it('shows the viewer it is given: mode, status, link, platform, zoom, address', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    expect(el.control === viewer).to.equal(true);
    expect(part(el, 'mode')!.textContent).to.equal('Full control');
    expect(part(el, 'status')!.textContent).to.equal('Live');
    expect(part(el, 'label')!.textContent).to.contain('123 456 789');
    expect(part(el, 'platform')!.textContent).to.equal('Chrome 140 on Linux');
    expect(part(el, 'link')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal('Good · 12 ms');
    expect(el.shadowRoot!.querySelector('[part=zoom] output')!.textContent).to.equal('50%');
    expect(el.shadowRoot!.querySelector<HTMLInputElement>('[part=navigation] input')!.value).to.equal('https://shop.example/cart');

    viewer.change({ link: 'slow', rtt: 480, state: 'customer-away', mode: 'no-control', highlightTool: 'pen' });
    await el.updateComplete;
    expect(part(el, 'link')!.getAttribute('data-link')).to.equal('slow');
    expect(part(el, 'status')!.textContent).to.equal('Customer offline');
    expect(part(el, 'mode')!.textContent).to.equal('No control');
    expect(buttonLabelled(el, 'Pen').getAttribute('aria-pressed')).to.equal('true');
  });

  it('finds its viewer by the for attribute, in its own document or shadow root', async () => {
    const host = await fixture<HTMLDivElement>(
      html`<div><fake-viewer id="console-viewer"></fake-viewer><cobrowse-toolbar for="console-viewer"></cobrowse-toolbar></div>`,
    );
    const el = host.querySelector('cobrowse-toolbar')!;
    await el.updateComplete;
    expect(el.control === host.querySelector('fake-viewer')).to.equal(true);
    expect(part(el, 'status')!.textContent).to.equal('Live');

    el.htmlFor = 'nothing-here';
    await el.updateComplete;
    expect(el.control === null).to.equal(true);
  });

  it('makes the viewer act on every control, unless the page cancels the event', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    buttonLabelled(el, 'Zoom in').click();
    expect([viewer.zoom, viewer.autoFit]).to.deep.equal([0.63, false]);
    viewer.change({ zoom: 0.63, autoFit: false });
    await el.updateComplete;
    buttonLabelled(el, 'Auto-fit').click();
    expect(viewer.autoFit).to.equal(true);
    buttonLabelled(el, 'Highlight').click();
    viewer.change({ highlightTool: 'rect' });
    await el.updateComplete;
    buttonLabelled(el, 'Clear').click();
    buttonLabelled(el, 'Back').click();
    const address = el.shadowRoot!.querySelector<HTMLInputElement>('[part=navigation] input')!;
    address.value = 'https://shop.example/help';
    address.form!.requestSubmit();
    buttonLabelled(el, 'Close session').click();
    expect(viewer.calls).to.deep.equal([
      ['highlight', 'rect'],
      ['clearHighlights'],
      ['navigate', { action: 'back' }],
      ['navigate', { action: 'go', url: 'https://shop.example/help' }],
      ['end'],
    ]);

    el.addEventListener('cobrowse-close', (e) => e.preventDefault(), { once: true });
    buttonLabelled(el, 'Close session').click();
    expect(viewer.calls.length).to.equal(5);
  });

  it('stops following when it leaves the page, and follows again when it comes back', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    const parent = el.parentElement!;
    el.remove();
    viewer.change({ link: 'offline', rtt: null });
    expect(el.link).to.equal('good');
    parent.append(el);
    await el.updateComplete;
    expect(part(el, 'link')!.textContent!.trim()).to.equal('Offline');
  });

  it('follows a real <cobrowse-viewer> through a session and closes it', async () => {
    const { session, code } = await liveCustomer('<!doctype html><body><h1>Standalone</h1></body>');
    const host = await fixture<HTMLDivElement>(html`<div>
      <cobrowse-toolbar for="agent-view"></cobrowse-toolbar>
      <cobrowse-viewer id="agent-view" no-toolbar relay=${RELAY_URL} code=${code}></cobrowse-viewer></div>`);
    const viewer = host.querySelector('cobrowse-viewer')!;
    const el = host.querySelector('cobrowse-toolbar')!;
    expect(viewer.shadowRoot!.querySelector('cobrowse-toolbar')).to.equal(null);
    await waitUntil(() => viewer.state === 'live', 'the snapshot arrives');
    await waitUntil(() => part(el, 'status')?.textContent === 'Live', 'the toolbar shows the viewer state');
    expect(part(el, 'label')!.textContent).to.contain(code.slice(0, 3));
    expect(part(el, 'mode')!.textContent).to.equal('Full control');
    await waitUntil(() => el.platform, 'platform details arrive');

    buttonLabelled(el, '100%').click();
    await waitUntil(() => viewer.autoFit === false && el.zoom === 1, 'zoom reaches the viewer and back');
    const customerEnded = new Promise((resolve) => session.events.on('ended', resolve));
    buttonLabelled(el, 'Close session').click();
    expect(await customerEnded).to.deep.equal({ by: 'agent' });
    await waitUntil(() => part(el, 'status')?.textContent === 'Ended');
  });
});

describe('<cobrowse-toolbar> requests', () => {
  it('fires each request as cobrowse-…-request, then under its old name (deprecated); cancelling either refuses it', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    const fired: string[] = [];
    for (const name of ['cobrowse-close-request', 'cobrowse-close'] as const)
      el.addEventListener(name, (e) => fired.push(`${name} ${e.cancelable}`));
    buttonLabelled(el, 'Close session').click();
    expect(fired).to.deep.equal(['cobrowse-close-request true', 'cobrowse-close true']);
    expect(viewer.calls).to.deep.equal([['end']]);

    // Cancelled under the new name: the old one is not fired, and the viewer does nothing.
    fired.length = 0;
    el.addEventListener('cobrowse-close-request', (e) => e.preventDefault(), { once: true });
    buttonLabelled(el, 'Close session').click();
    expect(fired).to.deep.equal(['cobrowse-close-request true']);
    expect(viewer.calls.length).to.equal(1);
  });

  it('names every request …-request, with the detail the old name had', async () => {
    const viewer = document.createElement('fake-viewer') as FakeViewer;
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar .viewer=${viewer}></cobrowse-toolbar>`);
    const asked: unknown[] = [];
    for (const name of [
      'cobrowse-zoom-request',
      'cobrowse-highlight-request',
      'cobrowse-highlight-clear-request',
      'cobrowse-navigate-request',
    ] as const) {
      el.addEventListener(name, (e) => asked.push([name, e.detail]));
    }
    buttonLabelled(el, '100%').click();
    buttonLabelled(el, 'Highlight').click();
    viewer.change({ highlightTool: 'rect' });
    await el.updateComplete;
    buttonLabelled(el, 'Clear').click();
    buttonLabelled(el, 'Highlight').click();
    buttonLabelled(el, 'Reload').click();
    expect(asked).to.deep.equal([
      ['cobrowse-zoom-request', { zoom: 1, autoFit: false }],
      ['cobrowse-highlight-request', { tool: 'rect' }],
      ['cobrowse-highlight-clear-request', {}],
      ['cobrowse-highlight-request', { tool: '' }],
      ['cobrowse-navigate-request', { action: 'reload' }],
    ]);
    // Highlight's off is '', for the event and for the viewer.
    expect(viewer.calls).to.deep.include(['highlight', '']);
  });

  it('reads auto-fit as the viewer does: on unless "false"', async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar auto-fit="false"></cobrowse-toolbar>`);
    expect(el.autoFit).to.equal(false);
    el.setAttribute('auto-fit', '');
    expect(el.autoFit).to.equal(true);
    el.setAttribute('auto-fit', 'false');
    el.removeAttribute('auto-fit');
    expect(el.autoFit).to.equal(true);
    expect([parseAutoFit(null), parseAutoFit(''), parseAutoFit('true'), parseAutoFit('false')]).to.deep.equal([true, true, true, false]);
  });

  it("takes highlight-tool's removal as off ('')", async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar state="live" highlight-tool="pen"></cobrowse-toolbar>`);
    expect(el.highlightTool).to.equal('pen');
    el.removeAttribute('highlight-tool');
    expect(el.highlightTool).to.equal('');
  });
});

describe('<cobrowse-toolbar> texts', () => {
  it('speaks its lang (German, Spanish, French ship), the page’s otherwise; strings win', async () => {
    const el = await fixture<CobrowseToolbar>(
      html`<cobrowse-toolbar lang="de-CH" mode="full-control" state="live" code="123456789" link="good" .rtt=${20}></cobrowse-toolbar>`,
    );
    expect(part(el, 'mode')!.textContent).to.equal('Volle Kontrolle');
    expect(part(el, 'close')!.textContent).to.equal('Sitzung schließen');
    expect(part(el, 'link')!.getAttribute('aria-label')).to.equal('Verbindung des Kunden: Gut, 20 ms');
    el.lang = 'es';
    await el.updateComplete;
    expect(part(el, 'status')!.textContent).to.equal('En vivo');
    el.lang = 'fr';
    el.strings = { close: 'Terminer' };
    await el.updateComplete;
    expect(part(el, 'mode')!.textContent).to.equal('Contrôle total');
    expect(part(el, 'close')!.textContent).to.equal('Terminer', 'strings over the translation');
    await expect(el).to.be.accessible();

    el.lang = '';
    el.strings = {};
    document.documentElement.lang = 'fr';
    try {
      el.requestUpdate();
      await el.updateComplete;
      expect(part(el, 'close')!.textContent).to.equal('Fermer la session', "the page's language");
    } finally {
      document.documentElement.lang = '';
    }
  });

  it('takes a language registered with registerViewerStrings', async () => {
    registerViewerStrings('it', { close: 'Chiudi la sessione' });
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar lang="it" state="live"></cobrowse-toolbar>`);
    expect(part(el, 'close')!.textContent).to.equal('Chiudi la sessione');
    expect(part(el, 'status')!.textContent).to.equal('Live', 'English where the translation says nothing');
  });
});
