import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../components/toolbar/cobrowse-toolbar.js';
import type { CobrowseToolbar } from '../../components/toolbar/cobrowse-toolbar.js';

describe('<cobrowse-toolbar>', () => {
  it('is accessible', async () => {
    const el = await fixture<CobrowseToolbar>(html`<cobrowse-toolbar mode="full-control" state="live" code="123456789"></cobrowse-toolbar>`);
    await expect(el).to.be.accessible();
  });

  it('shows the mode, the status and the session ID', async () => {
    for (const [mode, label] of [['full-control', 'Full control'], ['partial-control', 'Partial control'], ['no-control', 'No control']]) {
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
      Array.from(el.shadowRoot!.querySelectorAll('[part=zoom] button')).find((b) => (b.getAttribute('aria-label') ?? b.textContent) === label) as HTMLButtonElement;
    expect(el.shadowRoot!.querySelector('[part=zoom] output')!.textContent).to.equal('50%');
    button('Zoom in').click();
    button('Zoom out').click();
    button('100%').click();
    button('Auto-fit').click();
    expect(asked).to.deep.equal([{ zoom: 0.63, autoFit: false }, { zoom: 0.4, autoFit: false }, { zoom: 1, autoFit: false }, { autoFit: false }]);
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
