/**
 * The control prompt cannot be bombed or click-jacked: after a Deny (or no answer) the same agent is
 * refused unasked for 30 s, doubling with each Deny in a row; Allow ignores clicks and keys for its
 * first 500 ms; the prompt keeps away from the agent's pointer. A hand-driven agent against the real
 * relay, and a clock the test moves.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../components/launcher/cobrowse-launcher.js';
import type { CobrowseLauncher } from '../../components/launcher/cobrowse-launcher.js';
import { clearSession } from '../../core/persistence.js';
import { RawPeer, RELAY_URL } from '../helpers/relay.js';
import { until } from '../helpers/wait.js';

type Frame = Record<string, unknown>;
type Tree = [number, number, ...unknown[]];

/** The node ID of the element with this id attribute in a snapshot. */
function idIn(snapshot: Frame, elementId: string): number {
  const stack = [snapshot.doc as Tree];
  while (stack.length) {
    const node = stack.pop()!;
    if (node[0] === 1) {
      const attrs = node[3] as string[];
      for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === 'id' && attrs[i + 1] === elementId) return node[1];
      stack.push(...(node[4] as Tree[]));
    } else if (node[0] === 9) stack.push(...(node[2] as Tree[]));
  }
  throw new Error(`#${elementId} not in the snapshot`);
}

/** An agent that joined, with the target button's node ID, sending numbered commands. */
class Agent {
  readonly peer = new RawPeer();
  target = 0;
  private n = 0;

  async join(code: string, name: string): Promise<this> {
    await this.peer.send({ t: 'join', v: 1, code, name });
    this.target = idIn(await this.peer.next('snapshot'), 'target');
    return this;
  }

  /** Sends a click on the target; resolves with its control-result whenever it comes. */
  async click(): Promise<Frame> {
    const n = ++this.n;
    await this.peer.send({ t: 'control', n, a: 'click', id: this.target, x: 1, y: 1 });
    return until(() => this.peer.frames.find((f) => f.t === 'control-result' && f.n === n));
  }
}

let now = 1_000_000;
let clicks = 0;

async function sharing(): Promise<{ el: CobrowseLauncher; agent: Agent; code: string }> {
  clicks = 0;
  const box = await fixture<HTMLDivElement>(html`<div>
    <button id="target" @click=${() => clicks++}>Target</button>
    <cobrowse-launcher relay=${RELAY_URL} .clock=${() => now}></cobrowse-launcher>
  </div>`);
  const el = box.querySelector('cobrowse-launcher')!;
  await el.start();
  const code = await until(() => el.code, 'a session ID');
  const agent = await new Agent().join(code, 'Dana');
  await until(() => el.state === 'connected', 'the agent to be connected');
  return { el, agent, code };
}

const prompt = (el: CobrowseLauncher) => el.shadowRoot!.querySelector<HTMLElement>('[part=consent]');
const allowButton = (el: CobrowseLauncher) => prompt(el)!.querySelector<HTMLButtonElement>('button.primary')!;
const denyButton = (el: CobrowseLauncher) => prompt(el)!.querySelector<HTMLButtonElement>('button.secondary')!;
const asked = (el: CobrowseLauncher) => until(() => el.updateComplete.then(() => prompt(el)), 'the control prompt');
const declined = (seconds: number) => `The customer declined control; ask again in ${seconds} s`;

describe('control consent', () => {
  beforeEach(() => clearSession());
  afterEach(() => clearSession());

  it('Allow ignores clicks, Enter and Space for the first 500 ms after the prompt appears', async () => {
    const { el, agent } = await sharing();
    const result = agent.click();
    await asked(el);
    await expect(el).to.be.accessible();
    expect(allowButton(el).getAttribute('aria-disabled')).to.equal('true');

    allowButton(el).click();
    allowButton(el).focus();
    await sendKeys({ press: 'Enter' });
    // ' ', not 'Space': Firefox's WebDriver BiDi knows keys by the character they type.
    await sendKeys({ press: ' ' });
    now += 499;
    allowButton(el).click();
    await el.updateComplete;
    expect(prompt(el), 'still asking').to.exist;
    expect(clicks).to.equal(0);

    now += 1;
    el.requestUpdate();
    await el.updateComplete;
    expect(allowButton(el).getAttribute('aria-disabled')).to.equal('false');
    allowButton(el).focus();
    await sendKeys({ press: 'Enter' });
    expect((await result).ok).to.equal(true);
    expect(clicks).to.equal(1);
  });

  it('after a Deny or no answer, refuses unasked for 30 s, then 60, 120…; Allow starts the count over', async () => {
    const { el, agent } = await sharing();
    let result = agent.click();
    await asked(el);
    denyButton(el).click();
    expect((await result).reason).to.equal('The customer did not allow control');

    // Asked again at once: refused with the wait, and the customer sees nothing.
    expect((await agent.click()).reason).to.equal(declined(30));
    await el.updateComplete;
    expect(prompt(el)).to.equal(null);
    now += 29_001;
    expect((await agent.click()).reason).to.equal(declined(1));

    // No answer counts as a Deny: the wait doubles.
    now += 999;
    el.consentTimeout = 50;
    expect((await agent.click()).reason).to.equal('The customer did not allow control');
    expect((await agent.click()).reason).to.equal(declined(60));
    now += 60_000;
    el.consentTimeout = 30_000;
    result = agent.click();
    await asked(el);
    denyButton(el).click();
    await result;
    expect((await agent.click()).reason).to.equal(declined(120));
    expect(clicks).to.equal(0);

    now += 120_000;
    result = agent.click();
    await asked(el);
    now += 500;
    allowButton(el).click();
    expect((await result).ok).to.equal(true);

    // Control taken back: the next request asks at once, and a Deny waits 30 s again.
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part=panel] .actions button')!.click(); // Take back control
    result = agent.click();
    await asked(el);
    denyButton(el).click();
    await result;
    expect((await agent.click()).reason).to.equal(declined(30));
  });

  it('another agent is asked at once', async () => {
    const { el, agent, code } = await sharing();
    const result = agent.click();
    await asked(el);
    denyButton(el).click();
    await result;
    expect((await agent.click()).reason).to.equal(declined(30));

    await agent.peer.send({ t: 'leave' });
    await until(() => el.state === 'waiting', 'the agent to leave');
    const other = await new Agent().join(code, 'Eve');
    other.click().catch(() => {}); // left unanswered
    await asked(el);
    expect(prompt(el)!.textContent).to.contain('Eve wants to control this page');
  });

  it("is never shown under the agent's pointer: it moves to the other corner, and Allow waits again", async () => {
    const { el, agent } = await sharing();
    await el.updateComplete;
    const home = el.getBoundingClientRect();
    const pointAt = async (x: number, y: number) => {
      [x, y] = [Math.round(x), Math.round(y)];
      await agent.peer.send({ t: 'pointer', x, y });
      await until(() => {
        const arrow = el.shadowRoot!.querySelector<HTMLElement>('[part=agent-pointer]');
        return arrow?.style.left === `${x}px` && arrow.style.top === `${y}px`;
      }, 'the agent pointer drawn there');
    };
    const under = (x: number, y: number) => {
      [x, y] = [Math.round(x), Math.round(y)];
      const r = prompt(el)!.getBoundingClientRect();
      return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
    };
    // The agent points at where the prompt is about to appear, then asks for control.
    const [x, y] = [home.left + home.width / 2, home.bottom - 80];
    await pointAt(x, y);
    const result = agent.click();
    await asked(el);
    expect(el.hasAttribute('dodge'), 'moved').to.equal(true);
    expect(under(x, y)).to.equal(false);
    expect(el.getBoundingClientRect().right).to.be.below(home.left, 'to the other side');

    // It follows the prompt: the prompt moves back, and Allow waits its 500 ms from then.
    now += 400;
    const moved = prompt(el)!.getBoundingClientRect();
    await pointAt(moved.left + moved.width / 2, moved.top + moved.height / 2);
    await until(() => el.updateComplete.then(() => !el.hasAttribute('dodge')), 'the prompt to move back');
    expect(under(moved.left + moved.width / 2, moved.top + moved.height / 2)).to.equal(false);
    now += 400;
    allowButton(el).click();
    await el.updateComplete;
    expect(prompt(el), 'Allow waits again after a move').to.exist;
    now += 100;
    allowButton(el).click();
    expect((await result).ok).to.equal(true);
    expect(el.hasAttribute('dodge'), 'back in its corner once answered').to.equal(false);
  });
});
