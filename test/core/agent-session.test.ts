/**
 * AgentSession on its own, with a fake connection playing the relay and a recorded page feeding
 * its mirror: every move of its state table (agent-states.ts), one test per row, and what it says
 * to the relay on the way.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { AgentSession, AgentState } from '../../core/agent-session.js';
import { AGENT_TRANSITIONS, type AgentTrigger } from '../../core/agent-states.js';
import { record } from '../../core/dom/recorder.js';
import { Outbox } from '../../core/reliable.js';
import { mirrorFrame, sourceFrame } from '../helpers/dom.js';
import { fakeRelay } from '../helpers/fake-connection.js';
import { connectionScenarios, describeMoves, stepsFrom, type Scenarios } from '../helpers/state-table.js';

const CODE = '123456789';
const live: AgentSession[] = [];
const { Idle, Joining, Waiting, Live, CustomerAway, Paused, Left, Ended, Error } = AgentState;

/** The customer's page as the agent receives it: a numbered snapshot, then a numbered patch. */
async function customerStream(): Promise<{ snapshot: string; patch: string }> {
  const { doc } = await sourceFrame('<!doctype html><p>Hello</p>');
  const texts: string[] = [];
  const outbox = new Outbox((text) => (texts.push(text), true));
  outbox.ack(0, 0); // live from the first frame
  const recording = record({ emit: (frame) => outbox.push(frame), doc });
  doc.body.append('and more');
  await waitUntil(() => texts.length >= 2, 'a patch', { timeout: 2000 });
  recording.stop();
  return { snapshot: texts[0]!, patch: texts[1]! };
}

/** An agent's session, not yet joined, and the fake relay it will talk to. */
async function agent() {
  const relay = fakeRelay();
  const { mirror } = mirrorFrame();
  const session = new AgentSession({ relay: 'ws://relay.test/relay', name: 'Alice', mirror, connection: relay.connection });
  live.push(session);
  const stream = await customerStream();
  const h = {
    session,
    relay,
    get fake() {
      return relay.current;
    },
    joined(online: boolean) {
      h.fake.open();
      h.fake.receive({ t: 'joined', code: CODE, mode: 'full-control', online, token: 'a'.repeat(43) });
    },
    customer(status: 'online' | 'offline') {
      h.fake.receive({ t: 'peer', role: 'customer', status });
    },
    sharing(paused: boolean, left?: boolean) {
      h.fake.receive(left ? { t: 'sharing', paused, left } : { t: 'sharing', paused });
    },
    snapshot() {
      h.fake.events.emit('message', stream.snapshot);
    },
    patch() {
      h.fake.events.emit('message', stream.patch);
    },
    /** A patch from further on: the one before it is missing. */
    patchAfterGap() {
      h.fake.events.emit('message', stream.patch.replace(/"s":2}$/, '"s":3}'));
    },
    outOfStep() {
      h.fake.receive({ t: 'error', code: 'resync-required', message: 'Catch up' });
    },
  };
  return h;
}
type Agent = Awaited<ReturnType<typeof agent>>;

/** Steps from one state to the next, to build a scenario's way to the state its row starts from. */
type Step = (h: Agent) => unknown;
const join: Step = (h) => h.session.join(CODE);
const online: Step = (h) => h.joined(true);
const alone: Step = (h) => h.joined(false);
const snapshot: Step = (h) => h.snapshot();
const drop: Step = (h) => h.fake.drop();
const outOfStep: Step = (h) => h.outOfStep();
const customerOffline: Step = (h) => h.customer('offline');
const customerOnline: Step = (h) => h.customer('online');
const paused: Step = (h) => h.sharing(true);
const left: Step = (h) => h.sharing(true, true);
const ended: Step = (h) => h.fake.receive({ t: 'ended', by: 'customer' });
const refused: Step = (h) => h.fake.receive({ t: 'error', code: 'not-allowed', message: 'No' });
/**
 * A gap in the stream while the view is fresh from joining, and the connection drops: the replay is
 * given 2 s to fill the gap, and when it has not, the session asks for a snapshot, reconnecting or not.
 */
const gapThenDrop: Step = (h) => (h.patchAfterGap(), drop(h));
const gapUnfilled: Step = (h) => waitUntil(() => h.session.state === Waiting, 'the gap asks for a snapshot', { timeout: 4000 });
/** Nothing but time. */
const wait: Step = () => {};

/** An agent brought to a state by these steps. */
const via = stepsFrom(agent);

/** The ways to each state: without a page in the mirror, and (`…Page`) with one. */
const at = {
  idle: via(),
  joining: via(join),
  waiting: via(join, online),
  waitingPage: via(join, online, snapshot, outOfStep),
  live: via(join, online, snapshot),
  away: via(join, alone),
  awayPage: via(join, online, snapshot, customerOffline),
  paused: via(join, online, paused),
  pausedPage: via(join, online, snapshot, paused),
  left: via(join, online, left),
  leftPage: via(join, online, snapshot, left),
  reconnecting: via(join, online, drop),
  ended: via(join, online, ended),
  error: via(join, online, refused),
};

const end: Step = (h) => h.session.end();
const lost: Step = (h) => h.fake.drop({ retrying: false });
const resumed: Step = (h) => h.sharing(false);
const patch: Step = (h) => h.patch();

type AgentScenarios = Scenarios<AgentState, AgentTrigger, Agent>;

/** The moves while (re)joining: join afresh, end, fail (`failed` says how), drop, and the relay letting the agent in. */
function joiningScenarios(reach: () => Promise<Agent>, failed = refused, end = ended): AgentScenarios[AgentState] {
  return {
    ...connectionScenarios(reach, { ended: end, failed, dropped: drop }),
    join: [Joining, reach, join],
    joined: [Waiting, reach, online],
    'joined-alone': [CustomerAway, reach, alone],
  };
}

/**
 * The moves every joined state shares, from a state reached by `reach` (the mirror empty) or `page`
 * (the mirror showing the customer's page); `except` the triggers that state does not take.
 */
function joinedScenarios(from: AgentState, reach: () => Promise<Agent>, page: () => Promise<Agent>, except?: AgentTrigger) {
  const scenarios: AgentScenarios[AgentState] = {
    ...connectionScenarios(reach, { ended, failed: refused, dropped: drop }),
    join: [Joining, reach, join],
    'customer-online': [Waiting, reach, customerOnline],
    'customer-returned': [Live, page, customerOnline],
    'customer-offline': [CustomerAway, reach, customerOffline],
    'sharing-resumed': [Waiting, reach, resumed],
    'sharing-paused': [Paused, reach, paused],
    'customer-left': [Left, reach, left],
    snapshot: [Live, reach, snapshot],
    'out-of-step': [Waiting, page, outOfStep],
  };
  if (except) delete scenarios[except];
  return scenarios;
}

/** Every move of the table, by the state it starts from and its trigger: where it leads, how to get there, how to fire it. */
const SCENARIOS: AgentScenarios = {
  idle: { join: [Joining, at.idle, join], ended: [Ended, at.idle, end] },
  joining: joiningScenarios(at.joining),
  waiting: {
    ...joinedScenarios(Waiting, at.waiting, at.waitingPage),
    // A snapshot asked for while reconnecting is still waited for when the relay lets the agent back in.
    'joined-alone': [CustomerAway, via(join, online, snapshot, gapThenDrop, gapUnfilled), alone],
    'patch-continued': [Live, at.waitingPage, patch],
  },
  // The mirror shows a page: a customer coming back to it is `customer-returned`.
  live: joinedScenarios(Live, at.live, at.live, 'customer-online'),
  'customer-away': joinedScenarios(CustomerAway, at.away, at.awayPage),
  paused: joinedScenarios(Paused, at.paused, at.pausedPage),
  // A customer who left the site goes offline with its page: "left" says more than "offline".
  left: joinedScenarios(Left, at.left, at.leftPage, 'customer-offline'),
  reconnecting: {
    ...joiningScenarios(at.reconnecting, lost, end),
    'out-of-step': [Waiting, via(join, online, snapshot, gapThenDrop), wait],
  },
  ended: { join: [Joining, at.ended, join] },
  error: { join: [Joining, at.error, join], ended: [Ended, at.error, end] },
};

afterEach(() => {
  for (const session of live.splice(0)) session.dispose();
});

describe('AgentSession states', () => describeMoves(AGENT_TRANSITIONS, SCENARIOS, 4000));

describe('AgentSession', () => {
  it('joins with its name, tells the relay where the stream stands, and says it joined', async () => {
    const h = await at.joining();
    const joined = new Promise<{ code: string; mode: string }>((resolve) => h.session.events.on('joined', resolve));
    online(h);
    expect(h.fake.sent[0]).to.include({ t: 'join', code: CODE, name: 'Alice' });
    expect(await joined).to.deep.equal({ code: CODE, mode: 'full-control' });
    expect(h.session.mode).to.equal('full-control');
    expect(h.fake.last).to.deep.equal({ t: 'ack', s: 0 });
  });

  it('refuses a malformed ID before it connects', async () => {
    const h = await agent();
    expect(() => h.session.join('12-34')).to.throw(/9 digits/);
    expect(h.relay.made).to.have.length(0);
    expect(h.session.state).to.equal(Idle);
  });

  it('a patch that does not continue a live page is not news, and a customer who left stays left when it goes offline', async () => {
    const h = await at.live();
    h.patch();
    expect(h.session.state).to.equal(Live);
    left(h);
    customerOffline(h);
    expect(h.session.state).to.equal(Left);
  });

  it('reports the numbered frames it applied; waits for the snapshot the relay asked for, and asks itself after a malformed frame', async () => {
    const h = await at.waiting();
    const applied: Array<{ s: number; type: string }> = [];
    h.session.events.on('applied', (frame) => applied.push(frame));
    snapshot(h);
    outOfStep(h);
    h.patch();
    expect(applied).to.deep.equal([
      { s: 1, type: 'snapshot' },
      { s: 2, type: 'patch' },
    ]);
    expect(h.fake.frames('request-snapshot')).to.have.length(0, 'the relay asked the customer for it');
    h.fake.events.emit('message', '{"t":"patch"');
    expect(h.fake.frames('request-snapshot')).to.have.length(1);
  });

  it('a command resolves with the customer’s answer, and with a refusal when the session ends', async () => {
    const h = await at.live();
    const first = h.session.command({ a: 'reload' });
    const n = h.fake.last!.n as number;
    h.fake.receive({ t: 'control-result', n, ok: false, reason: 'The customer did not allow control' });
    expect(await first).to.deep.equal({ ok: false, reason: 'The customer did not allow control' });
    const second = h.session.command({ a: 'reload' });
    ended(h);
    expect(await second).to.deep.equal({ ok: false, reason: 'The session ended' });
    expect(await h.session.command({ a: 'reload' })).to.deep.equal({ ok: false, reason: 'Not connected' });
  });

  it('a refusal from the relay is said in words the agent understands', async () => {
    const h = await at.joining();
    const error = new Promise<{ code: string; message: string }>((resolve) => h.session.events.on('error', resolve));
    h.fake.receive({ t: 'error', code: 'session-taken', message: 'taken' });
    expect((await error).message).to.equal('Another agent is already connected to this session.');
    expect(h.session.state).to.equal(Error);
  });
});
