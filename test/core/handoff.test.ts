/**
 * The hand-off to another of the session's domains: the token in a URL fragment, taken out of the
 * address bar on arrival; the links and forms that carry it; and a customer session handing over
 * and arriving, with a fake connection playing the relay.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { createStore } from 'idb-keyval';
import { CustomerSession } from '../../core/customer-session.js';
import { takeHandoff, watchNavigation, withHandoff, withoutHandoff, type NavigationHooks } from '../../core/handoff.js';
import { loadSession } from '../../core/persistence.js';
import { sourceFrame } from '../helpers/dom.js';
import { fakeRelay } from '../helpers/fake-connection.js';

const TOKEN = 'h'.repeat(43);

/** Runs `test` with this page's URL at `hash`, and puts the URL back after. */
async function atHash(hash: string, test: () => Promise<void> | void): Promise<void> {
  const before = location.href;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  try {
    await test();
  } finally {
    history.replaceState(history.state, '', before);
  }
}

/** A page with a link and a form to `target`, watched; what the hooks were asked, and a way to click. */
async function watchedPage(target: string, where: ReturnType<NavigationHooks['classify']>) {
  const { doc } = await sourceFrame(`<!doctype html><a href="${target}">Go</a><form action="${target}"><button>Send</button></form>`);
  const calls = { classified: [] as string[], left: 0 };
  const stop = watchNavigation(doc, {
    classify: (url) => (calls.classified.push(url.href), where),
    carry: (url) => withHandoff(url, TOKEN, false),
    left: () => calls.left++,
  });
  /** The link's href as the browser reads it while following it (the navigation itself is cancelled). */
  const follow = (el: HTMLElement, attribute: string, event: () => void) => {
    let followed: string | null = null;
    const read = (e: Event) => ((followed = el.getAttribute(attribute)), e.preventDefault());
    doc.addEventListener('click', read);
    doc.addEventListener('submit', read);
    event();
    doc.removeEventListener('click', read);
    doc.removeEventListener('submit', read);
    return followed;
  };
  const link = doc.querySelector('a')!;
  const form = doc.querySelector('form')!;
  return {
    doc,
    calls,
    stop,
    link,
    form,
    clickLink: () => follow(link, 'href', () => link.click()),
    submitForm: () => follow(form, 'action', () => form.requestSubmit()),
  };
}

describe('hand-off tokens in URLs', () => {
  it('a URL carries the token after its own fragment, and says when sharing was paused', () => {
    const url = new URL('https://shop.example/cart?x=1#reviews');
    expect(withHandoff(url, TOKEN, false)).to.equal(`https://shop.example/cart?x=1#reviews&cobrowse-handoff=${TOKEN}`);
    expect(withHandoff(new URL('https://shop.example/'), TOKEN, true)).to.equal(
      `https://shop.example/#cobrowse-handoff=${TOKEN}&cobrowse-paused`,
    );
  });

  it('a URL the recorder sends never carries a token; its own fragment stays', () => {
    expect(withoutHandoff(`https://shop.example/a#reviews&cobrowse-handoff=${TOKEN}&cobrowse-paused`)).to.equal(
      'https://shop.example/a#reviews',
    );
    expect(withoutHandoff(`https://shop.example/a#cobrowse-handoff=${TOKEN}`)).to.equal('https://shop.example/a');
    expect(withoutHandoff('https://shop.example/a#top')).to.equal('https://shop.example/a#top');
  });

  it('the arriving page takes the token out of its address bar, keeping its own fragment', () =>
    atHash(`#top&cobrowse-handoff=${TOKEN}&cobrowse-paused`, () => {
      expect(takeHandoff(window)).to.deep.equal({ token: TOKEN, paused: true });
      expect(location.hash).to.equal('#top');
      expect(takeHandoff(window)).to.equal(null, 'each token serves once');
    }));

  it('a page parameter that only ends like ours is no hand-off, and stays in the address bar', () =>
    atHash('#my-cobrowse-handoff=abc', () => {
      expect(takeHandoff(window)).to.equal(null);
      expect(location.hash).to.equal('#my-cobrowse-handoff=abc');
    }));
});

describe('watchNavigation', () => {
  it('a link to a listed domain carries the token while the browser follows it, then is as it was', async () => {
    const page = await watchedPage('https://other.example/cart', 'listed');
    expect(page.clickLink()).to.equal(`https://other.example/cart#cobrowse-handoff=${TOKEN}`);
    await waitUntil(() => page.link.getAttribute('href') === 'https://other.example/cart', 'the link is put back');
    page.stop();
  });

  it('a form to a listed domain carries it in its action', async () => {
    const page = await watchedPage('https://other.example/pay', 'listed');
    expect(page.submitForm()).to.equal(`https://other.example/pay#cobrowse-handoff=${TOKEN}`);
    await waitUntil(() => page.form.getAttribute('action') === 'https://other.example/pay', 'the form is put back');
    page.stop();
  });

  it('a link away is noted, and the page going away soon after says the customer left', async () => {
    const page = await watchedPage('https://elsewhere.example/', 'away');
    expect(page.clickLink()).to.equal('https://elsewhere.example/', 'not carried');
    page.doc.defaultView!.dispatchEvent(new PageTransitionEvent('pagehide'));
    expect(page.calls.left).to.equal(1);
    page.stop();
  });

  it('a page going away with no link away clicked is not the customer leaving; stopped, it watches nothing', async () => {
    const page = await watchedPage('https://other.example/', 'here');
    page.clickLink();
    page.doc.defaultView!.dispatchEvent(new PageTransitionEvent('pagehide'));
    expect(page.calls.left).to.equal(0);
    page.stop();
    page.clickLink();
    expect(page.calls.classified).to.have.length(1, 'no more after stop()');
  });
});

describe('CustomerSession hand-off', () => {
  const relayUrl = 'ws://relay.test/relay';

  it('keeps a token ready for the session’s domains, and gives each link to one of them a fresh one', async () => {
    // This page itself: a srcdoc frame's about: scheme is no origin a link could be carried from.
    const doc = document;
    const target = `${location.protocol}//shop.localhost:${location.port}/`;
    const link = Object.assign(doc.createElement('a'), { href: target, textContent: 'Shop' });
    doc.body.append(link);
    const relay = fakeRelay();
    const session = new CustomerSession({
      relay: relayUrl,
      doc,
      store: createStore(`handoff-test-${crypto.randomUUID()}`, 's'),
      connection: relay.connection,
      domains: ['shop.localhost'],
    });
    await session.start();
    const fake = relay.current;
    fake.open();
    fake.receive({ t: 'created', code: '123123123', token: 'c'.repeat(43), mode: 'full-control' });
    expect(fake.frames('handoff')).to.have.length(1, 'a token is asked for at once');
    fake.receive({ t: 'handoff-token', token: TOKEN, ttl: 60_000 });
    let followed = '';
    const read = (e: Event) => ((followed = link.href), e.preventDefault());
    doc.addEventListener('click', read);
    link.click();
    doc.removeEventListener('click', read);
    link.remove();
    session.dispose();
    expect(followed).to.equal(`${target}#cobrowse-handoff=${TOKEN}`);
    expect(fake.frames('handoff')).to.have.length(2, 'the next link gets a new token');
  });

  it('arrives with a token: resumes with it, takes it out of the address bar, and keeps the session for reloads', () =>
    atHash(`#cobrowse-handoff=${TOKEN}&cobrowse-paused`, async () => {
      const relay = fakeRelay();
      const store = createStore(`handoff-test-${crypto.randomUUID()}`, 's');
      const session = new CustomerSession({ relay: relayUrl, store, connection: relay.connection });
      expect(await session.resume()).to.equal(true);
      expect(location.hash).to.equal('');
      const fake = relay.current;
      fake.open();
      expect(fake.sent[0]).to.include({ t: 'resume', handoff: TOKEN });
      fake.receive({ t: 'resumed', code: '321321321', mode: 'partial-control', agent: 'Alice', seq: 9, token: 'n'.repeat(43) });
      expect(session.state).to.equal('paused', 'paused where the customer came from, paused here');
      expect(session.mode).to.equal('partial-control');
      await waitUntil(async () => (await loadSession(store))?.token === 'n'.repeat(43), 'this domain keeps its own resume token');
      session.dispose();
    }));
});
