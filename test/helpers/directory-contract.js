// The session rules, once, for every SessionDirectory backend: test/relay/directory.test.js runs
// them on the in-memory directory, test/cluster/directory.test.js on Redis. Deadlines run on real
// time (short ones), since Redis judges them by its own clock.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './wait.js';

/** The rules every test here runs under. */
export const RULES = { unjoinedTtlMs: 400, graceMs: 300, sessionsPerIp: 3, joinFailures: 2, joinFailureWindowMs: 60_000 };

let serials = 0;
/** A party handle, as the relay's connections are. */
const party = () => ({ serial: ++serials });
const refusedWith = (outcome, refusal) => assert.equal(outcome, refusal);

/**
 * Runs the contract against the backend `open(rules, events)` makes (it may be async); `close()`
 * lets go of it after each test.
 */
export function directoryContract(name, open) {
  describe(`SessionDirectory contract: ${name}`, () => {
    let directory;
    let events;
    const request = (more = {}) => ({ mode: 'full-control', ip: '198.51.100.7', origin: 'https://shop.example', ...more });
    const create = async (customer = party(), more) => directory.create(customer, request(more));
    const join = (code, more = {}, agent = party()) =>
      directory.join(agent, { code, name: 'Ana', failureKeys: ['ip:203.0.113.9'], ...more });
    const until = async (check, ms = 3_000) => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await sleep(20);
      }
    };

    beforeEach(async () => {
      events = { ended: [], released: [], replaced: [], peer: [] };
      directory = await open(RULES, {
        ended: (session, by, expired) => events.ended.push({ code: session.code, by, expired }),
        released: (session) => events.released.push(session.code),
        replaced: (p) => events.replaced.push(p),
        peer: (session, frame) => events.peer.push(frame),
        frame: () => {},
        rejected: () => {},
      });
    });
    afterEach(() => directory.close());

    it('creates a session with a 9-digit ID and a resume token, held by its customer', async () => {
      const customer = party();
      const { session, token } = await create(customer);
      assert.match(session.code, /^\d{9}$/);
      assert.match(token, /^[\w-]{43}$/);
      assert.equal(session.customer, customer);
      assert.equal(session.mode, 'full-control');
      assert.equal(directory.find(session.code), session);
      assert.equal(directory.size, 1);
      assert.deepEqual(await directory.assetSession(session.code), { origin: 'https://shop.example', salt: session.assetSalt });
    });

    it('resumes with the resume token only, and hands back the connection it replaces', async () => {
      const first = party();
      const { session, token } = await create(first);
      refusedWith(await directory.resume(party(), { code: session.code, token: 'wrong' }), 'not-found');
      refusedWith(await directory.resume(party(), { code: '000000000', token }), 'not-found');
      const second = party();
      const resumed = await directory.resume(second, { code: session.code, token, origin: 'https://shop.example' });
      assert.equal(resumed.session.code, session.code);
      assert.equal(resumed.previous, first);
      assert.equal(resumed.session.customer, second);
      assert.equal(resumed.token, undefined);
    });

    it('refuses a handshake from a connection older than the one holding the role (stale)', async () => {
      const { session, token } = await create();
      assert.ok(!(typeof (await directory.resume(party(), { code: session.code, token, at: 200 })) === 'string'));
      refusedWith(await directory.resume(party(), { code: session.code, token, at: 100 }), 'stale');
      const joined = await join(session.code, { at: 200 });
      const agent = joined.session.agent;
      assert.equal(directory.depart(joined.session, 'agent', agent), true);
      refusedWith(await join(session.code, { token: joined.token, at: 100 }), 'stale');
      assert.equal((await join(session.code, { token: joined.token, at: 300 })).reclaim, true);
    });

    it('binds one agent: a second is refused while the first holds the place', async () => {
      const { session } = await create();
      const joined = await join(session.code);
      assert.equal(joined.reclaim, false);
      assert.match(joined.token, /^[\w-]{43}$/);
      assert.equal(joined.session.agentName, 'Ana');
      refusedWith(await join(session.code), 'taken');
      refusedWith(await join('000000000'), 'not-found');
    });

    it('holds a dropped agent’s place for its token, and releases it after the grace period', async () => {
      const { session } = await create();
      const agent = party();
      const joined = await join(session.code, {}, agent);
      assert.equal(directory.depart(joined.session, 'agent', agent), true);
      assert.equal(directory.depart(joined.session, 'agent', agent), false, 'it no longer holds the role');
      refusedWith(await join(session.code), 'taken');
      const back = await join(session.code, { token: joined.token });
      assert.equal(back.reclaim, true);
      assert.equal(back.token, joined.token);
      directory.depart(back.session, 'agent', back.session.agent);
      await until(() => events.released.length === 1);
      assert.deepEqual(events.released, [session.code]);
      refusedWith(await join(session.code, { token: joined.token }).then((j) => (j.reclaim ? 'reclaimed' : 'fresh')), 'fresh');
    });

    it('frees the place at once when the agent leaves', async () => {
      const { session } = await create();
      const agent = party();
      const joined = await join(session.code, {}, agent);
      directory.leave(joined.session, agent);
      assert.equal(joined.session.agent, null);
      assert.equal((await join(session.code)).reclaim, false);
    });

    it('ends a session whose customer does not come back within the grace period', async () => {
      const customer = party();
      const { session, token } = await create(customer);
      await join(session.code);
      assert.equal(directory.depart(session, 'customer', customer), true);
      await until(() => events.ended.length === 1);
      assert.deepEqual(events.ended, [{ code: session.code, by: 'expired', expired: 'grace' }]);
      refusedWith(await directory.resume(party(), { code: session.code, token }), 'not-found');
    });

    it('keeps a session whose customer comes back in time', async () => {
      const customer = party();
      const { session, token } = await create(customer);
      await join(session.code);
      directory.depart(session, 'customer', customer);
      await directory.resume(party(), { code: session.code, token });
      await sleep(RULES.graceMs + 200);
      assert.deepEqual(events.ended, []);
    });

    it('ends a session nobody joined, once its unjoined deadline passes; a joined one stays', async () => {
      const lonely = await create();
      const joined = await create();
      await join(joined.session.code);
      await until(() => events.ended.length === 1);
      assert.deepEqual(events.ended, [{ code: lonely.session.code, by: 'expired', expired: 'unjoined' }]);
      await sleep(200);
      assert.equal(events.ended.length, 1);
      assert.ok(directory.find(joined.session.code));
    });

    it('redeems a hand-off token once, on a listed domain only, and gives that domain its own resume token', async () => {
      const { session } = await create();
      const binding = { origin: 'https://shop.example', rules: [{ host: 'checkout.example', subdomains: false, port: '' }] };
      const token = await directory.issueHandoff(session, binding, 60_000);
      assert.match(token, /^[\w-]{43}$/);
      refusedWith(await directory.resume(party(), { handoff: token, origin: 'https://evil.example' }), 'handoff-spent');
      const again = await directory.issueHandoff(session, binding, 60_000);
      const resumed = await directory.resume(party(), { handoff: again, origin: 'https://checkout.example' });
      assert.equal(resumed.session.code, session.code);
      assert.match(resumed.token, /^[\w-]{43}$/);
      refusedWith(await directory.resume(party(), { handoff: again, origin: 'https://checkout.example' }), 'handoff-spent');
      const home = await directory.resume(party(), { code: session.code, token: resumed.token, origin: 'https://checkout.example' });
      assert.equal(home.session.code, session.code);
      assert.deepEqual(await directory.assetSession(session.code), { origin: 'https://checkout.example', salt: session.assetSalt });
    });

    it('counts failed joins per key and locks a key out past its limit', async () => {
      const { session } = await create();
      for (let i = 0; i < RULES.joinFailures; i++) refusedWith(await join('000000000'), 'not-found');
      const locked = await join(session.code);
      assert.ok(locked.retryAfterMs > 0 && locked.retryAfterMs <= RULES.joinFailureWindowMs, JSON.stringify(locked));
      const other = await join(session.code, { failureKeys: ['ip:192.0.2.1'] });
      assert.equal(other.reclaim, false, 'another key is not locked out');
    });

    it('limits the live sessions one IP may create', async () => {
      const made = [];
      for (let i = 0; i < RULES.sessionsPerIp; i++) made.push(await create());
      refusedWith(await create(), 'too-many-sessions');
      assert.ok(typeof (await create(party(), { ip: '198.51.100.8' })) === 'object', 'another IP may');
      directory.end(made[0].session, 'customer');
      await until(() => !directory.find(made[0].session.code));
      assert.ok(typeof (await create()) === 'object', 'an ended session no longer counts');
    });

    it('ends a session for good: it cannot be resumed or joined, and its assets close', async () => {
      const { session, token } = await create();
      directory.end(session, 'customer');
      assert.equal(directory.find(session.code), undefined);
      refusedWith(await directory.resume(party(), { code: session.code, token }), 'not-found');
      refusedWith(await join(session.code, { failureKeys: [] }), 'not-found');
      assert.equal(await directory.assetSession(session.code), null);
      assert.deepEqual(events.ended, [], 'the caller ended it: no news of it');
    });
  });
}
