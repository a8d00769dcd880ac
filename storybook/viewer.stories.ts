import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { expect, fn, waitFor } from 'storybook/test';
import type { CobrowseViewer } from '../components/viewer/cobrowse-viewer.js';
import '../components/viewer/cobrowse-viewer.js';
import { Theme } from './themes.js';

type ViewerArgs = Pick<CobrowseViewer, 'relay' | 'name'> & {
  onCobrowseJoined: (event: Event) => void;
  onCobrowseStateChange: (event: Event) => void;
  onCobrowseEnded: (event: Event) => void;
};

/**
 * The agent's view. Without a relay it shows the join form and its validation; joining, waiting,
 * live, customer away, reconnecting and ended need a session. The live mirror itself, fed by the
 * real recorder, is in Engine/Mirror.
 */
const meta = {
  title: 'Agent/Viewer',
  component: 'cobrowse-viewer',
  tags: ['autodocs'],
  render: (args) => html`<cobrowse-viewer style="height:420px" .relay=${args.relay} .name=${args.name}
    @cobrowse-joined=${args.onCobrowseJoined}
    @cobrowse-state-change=${args.onCobrowseStateChange}
    @cobrowse-ended=${args.onCobrowseEnded}></cobrowse-viewer>`,
  args: { relay: '', name: 'Agent', onCobrowseJoined: fn(), onCobrowseStateChange: fn(), onCobrowseEnded: fn() },
} satisfies Meta<ViewerArgs>;

export default meta;
type Story = StoryObj<ViewerArgs>;

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

export const Dark: Story = { globals: { theme: Theme.Dark } };
