/**
 * CustomerSession on its own, with a fake connection playing the relay: every move of its state
 * table (customer-states.ts), one test per row, and what it says to the relay on the way.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { createStore } from 'idb-keyval';
import { CustomerSession, CustomerState, type CustomerSessionOptions } from '../../core/customer-session.js';
import { CUSTOMER_TRANSITIONS, type CustomerTrigger } from '../../core/customer-states.js';
import { saveSession } from '../../core/persistence.js';
import { sourceFrame } from '../helpers/dom.js';
import { fakeRelay } from '../helpers/fake-connection.js';
import { connectionScenarios, describeMoves, stepsFrom, type Scenarios } from '../helpers/state-table.js';

const RELAY = 'ws://relay.test/relay';
const TOKEN = 't'.repeat(43);
const live: CustomerSession[] = [];

/** A nine-digit ID of its own per test, so another test's session never answers for this one. */
const newCode = () => String(100_000_000 + Math.floor(Math.random() * 899_999_999));

/** A customer page with a session not yet started, and the fake relay it will talk to. */
async function customer(options: Partial<CustomerSessionOptions> = {}) {
  const { doc } = await sourceFrame('<!doctype html><p>Hello</p>');
  const relay = fakeRelay();
  const store = createStore(`customer-session-test-${crypto.randomUUID()}`, 's');
  const session = new CustomerSession({ relay: RELAY, doc, store, connection: relay.connection, ...options });
  live.push(session);
  const code = newCode();
  const h = {
    session,
    relay,
    store,
    code,
    get fake() {
      return relay.current;
    },
    /** The relay's answer to `create`. */
    created() {
      h.fake.receive({ t: 'created', code, token: TOKEN, mode: 'full-control' });
    },
    /** The relay's answer to `resume`. */
    resumed(agent: string | null = null) {
      h.fake.receive({ t: 'resumed', code, mode: 'full-control', agent, seq: 0 });
    },
    agentOnline(name = 'Alice') {
      h.fake.receive({ t: 'peer', role: 'agent', status: 'online', name });
    },
    agentOffline() {
      h.fake.receive({ t: 'peer', role: 'agent', status: 'offline' });
    },
    /** This site has a session stored (from an earlier page), to resume. */
    stored(paused: boolean) {
      return saveSession({ code, token: TOKEN, mode: 'full-control', relay: RELAY, paused }, store);
    },
    /**
     * The relay closes the connection as replaced, and the page asks the other tabs whether one of
     * them holds the session; `othersHold()` answers that one does.
     */
    async replaced() {
      const tab = new BroadcastChannel('cobrowse-tabs');
      const asked = new Promise<void>((resolve) => (tab.onmessage = (e) => e.data?.ask === code && resolve()));
      h.fake.drop({ retrying: false, reason: 'replaced', code: 4000 });
      await asked;
      h.othersHold = () => (tab.postMessage({ holds: code }), tab.close());
    },
    othersHold: () => {},
  };
  return h;
}
type Customer = Awaited<ReturnType<typeof customer>>;

type Step = (h: Customer) => unknown;
/** A new customer's session brought to a state by these steps. */
const via = stepsFrom(customer);

const start: Step = (h) => h.session.start();
/** dispose() leaves the state as it was; start() then connects again. */
const restart: Step = (h) => (h.session.dispose(), h.session.start());
const end: Step = (h) => h.session.end();
const open: Step = (h) => h.fake.open();
const created: Step = (h) => h.created();
const resumed: Step = (h) => h.resumed();
const resumedWithAgent: Step = (h) => h.resumed('Alice');
const agentOnline: Step = (h) => h.agentOnline();
const agentOffline: Step = (h) => h.agentOffline();
const endedByAgent: Step = (h) => h.fake.receive({ t: 'ended', by: 'agent' });
const refused: Step = (h) => h.fake.receive({ t: 'error', code: 'not-allowed', message: 'No' });
const lost: Step = (h) => h.fake.drop({ retrying: false });
const drop: Step = (h) => h.fake.drop();
const stop: Step = (h) => h.session.stopSharing();
const share: Step = (h) => h.session.startSharing();
const replaced: Step = (h) => h.replaced();
const othersHold: Step = (h) => h.othersHold();

/** start(), and the connection opens: the session asks the relay to create one. */
const started: Step = async (h) => (await h.session.start(), h.fake.open());
/** resume() a session stored (paused or not) by an earlier page of the site, and the connection opens. */
const resuming =
  (paused = false): Step =>
  async (h) => {
    await h.stored(paused);
    expect(await h.session.resume()).to.equal(true);
    h.fake.open();
  };

/** The ways to the states the moves start from, each named for how it gets there. */
const reach = {
  idle: via(),
  starting: via(started),
  resuming: via(resuming()),
  resumingPaused: via(resuming(true)),
  /** …and an agent came before the relay's answer: it is told the page is paused. */
  resumingPausedWithAgent: via(resuming(true), agentOnline),
  /** Paused before the relay made the session. */
  pausedWhileStarting: via(started, stop),
  /** …then the relay made it: the session shows waiting, and an agent that comes sees it paused. */
  pausedWhenCreated: via(started, stop, created, agentOnline),
  waiting: via(started, created),
  connected: via(started, created, agentOnline),
  paused: via(started, created, stop),
  pausedWithAgent: via(started, created, agentOnline, stop),
  reconnecting: via(started, created, drop),
  /** A new session whose connection dropped before the relay answered, and is open again. */
  reconnectingNew: via(started, drop, open),
  reconnectingPaused: via(started, created, stop, drop),
  reconnectingPausedWithAgent: via(started, created, agentOnline, stop, drop),
  /** Shared again while reconnecting, with the agent there before the drop; open again. */
  reconnectedSharing: via(started, created, agentOnline, stop, drop, share, open),
  reconnectedPaused: via(started, created, stop, drop, open),
  reconnected: via(started, created, drop, open),
  ended: via(started, created, endedByAgent),
  error: via(started, created, refused),
  /** Replaced, and while the page asks the other tabs, the customer may pause or share again. */
  replacedWhileWaiting: via(started, created, replaced),
  replacedThenShared: via(started, created, stop, replaced, share),
  replacedThenSharedWithAgent: via(started, created, agentOnline, stop, replaced, share),
  replacedThenPaused: via(started, created, replaced, stop),
};

const { Idle, Starting, Waiting, Connected, Paused, Reconnecting, Ended } = CustomerState;

type CustomerScenarios = Scenarios<CustomerState, CustomerTrigger, Customer>;

/**
 * The moves of every state with a connection: connect again, end, fail, drop (`fire` says how, if not
 * as usual), and, if `replaced` reaches this state while another tab takes the session, move away.
 */
function onlineScenarios(
  reachIt: () => Promise<Customer>,
  fire: { failed?: Step; ended?: Step; replaced?: () => Promise<Customer> } = {},
): CustomerScenarios[CustomerState] {
  const { failed = refused, ended = endedByAgent, replaced } = fire;
  return {
    connect: [Starting, reachIt, restart],
    ...connectionScenarios(reachIt, { ended, failed, dropped: drop }),
    ...(replaced && { moved: [Idle, replaced, othersHold] }),
  };
}

/**
 * The moves while the relay's answer to a connection is awaited (OPENING in customer-states.ts), from
 * `at`: a connection for a new session, or one resuming a session paused, sharing, or paused with an agent there.
 */
function openingScenarios(
  reachIt: () => Promise<Customer>,
  at: Record<'fresh' | 'paused' | 'resumable' | 'pausedWithAgent', () => Promise<Customer>>,
): CustomerScenarios[CustomerState] {
  return {
    ...onlineScenarios(reachIt),
    created: [Waiting, at.fresh, created],
    'resumed-paused': [Paused, at.paused, resumed],
    'resumed-alone': [Waiting, at.resumable, resumed],
    'agent-joined': [Connected, at.resumable, resumedWithAgent],
    // The agent's news may come before the relay's answer (a cluster of relays).
    'agent-left': [Waiting, at.resumable, agentOffline],
    'stop-sharing': [Paused, reachIt, stop],
    share: [Waiting, at.paused, share],
    'share-with-agent': [Connected, at.pausedWithAgent, share],
  };
}

/** Every move of the table, by the state it starts from and its trigger: where it leads, how to get there, how to fire it. */
const SCENARIOS: CustomerScenarios = {
  idle: { connect: [Starting, reach.idle, start], ended: [Ended, reach.idle, end] },
  starting: openingScenarios(reach.starting, {
    fresh: reach.starting,
    paused: reach.resumingPaused,
    resumable: reach.resuming,
    pausedWithAgent: reach.resumingPausedWithAgent,
  }),
  waiting: {
    ...onlineScenarios(reach.waiting, { replaced: reach.replacedThenShared }),
    'agent-joined': [Connected, reach.waiting, agentOnline],
    'stop-sharing': [Paused, reach.waiting, stop],
    'share-with-agent': [Connected, reach.pausedWhenCreated, share],
  },
  connected: {
    ...onlineScenarios(reach.connected, { failed: lost, replaced: reach.replacedThenSharedWithAgent }),
    'resumed-alone': [Waiting, reach.reconnectedSharing, resumed],
    'agent-left': [Waiting, reach.connected, agentOffline],
    'stop-sharing': [Paused, reach.connected, stop],
  },
  paused: {
    ...onlineScenarios(reach.paused, { failed: lost, replaced: reach.replacedThenPaused }),
    created: [Waiting, reach.pausedWhileStarting, created],
    share: [Waiting, reach.paused, share],
    'share-with-agent': [Connected, reach.pausedWithAgent, share],
  },
  reconnecting: {
    ...openingScenarios(reach.reconnecting, {
      fresh: reach.reconnectingNew,
      paused: reach.reconnectedPaused,
      resumable: reach.reconnected,
      pausedWithAgent: reach.reconnectingPausedWithAgent,
    }),
    ...onlineScenarios(reach.reconnecting, { failed: lost, ended: end, replaced: reach.replacedWhileWaiting }),
  },
  ended: { connect: [Starting, reach.ended, start] },
  error: { connect: [Starting, reach.error, start], ended: [Ended, reach.error, end] },
};

afterEach(() => {
  for (const session of live.splice(0)) session.dispose();
});

describe('CustomerSession states', () => describeMoves(CUSTOMER_TRANSITIONS, SCENARIOS));

describe('CustomerSession', () => {
  it('creates a session, and resumes it with its token after a drop', async () => {
    const h = await customer({ mode: 'partial-control' });
    await started(h);
    expect(h.fake.last).to.include({ t: 'create', mode: 'partial-control' });
    const created = new Promise<{ code: string }>((resolve) => h.session.events.on('created', resolve));
    h.created();
    expect((await created).code).to.equal(h.code);
    expect(h.session.code).to.equal(h.code);
    drop(h);
    h.fake.open();
    expect(h.fake.last).to.include({ t: 'resume', code: h.code, token: TOKEN });
  });

  it('a stored session the relay does not know is made afresh by start(), and ends as expired on resume()', async () => {
    const started = await customer();
    await started.stored(false);
    await started.session.start();
    started.fake.open();
    started.fake.receive({ t: 'error', code: 'session-not-found', message: 'gone' });
    expect(started.relay.made).to.have.length(2, 'a new connection');
    started.fake.open();
    expect(started.fake.last).to.include({ t: 'create' });
    expect(started.session.state).to.equal(Starting);

    const resumed = await reach.resuming();
    const ended = new Promise<{ by: string }>((resolve) => resumed.session.events.on('ended', resolve));
    resumed.fake.receive({ t: 'error', code: 'session-not-found', message: 'gone' });
    expect((await ended).by).to.equal('expired');
    expect(resumed.session.state).to.equal(Ended);
  });

  it('pausing tells the relay, stops the agent’s pointer, and stays paused when the relay resumes the session', async () => {
    const h = await reach.connected();
    const pointers: unknown[] = [];
    h.session.events.on('agent-pointer', (p) => pointers.push(p));
    stop(h);
    expect(h.fake.last).to.deep.equal({ t: 'sharing', paused: true });
    h.fake.receive({ t: 'pointer', x: 1, y: 2 });
    expect(pointers).to.deep.equal([], 'no agent pointer on a page not shared');
    drop(h);
    h.fake.open();
    h.resumed('Alice');
    expect(h.session.state).to.equal(Paused);
    expect(h.fake.last).to.deep.equal({ t: 'sharing', paused: true }, 'the agent is told again');
  });

  it('an agent that comes while paused is told so, and is named', async () => {
    const h = await reach.paused();
    const joined = new Promise<{ name: string }>((resolve) => h.session.events.on('agent-joined', resolve));
    h.agentOnline('Bob');
    expect((await joined).name).to.equal('Bob');
    expect(h.session.agentName).to.equal('Bob');
    expect(h.session.state).to.equal(Paused);
    expect(h.fake.last).to.deep.equal({ t: 'sharing', paused: true });
  });

  it('an agent that goes while the customer is paused leaves the session paused', async () => {
    const h = await reach.pausedWithAgent();
    h.agentOffline();
    expect(h.session.state).to.equal(Paused);
    expect(h.session.agentName).to.equal('');
    // Paused, and reconnecting: still not waiting for an agent.
    h.agentOnline();
    drop(h);
    h.fake.open();
    h.agentOffline();
    expect(h.session.state).to.equal(Reconnecting);
  });

  it('answers pings, and ends when the relay says so', async () => {
    const h = await reach.waiting();
    h.fake.receive({ t: 'ping', n: 7 });
    expect(h.fake.last).to.deep.equal({ t: 'pong', n: 7 });
    const ended = new Promise<{ by: string }>((resolve) => h.session.events.on('ended', resolve));
    endedByAgent(h);
    expect((await ended).by).to.equal('agent');
    expect(h.fake.closed).to.equal(true, 'the connection is let go');
  });

  it('refuses control it was not given, and says why', async () => {
    const h = await reach.connected();
    h.fake.receive({ t: 'control', n: 1, a: 'reload' });
    await waitUntil(() => h.fake.frames('control-result').length === 1);
    expect(h.fake.frames('control-result')[0]).to.deep.equal({
      t: 'control-result',
      n: 1,
      ok: false,
      reason: 'The customer did not allow control',
    });
  });
});
