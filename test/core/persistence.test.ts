/**
 * The customer's session in IndexedDB (real, in Chromium; a store of its own per test): what a
 * reload finds, resumes and forgets.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { createStore, set, type UseStore } from 'idb-keyval';
import { CustomerSession, CustomerState } from '../../core/customer-session.js';
import { clearSession, loadSession, saveSession, type StoredSession } from '../../core/persistence.js';
import { sourceFrame } from '../helpers/dom.js';
import { fakeRelay } from '../helpers/fake-connection.js';

const RELAY = 'ws://relay.test/relay';
const STORED: StoredSession = { code: '987654321', token: 'r'.repeat(43), mode: 'no-control', relay: RELAY, paused: false };
const live: CustomerSession[] = [];
const newStore = () => createStore(`persistence-test-${crypto.randomUUID()}`, 's');

/** A page of the site, with its session on `store` (a reload is a new page on the same store). */
async function page(store: UseStore, relay = RELAY) {
  const { doc } = await sourceFrame('<!doctype html><p>Hello</p>');
  const fake = fakeRelay();
  const session = new CustomerSession({ relay, doc, store, connection: fake.connection });
  live.push(session);
  return { session, fake };
}

afterEach(() => {
  for (const session of live.splice(0)) session.dispose();
});

describe('persistence', () => {
  it('saves, loads and clears the session, in the store it is given', async () => {
    const store = newStore();
    expect(await loadSession(store)).to.equal(undefined);
    await saveSession(STORED, store);
    expect(await loadSession(store)).to.deep.equal(STORED);
    expect(await loadSession(newStore())).to.equal(undefined, 'another store knows nothing of it');
    await clearSession(store);
    expect(await loadSession(store)).to.equal(undefined);
  });

  it('a reload resumes the stored session: same ID, its resume token, and the mode the relay says', async () => {
    const store = newStore();
    const first = await page(store);
    await first.session.start();
    first.fake.current.open();
    first.fake.current.receive({ t: 'created', code: STORED.code, token: STORED.token, mode: 'no-control' });
    await waitUntil(async () => (await loadSession(store))?.code === STORED.code, 'the new session is stored');
    first.session.dispose(); // the page goes away

    const reloaded = await page(store);
    expect(await reloaded.session.resume()).to.equal(true);
    const connection = reloaded.fake.current;
    connection.open();
    expect(connection.last).to.include({ t: 'resume', code: STORED.code, token: STORED.token });
    connection.receive({ t: 'resumed', code: STORED.code, mode: 'no-control', agent: null, seq: 4 });
    expect(reloaded.session.state).to.equal(CustomerState.Waiting);
    expect(reloaded.session.code).to.equal(STORED.code);
  });

  it('a session paused before the reload stays paused after it', async () => {
    const store = newStore();
    await saveSession(STORED, store);
    const first = await page(store);
    await first.session.resume();
    first.session.stopSharing();
    await waitUntil(async () => (await loadSession(store))?.paused === true, 'paused is stored');
    first.session.dispose();

    const reloaded = await page(store);
    await reloaded.session.resume();
    reloaded.fake.current.open();
    reloaded.fake.current.receive({ t: 'resumed', code: STORED.code, mode: 'no-control', agent: 'Alice', seq: 0 });
    expect(reloaded.session.state).to.equal(CustomerState.Paused);
    expect(reloaded.fake.current.last).to.deep.equal({ t: 'sharing', paused: true });
  });

  it('a stored session that expired at the relay ends as expired, and is forgotten', async () => {
    const store = newStore();
    await saveSession(STORED, store);
    const { session, fake } = await page(store);
    const ended = new Promise<{ by: string }>((resolve) => session.events.on('ended', resolve));
    await session.resume();
    fake.current.open();
    fake.current.receive({ t: 'error', code: 'session-not-found', message: 'No session with this ID' });
    expect((await ended).by).to.equal('expired');
    await waitUntil(async () => (await loadSession(store)) === undefined, 'the store forgets it');
  });

  it('a session that ends is forgotten: the next page has nothing to resume', async () => {
    const store = newStore();
    await saveSession(STORED, store);
    const first = await page(store);
    await first.session.resume();
    first.fake.current.receive({ t: 'ended', by: 'agent' });
    await waitUntil(async () => (await loadSession(store)) === undefined, 'the store forgets it');
    const next = await page(store);
    expect(await next.session.resume()).to.equal(false);
    expect(next.fake.made).to.have.length(0, 'no connection');
  });

  it('a cleared store, or one for another relay, resumes nothing', async () => {
    const store = newStore();
    await saveSession(STORED, store);
    await clearSession(store);
    const cleared = await page(store);
    expect(await cleared.session.resume()).to.equal(false);

    await saveSession(STORED, store);
    const elsewhere = await page(store, 'ws://another-relay.test/relay');
    expect(await elsewhere.session.resume()).to.equal(false);
    expect(cleared.fake.made.length + elsewhere.fake.made.length).to.equal(0, 'no connection');
    expect(cleared.session.state).to.equal(CustomerState.Idle);
  });

  it('storage that fails reads as no session, and a save that fails is no error', async () => {
    const store = newStore();
    await set('session', STORED, store);
    const broken: UseStore = () => Promise.reject(new DOMException('Blocked', 'SecurityError'));
    expect(await loadSession(broken)).to.equal(undefined);
    await saveSession(STORED, broken);
    await clearSession(broken);
    expect(await loadSession(store)).to.deep.equal(STORED, 'the store it could reach is untouched');
  });
});
