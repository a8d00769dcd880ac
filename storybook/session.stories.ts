import type { Meta, StoryContext, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import '../components/launcher/cobrowse-launcher.js';
import '../components/viewer/cobrowse-viewer.js';
import { AgentState, Mode } from '../core/index.js';
import { AGENT_SIDE, demoPage, liveOf, until, withLive } from './live.js';
import { Theme } from './themes.js';

interface SessionArgs {
  /** The session's mode, chosen by the customer's launcher. */
  mode: Mode;
}

/**
 * Both sides of a session in one story, on an in-memory relay: the customer's page with its launcher on
 * the left, the agent's viewer on the right (kept out of the recording with the launcher's `block`).
 * The session starts by itself; then type in the form, move the mouse over either side, click into the
 * mirror (the customer is asked first) or draw with the toolbar's Highlight tools.
 */
const meta = {
  title: 'Live/Session',
  tags: ['autodocs'],
  beforeEach: withLive,
  args: { mode: Mode.Full },
  argTypes: { mode: { control: 'select', options: Object.values(Mode) } },
  parameters: { docs: { story: { inline: false, iframeHeight: 620 } } },
  render: (args, context) => {
    const { relay } = liveOf(context);
    return html`<div style="display:grid; grid-template-columns:minmax(360px, 1fr) 1.2fr; gap:16px; min-height:560px">
      <section aria-label="Customer's page" style="position:relative; padding:16px; border:1px solid rgb(128 128 128 / 0.3); border-radius:8px">
        ${demoPage()}
        <cobrowse-launcher allow-framed position="bottom-left" .relay=${relay.url} .connection=${relay.connection} .mode=${args.mode} .block=${AGENT_SIDE}></cobrowse-launcher>
      </section>
      <section aria-label="Agent's console" data-story-agent>
        <cobrowse-viewer style="height:560px" name="Alice" assets="direct" .relay=${relay.url} .connection=${relay.connection}></cobrowse-viewer>
      </section>
    </div>`;
  },
} satisfies Meta<SessionArgs>;

export default meta;
type Story = StoryObj<SessionArgs>;

/** The customer starts, the agent joins with the code; the agent points at a field and the customer's pointer shows too. */
async function connect(context: Pick<StoryContext, 'canvasElement' | 'id'>): Promise<void> {
  const root = context.canvasElement;
  const launcher = root.querySelector('cobrowse-launcher')!;
  const viewer = root.querySelector('cobrowse-viewer')!;
  await Promise.all([launcher.updateComplete, viewer.updateComplete]);
  const created = liveOf(context).relay.nextSession();
  await launcher.start();
  viewer.join(await created);
  await until(() => viewer.state === AgentState.Live);
  // The customer's pointer, as their mouse would move it (the viewer draws it on the mirror).
  const email = root.querySelector('#email')!.getBoundingClientRect();
  document.dispatchEvent(new MouseEvent('mousemove', { clientX: email.right - 30, clientY: email.bottom - 4, bubbles: true }));
  // The agent's pointer over the income field, as the agent's mouse over the mirror moves it.
  const layer = viewer.shadowRoot!.querySelector('.input-layer')!;
  const mirror = viewer.shadowRoot!.querySelector('iframe')!;
  await until(() => mirror.offsetWidth && layer.getBoundingClientRect().width);
  const scale = layer.getBoundingClientRect().width / mirror.offsetWidth;
  const origin = layer.getBoundingClientRect();
  const field = mirror.contentDocument!.getElementById('income')!.getBoundingClientRect();
  const at = (x: number, y: number) => ({ clientX: origin.left + x * scale, clientY: origin.top + y * scale, bubbles: true });
  // A highlight mark around it, drawn with the toolbar's rectangle tool (left on: clicks draw until it is turned off).
  viewer.highlight('rect');
  await viewer.updateComplete;
  layer.dispatchEvent(new MouseEvent('mousedown', at(field.left - 6, field.top - 6)));
  layer.dispatchEvent(new MouseEvent('mousemove', at(field.right + 6, field.bottom + 6)));
  layer.dispatchEvent(new MouseEvent('mouseup', at(field.right + 6, field.bottom + 6)));
  layer.dispatchEvent(new MouseEvent('mousemove', at(field.right - 20, field.top + field.height / 2)));
}

/** A real mirror, real pointers and a real highlight, with nothing but this page. */
export const LiveSession: Story = { name: 'Live session', play: connect };

export const LiveSessionDark: Story = { name: 'Live session (dark)', globals: { theme: Theme.Dark }, play: connect };

/** View only: the agent sees and points, the toolbar says so, clicks into the mirror are refused. */
export const ViewOnly: Story = { name: 'Live session, view only', args: { mode: Mode.None }, play: connect };
