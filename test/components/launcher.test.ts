import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import '../../components/launcher/cobrowse-launcher.js';
import type { CobrowseLauncher } from '../../components/launcher/cobrowse-launcher.js';
import { clearSession, loadSession, saveSession } from '../../core/persistence.js';
import { RawPeer, RELAY_URL } from '../helpers/relay.js';

async function startedLauncher(mode = 'full-control'): Promise<{ el: CobrowseLauncher; code: string }> {
  const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} mode=${mode}></cobrowse-launcher>`);
  const created = oneEvent(el, 'cobrowse-session-created');
  void el.start();
  const { detail } = await created;
  return { el, code: detail.code };
}

describe('<cobrowse-launcher>', () => {
  beforeEach(() => clearSession());
  afterEach(() => clearSession());

  it('is accessible, closed and open', async () => {
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL}></cobrowse-launcher>`);
    await expect(el).to.be.accessible();
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part=trigger]')!.click();
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=panel]')).to.exist;
    await expect(el).to.be.accessible();
  });

  it('marks itself as the SDK’s own UI, which the recorder sends as an empty element', async () => {
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL}></cobrowse-launcher>`);
    expect(el.hasAttribute('data-cobrowse-own')).to.equal(true);
  });

  it('starts a session and shows its 9-digit ID, grouped 3-3-3', async () => {
    const { el, code } = await startedLauncher();
    expect(code).to.match(/^\d{9}$/);
    expect(el.code).to.equal(code);
    expect(el.state).to.equal('waiting');
    await el.updateComplete;
    const shown = el.shadowRoot!.querySelector('[part=code]')!.textContent!;
    expect(shown).to.equal(`${code.slice(0, 3)} ${code.slice(3, 6)} ${code.slice(6)}`);
    expect((await loadSession())?.code).to.equal(code);
    await expect(el).to.be.accessible();
    el.end();
    await oneEvent(el, 'cobrowse-ended');
  });

  it('fires state changes and events that bubble and cross shadow roots', async () => {
    const states: string[] = [];
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const root = host.attachShadow({ mode: 'open' });
    const el = document.createElement('cobrowse-launcher');
    el.relay = RELAY_URL;
    root.append(el);
    host.addEventListener('cobrowse-state-change', (e) => states.push(e.detail.state));
    const created = oneEvent(host, 'cobrowse-session-created');
    void el.start();
    await created;
    expect(states).to.deep.equal(['starting', 'waiting']);
    const ended = oneEvent(host, 'cobrowse-ended');
    el.end();
    expect((await ended).detail.by).to.equal('customer');
    expect(states.at(-1)).to.equal('ended');
  });

  it('reports each state change with the state before it, in one shape', async () => {
    const { el } = await startedLauncher();
    const changes: Array<{ state: string; previous: string }> = [];
    el.addEventListener('cobrowse-state-change', (e) => changes.push(e.detail));
    el.end();
    await oneEvent(el, 'cobrowse-ended');
    expect(changes).to.deep.equal([{ state: 'ended', previous: 'waiting' }]);
    const restarted = oneEvent(el, 'cobrowse-state-change');
    void el.start();
    expect((await restarted).detail).to.deep.equal({ state: 'starting', previous: 'ended' });
    await waitUntil(() => el.state === 'waiting');
    el.end();
    await oneEvent(el, 'cobrowse-ended');
  });

  it('takes the consent timeout in ms as consent-timeout-ms, and still as consent-timeout (deprecated)', async () => {
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} consent-timeout-ms="1500"></cobrowse-launcher>`);
    expect(el.consentTimeoutMs).to.equal(1500);
    el.setAttribute('consent-timeout', '2500');
    expect([el.consentTimeoutMs, el.consentTimeout]).to.deep.equal([2500, 2500]);
    el.consentTimeout = 40;
    expect(el.consentTimeoutMs).to.equal(40);
  });

  it('sends a snapshot when an agent joins, and shows who is viewing', async () => {
    const { el, code } = await startedLauncher('no-control');
    const agent = new RawPeer();
    const joined = oneEvent(el, 'cobrowse-agent-joined');
    await agent.send({ t: 'join', v: 1, code, name: 'Dana' });
    expect((await agent.next('joined')).mode).to.equal('no-control');
    expect((await joined).detail.name).to.equal('Dana');
    const snapshot = await agent.next('snapshot');
    expect(snapshot.url, 'sent without its query string').to.equal(location.origin + location.pathname);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=panel] h2')!.textContent).to.contain('Dana is viewing this page');
    expect(el.shadowRoot!.querySelector('[part=shared-frame]')).to.exist;
    await expect(el).to.be.accessible();

    const ended = oneEvent(el, 'cobrowse-ended');
    await agent.send({ t: 'end' });
    expect((await ended).detail.by).to.equal('agent');
    expect(el.state).to.equal('ended');
    expect(await loadSession()).to.equal(undefined);
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).to.contain('The agent ended the session.');
    agent.close();
  });

  it('resumes the same session ID after the element is recreated (a reload)', async () => {
    const { el, code } = await startedLauncher();
    el.remove();
    const again = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL}></cobrowse-launcher>`);
    await waitUntil(() => again.state === 'waiting', 'resumes and waits for the agent');
    expect(again.code).to.equal(code);
    again.end();
    await oneEvent(again, 'cobrowse-ended');
  });

  it('shows replaced strings (localisation), keeping the others', async () => {
    const el = await fixture<CobrowseLauncher>(
      html`<cobrowse-launcher relay=${RELAY_URL} .strings=${{ trigger: 'Co-navigation', start: 'Démarrer' }}></cobrowse-launcher>`,
    );
    expect(el.shadowRoot!.querySelector('[part=trigger]')!.textContent!.trim()).to.equal('Co-navigation');
    el.open = true;
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Démarrer');
    expect(el.shadowRoot!.querySelector('[part=panel] p')!.textContent).to.contain('Share this tab');
  });

  it("speaks the language of its lang attribute (or the page's) when that translation is imported; strings still win", async () => {
    await import('../../components/launcher/strings/fr.js');
    await import('../../components/launcher/strings/de.js');
    const fr = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} lang="fr-CA" open></cobrowse-launcher>`);
    expect(fr.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Démarrer la co-navigation');
    fr.lang = 'de';
    await fr.updateComplete;
    expect(fr.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Co-Browsing starten');
    fr.strings = { start: 'Los' };
    await fr.updateComplete;
    expect(fr.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Los', 'strings over the translation');
    expect(fr.shadowRoot!.querySelector('[part=panel] p')!.textContent).to.contain('Teilen Sie diesen Tab');
    // A language without a translation falls back to English; the page's own lang counts too.
    const ja = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} lang="ja" open></cobrowse-launcher>`);
    expect(ja.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Start co-browsing');
    document.documentElement.lang = 'fr';
    try {
      const page = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} open></cobrowse-launcher>`);
      expect(page.shadowRoot!.querySelector('[part=start]')!.textContent).to.equal('Démarrer la co-navigation');
    } finally {
      document.documentElement.lang = '';
    }
  });

  it('names its panel in its language too', async () => {
    await import('../../components/launcher/strings/fr.js');
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL} lang="fr" open></cobrowse-launcher>`);
    expect(el.shadowRoot!.querySelector('[part=panel]')!.getAttribute('aria-label')).to.equal('Co-navigation');
    el.lang = 'en';
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=panel]')!.getAttribute('aria-label')).to.equal('Co-browsing');
  });

  it('Start makes a new session when the stored one is gone from the relay (it restarted, the session expired)', async () => {
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher></cobrowse-launcher>`);
    await saveSession({ code: '000000001', token: 'gone', mode: 'full-control', relay: RELAY_URL, paused: false });
    el.relay = RELAY_URL;
    await el.start();
    await waitUntil(() => el.state === 'waiting', `a new session (state ${el.state})`);
    expect(el.code)
      .to.match(/^\d{9}$/)
      .and.not.equal('000000001');
    expect((await loadSession())?.code).to.equal(el.code, 'the new one is stored');
    el.end();
    await oneEvent(el, 'cobrowse-ended');
  });

  it('takes its session back when a connection no tab holds replaced it (a late handshake)', async () => {
    const { el, code } = await startedLauncher();
    const stored = (await loadSession())!;
    // A resume with this page's token from a socket that is no tab's, as a late handshake of an
    // older connection of this page would be: the relay hands it the session.
    const late = new RawPeer();
    await late.send({ t: 'resume', v: 1, code, token: stored.token });
    await late.next('resumed');
    const closed = await late.closed;
    expect(closed.reason).to.equal('replaced', 'the page took its session back');
    await waitUntil(() => el.state === 'waiting', `the page holds the session again (state ${el.state})`);
    expect(el.code).to.equal(code);
    el.open = true;
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part=moved]')).to.equal(null, 'no "moved to another tab" message');
    el.end();
    await oneEvent(el, 'cobrowse-ended');
  });

  it('says so when another tab of the site takes the session over, and Start takes it back', async () => {
    await clearSession();
    const first = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL}></cobrowse-launcher>`);
    await first.start();
    await waitUntil(() => first.state === 'waiting', 'a session');
    const code = first.code;
    // Another tab (here, another launcher) resumes the stored session: the relay hands it the session.
    const second = await fixture<CobrowseLauncher>(html`<cobrowse-launcher relay=${RELAY_URL}></cobrowse-launcher>`);
    await waitUntil(() => second.state === 'waiting' && first.state === 'idle', 'the second takes over');
    expect(second.code).to.equal(code);
    first.open = true;
    await first.updateComplete;
    expect(first.shadowRoot!.querySelector('[part=moved]')!.textContent).to.contain('another tab or window');
    await first.start();
    await waitUntil(() => first.state === 'waiting' && second.state === 'idle', 'Start takes it back');
    expect(first.code).to.equal(code, 'the same session');
    expect(first.shadowRoot!.querySelector('[part=moved]')).to.equal(null);
    first.end();
    await oneEvent(first, 'cobrowse-ended');
  });

  it('says clearly when it has no relay', async () => {
    const el = await fixture<CobrowseLauncher>(html`<cobrowse-launcher></cobrowse-launcher>`);
    let error: unknown;
    await el.start().catch((e) => (error = e));
    expect(String(error)).to.contain('needs a relay URL');
  });
});
