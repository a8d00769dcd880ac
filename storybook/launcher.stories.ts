import type { Meta, StoryContext, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { fn } from 'storybook/test';
import type { CobrowseLauncher } from '../components/launcher/cobrowse-launcher.js';
import '../components/launcher/cobrowse-launcher.js';
import { Action, AgentState, CloseCode, CustomerState, ErrorCode, Mode } from '../core/index.js';
import { AGENT_SIDE, headlessAgent, liveOf, until, withLive, demoPage } from './live.js';
import { Theme } from './themes.js';

type LauncherArgs = Pick<CobrowseLauncher, 'relay' | 'mode' | 'mask' | 'position' | 'open'> & {
  onCobrowseSessionCreated: (event: Event) => void;
  onCobrowseStateChange: (event: Event) => void;
  onCobrowseAgentJoined: (event: Event) => void;
  onCobrowseEnded: (event: Event) => void;
  onCobrowseControlRequest: (event: Event) => void;
};

/** A stand-in for the customer's site; the launcher floats in the story's corner as on a real page. */
const render = (args: LauncherArgs, context: StoryContext) => {
  const { relay } = liveOf(context);
  return html`<div style="min-height:480px; padding:24px; box-sizing:border-box; border:1px solid rgb(128 128 128 / 0.3); border-radius:8px">
    ${demoPage()}
    <cobrowse-launcher allow-framed .relay=${args.relay || relay.url} .connection=${args.relay ? undefined : relay.connection}
      .mode=${args.mode} .mask=${args.mask} .block=${AGENT_SIDE} position=${args.position} ?open=${args.open}
      @cobrowse-session-created=${args.onCobrowseSessionCreated}
      @cobrowse-state-change=${args.onCobrowseStateChange}
      @cobrowse-agent-joined=${args.onCobrowseAgentJoined}
      @cobrowse-ended=${args.onCobrowseEnded}
      @cobrowse-control-request=${args.onCobrowseControlRequest}></cobrowse-launcher>
  </div>`;
};

/**
 * The customer's launcher. Every story runs live on an in-memory relay of its own (storybook/loopback.ts):
 * press "Start co-browsing" and the session is real. The state stories drive it there through the relay,
 * with a scripted agent (an AgentSession whose mirror is hidden) on the other end. Set `relay` to a
 * running relay (`npx cobrowse-relay --port 8090` → `ws://127.0.0.1:8090/relay`) to use that instead.
 */
const meta = {
  title: 'Customer/Launcher',
  component: 'cobrowse-launcher',
  tags: ['autodocs'],
  beforeEach: withLive,
  render,
  args: {
    relay: '',
    mode: Mode.Full,
    mask: '',
    position: 'bottom-right',
    open: false,
    onCobrowseSessionCreated: fn(),
    onCobrowseStateChange: fn(),
    onCobrowseAgentJoined: fn(),
    onCobrowseEnded: fn(),
    onCobrowseControlRequest: fn(),
  },
  argTypes: {
    relay: { description: "WebSocket URL of a running relay; empty: the story's in-memory relay" },
    mode: { control: 'select', options: Object.values(Mode) },
    position: { control: 'inline-radio', options: ['bottom-right', 'bottom-left'] },
    open: { control: 'boolean' },
  },
  parameters: {
    // Each story in a frame of its own: the launcher is position: fixed, and the agent's pointer and marks use viewport coordinates.
    docs: { story: { inline: false, iframeHeight: 540 } },
  },
} satisfies Meta<LauncherArgs>;

export default meta;
type Story = StoryObj<LauncherArgs>;

// ─── Scenario steps, through the loopback relay ───────────────────────────────

const launcherOf = (context: StoryContext) => context.canvasElement.querySelector('cobrowse-launcher')!;

/** The customer presses Start; resolves with the session's code once the launcher shows it. */
async function start(context: StoryContext): Promise<string> {
  const launcher = launcherOf(context);
  await launcher.updateComplete;
  const created = liveOf(context).relay.nextSession();
  await launcher.start();
  const code = await created;
  await until(() => launcher.state === CustomerState.Waiting);
  return code;
}

/** A scripted agent joins, points at the income field and marks it. */
async function agentJoins(context: StoryContext) {
  const launcher = launcherOf(context);
  const code = await start(context);
  const agent = headlessAgent(liveOf(context), context.canvasElement, code, 'Alice');
  await until(() => launcher.state === CustomerState.Connected && agent.session.state === AgentState.Live);
  const income = context.canvasElement.querySelector('#income')!;
  const box = income.getBoundingClientRect();
  agent.session.pointer(box.right - 24, box.top + box.height / 2);
  const target = agent.mirror.idOfNode(agent.mirror.document.getElementById('income')!);
  if (target !== undefined) {
    agent.session.highlight({ id: 1, kind: 'rect', target, points: [-6, -6, box.width + 6, box.height + 6], ttl: 600_000 });
  }
  return { launcher, agent, income };
}

/** Nothing but a button in the corner, until the visitor opens it. */
export const Closed: Story = {};

/** The idle panel, before a session exists: "Start co-browsing" starts one on the story's relay. */
export const Open: Story = { args: { open: true } };

export const BottomLeft: Story = { args: { open: true, position: 'bottom-left' } };

/** The session exists; the customer reads the 9-digit ID to the agent. */
export const Waiting: Story = { play: async (context) => void (await start(context)) };

/** An agent joined: the page is shared (red frame), the agent's pointer and a highlight mark are drawn on it. */
export const AgentConnected: Story = { play: async (context) => void (await agentJoins(context)) };

/** The customer stopped sharing; the session and its ID live on. */
export const Paused: Story = {
  play: async (context) => {
    const { launcher } = await agentJoins(context);
    launcher.stopSharing();
    await until(() => launcher.state === CustomerState.Paused);
  },
};

/** The agent clicked into the page: the customer is asked first (the consent prompt). */
export const ControlRequest: Story = {
  play: async (context) => {
    const { launcher, agent } = await agentJoins(context);
    const terms = agent.mirror.idOfNode(agent.mirror.document.getElementById('terms')!)!;
    void agent.session.command({ a: Action.Check, id: terms, checked: true }); // answered when the customer decides
    await until(() => launcher.shadowRoot!.querySelector('[part=consent]'));
  },
};

/** The agent may control the page: the customer allowed it and can take control back. */
export const AgentInControl: Story = {
  play: async (context) => {
    const { launcher, agent } = await agentJoins(context);
    const terms = agent.mirror.idOfNode(agent.mirror.document.getElementById('terms')!)!;
    const result = agent.session.command({ a: Action.Check, id: terms, checked: true });
    // Allow ignores clicks for its first 500 ms (against click-jacking): click once it says it takes them.
    const allow = () => launcher.shadowRoot!.querySelector<HTMLButtonElement>('[part=consent] button.primary[aria-disabled=false]');
    await until(allow);
    allow()!.click();
    await result;
  },
};

/** Partial control: the agent may click, scroll and navigate, never type. */
export const PartialControl: Story = { args: { mode: Mode.Partial }, play: AgentConnected.play };

/** View only: the agent sees and points, nothing more. */
export const NoControl: Story = { args: { mode: Mode.None }, play: AgentConnected.play };

export const EndedByAgent: Story = {
  play: async (context) => {
    const { launcher, agent } = await agentJoins(context);
    agent.session.end();
    await until(() => launcher.state === CustomerState.Ended);
  },
};

export const EndedByCustomer: Story = {
  play: async (context) => {
    const { launcher } = await agentJoins(context);
    launcher.end();
    await until(() => launcher.state === CustomerState.Ended);
  },
};

/** Nobody joined in time: the relay ends the session as `expired`. */
export const Expired: Story = {
  play: async (context) => {
    await start(context);
    liveOf(context).relay.expire();
    await until(() => launcherOf(context).state === CustomerState.Ended);
  },
};

/** The relay refused the session (here: too many sessions from this address). */
export const ErrorState: Story = {
  name: 'Error',
  play: async (context) => {
    const launcher = launcherOf(context);
    await launcher.updateComplete;
    liveOf(context).relay.refuseNext(ErrorCode.RateLimited, 'Too many live sessions from this address', CloseCode.RateLimited);
    await launcher.start();
    await until(() => launcher.state === CustomerState.Error);
  },
};

export const Dark: Story = { globals: { theme: Theme.Dark }, play: AgentConnected.play };

/** A site's brand through the `--cobrowse-*` custom properties and `::part()`. */
export const Branded: Story = {
  args: { open: true },
  render: (args, context) => html`<style>
      .branded-launcher cobrowse-launcher {
        --cobrowse-accent: #0f766e;
        --cobrowse-surface: #f0fdfa;
        --cobrowse-radius: 4px;
        --cobrowse-font: Georgia, serif;
      }
      .branded-launcher cobrowse-launcher::part(trigger) { border-radius: 4px; }
    </style>
    <div class="branded-launcher">${render(args, context)}</div>`,
};
