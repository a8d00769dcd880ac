import type { Meta, StoryContext, StoryObj } from '@storybook/web-components-vite';
import { html, nothing } from 'lit';
import { expect, fn, waitFor } from 'storybook/test';
import type { CobrowseViewer } from '../components/viewer/cobrowse-viewer.js';
import '../components/viewer/cobrowse-viewer.js';
import { AgentState, Mode } from '../core/index.js';
import { customerFrame, liveOf, until, withLive } from './live.js';
import { Link } from './loopback.js';
import { Theme } from './themes.js';

type ViewerArgs = Pick<CobrowseViewer, 'relay' | 'name' | 'lang'> & {
  onCobrowseSessionJoined: (event: Event) => void;
  onCobrowseStateChange: (event: Event) => void;
  onCobrowseEnded: (event: Event) => void;
};

interface Parameters {
  /** Show a customer's page (shared by a CustomerSession) beside the viewer, in this mode. */
  customer?: Mode;
}

const viewerOf = (context: StoryContext) => context.canvasElement.querySelector('cobrowse-viewer')!;

/**
 * The agent's view. Every story runs on an in-memory relay of its own (storybook/loopback.ts); the live
 * ones put the customer's page beside the viewer (type or move the mouse in it) and join its session.
 */
const meta = {
  title: 'Agent/Viewer',
  component: 'cobrowse-viewer',
  tags: ['autodocs'],
  beforeEach: withLive,
  render: (args, context) => {
    const live = liveOf(context);
    const mode = (context.parameters as Parameters).customer;
    const customer = mode ? customerFrame(live, mode).frame : nothing;
    return html`<div style="display:flex; gap:16px; align-items:flex-start">
      ${customer}
      <cobrowse-viewer style="height:440px; flex:1; min-width:320px" .relay=${args.relay || live.relay.url}
        assets=${args.relay ? 'proxy' : 'direct'}
        .connection=${args.relay ? undefined : live.relay.connection} .name=${args.name} .lang=${args.lang}
        @cobrowse-session-joined=${args.onCobrowseSessionJoined}
        @cobrowse-state-change=${args.onCobrowseStateChange}
        @cobrowse-ended=${args.onCobrowseEnded}></cobrowse-viewer>
    </div>`;
  },
  args: { relay: '', name: 'Alice', lang: '', onCobrowseSessionJoined: fn(), onCobrowseStateChange: fn(), onCobrowseEnded: fn() },
  argTypes: {
    relay: { description: "WebSocket URL of a running relay; empty: the story's in-memory relay" },
    lang: { control: 'select', options: ['', 'en', 'de', 'es', 'fr'] },
  },
} satisfies Meta<ViewerArgs>;

export default meta;
type Story = StoryObj<ViewerArgs>;

/** Joins the customer's session and waits for the mirror; the customer's pointer crosses their page. */
async function joinLive(context: StoryContext): Promise<CobrowseViewer> {
  const viewer = viewerOf(context);
  const code = await liveOf(context).relay.nextSession();
  await viewer.updateComplete;
  viewer.join(code);
  await until(() => viewer.state === AgentState.Live);
  const page = context.canvasElement.querySelector('iframe[title="Customer\'s page"]') as HTMLIFrameElement;
  const income = page.contentDocument!.getElementById('income')!.getBoundingClientRect();
  page.contentDocument!.dispatchEvent(
    new MouseEvent('mousemove', { clientX: income.left + 40, clientY: income.bottom + 6, bubbles: true }),
  );
  return viewer;
}

/** The agent draws a rectangle around the income field on the mirror: it shows on both pages. */
async function highlightIncome(viewer: CobrowseViewer): Promise<void> {
  const root = viewer.shadowRoot!;
  const layer = root.querySelector('.input-layer')!;
  const mirror = root.querySelector('iframe')!;
  const field = mirror.contentDocument!.getElementById('income')!.getBoundingClientRect();
  const scale = layer.getBoundingClientRect().width / mirror.offsetWidth;
  const origin = layer.getBoundingClientRect();
  const at = (x: number, y: number) => ({ clientX: origin.left + x * scale, clientY: origin.top + y * scale, bubbles: true });
  viewer.highlight('rect');
  await viewer.updateComplete;
  layer.dispatchEvent(new MouseEvent('mousedown', at(field.left - 6, field.top - 6)));
  layer.dispatchEvent(new MouseEvent('mousemove', at(field.right + 6, field.bottom + 6)));
  layer.dispatchEvent(new MouseEvent('mouseup', at(field.right + 6, field.bottom + 6)));
}

/** Idle: the agent types the 9-digit ID the customer reads out. */
export const JoinForm: Story = {};

/** A malformed ID is refused before anything is sent: `viewer.join('123')`. */
export const InvalidSessionId: Story = {
  name: 'Invalid session ID',
  play: async ({ canvasElement }) => {
    const viewer = canvasElement.querySelector('cobrowse-viewer')!;
    await viewer.updateComplete;
    viewer.join('123');
    await waitFor(() => expect(viewer.shadowRoot!.querySelector('[role=alert]')).toBeTruthy());
  },
};

/** No session has this ID: the relay says so. */
export const SessionNotFound: Story = {
  play: async (context) => {
    const viewer = viewerOf(context);
    await viewer.updateComplete;
    viewer.join('123 456 789');
    await until(() => viewer.state === AgentState.Error);
  },
};

/** The customer's page, live: their pointer, and a highlight mark the agent drew (on both pages). */
export const Live: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => highlightIncome(await joinLive(context)),
};

export const PartialControl: Story = { parameters: { customer: Mode.Partial }, play: async (context) => void (await joinLive(context)) };
export const NoControl: Story = { parameters: { customer: Mode.None }, play: async (context) => void (await joinLive(context)) };

/** The customer stopped sharing. */
export const Paused: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    const viewer = await joinLive(context);
    (await liveOf(context).customer)!.stopSharing();
    await until(() => viewer.state === AgentState.Paused);
  },
};

/** The customer's page went away (tab closed, network gone): the viewer waits for it. */
export const CustomerAway: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    const viewer = await joinLive(context);
    (await liveOf(context).customer)!.dispose(); // as the launcher does when its page goes away
    context.canvasElement.querySelector('iframe[title="Customer\'s page"]')!.remove();
    await until(() => viewer.state === AgentState.CustomerAway);
  },
};

/** The customer's answers to pings come late (through the loopback relay): the toolbar shows a slow link. */
export const SlowConnection: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    liveOf(context).relay.link = Link.Slow;
    const viewer = await joinLive(context);
    await until(() => viewer.toolbarState.link === 'slow', 6_000);
  },
};

/** The customer's answers to pings are lost: after two missed pings (about 4 s) the toolbar shows offline. */
export const OfflineConnection: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    liveOf(context).relay.link = Link.Offline;
    await joinLive(context);
  },
};

export const EndedByCustomer: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    const viewer = await joinLive(context);
    (await liveOf(context).customer)!.end();
    await until(() => viewer.state === AgentState.Ended);
  },
};

export const EndedByAgent: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    const viewer = await joinLive(context);
    viewer.end();
    await until(() => viewer.state === AgentState.Ended);
  },
};

export const Expired: Story = {
  parameters: { customer: Mode.Full },
  play: async (context) => {
    const viewer = await joinLive(context);
    liveOf(context).relay.expire();
    await until(() => viewer.state === AgentState.Ended);
  },
};

/** The viewer and its toolbar in German (`lang="de"`; German, Spanish and French ship, `registerViewerStrings` adds more). */
export const German: Story = {
  args: { lang: 'de' },
  parameters: { customer: Mode.Full },
  play: async (context) => void (await joinLive(context)),
};

export const Dark: Story = { parameters: { customer: Mode.Full }, globals: { theme: Theme.Dark }, play: Live.play };
