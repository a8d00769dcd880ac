import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { fn } from 'storybook/test';
import type { CobrowseToolbar } from '../components/toolbar/cobrowse-toolbar.js';
import '../components/toolbar/cobrowse-toolbar.js';
import { AgentState } from '../core/index.js';
import { Mode } from '../core/protocol/index.js';
import { Theme } from './themes.js';

type ToolbarArgs = Pick<CobrowseToolbar, 'mode' | 'state' | 'code' | 'lang'> & {
  /** Logged in the Actions panel. */
  onCobrowseCloseRequest: (event: Event) => void;
};

const CODE = '123456789';
const MODES = Object.values(Mode);
const STATES = Object.values(AgentState);

const toolbar = ({ mode, state, code, lang, onCobrowseCloseRequest }: ToolbarArgs, className = '') =>
  html`<cobrowse-toolbar class=${className} .mode=${mode} .state=${state} .code=${code} .lang=${lang}
    @cobrowse-close-request=${onCobrowseCloseRequest}></cobrowse-toolbar>`;

/**
 * The agent's session toolbar. `<cobrowse-viewer>` shows one at its top and sets its properties from
 * the session; it also stands alone, e.g. in a console's own header.
 */
const meta = {
  title: 'Agent/Toolbar',
  component: 'cobrowse-toolbar',
  tags: ['autodocs'],
  render: (args) => toolbar(args),
  args: { mode: Mode.Full, state: AgentState.Live, code: CODE, lang: '', onCobrowseCloseRequest: fn() },
  argTypes: {
    mode: { control: 'select', options: ['', ...MODES] },
    state: { control: 'select', options: STATES },
    code: { control: 'text' },
    lang: { control: 'select', options: ['', 'en', 'de', 'es', 'fr'] },
  },
} satisfies Meta<ToolbarArgs>;

export default meta;
type Story = StoryObj<ToolbarArgs>;

/** Before a session: no ID, no mode, and nothing to close. */
export const Idle: Story = { args: { state: AgentState.Idle, mode: '', code: '' } };
/** Connecting to the relay; the mode is not known until the session is joined. */
export const Joining: Story = { args: { state: AgentState.Joining, mode: '' } };
/** Joined; the customer's page is on its way. */
export const Waiting: Story = { args: { state: AgentState.Waiting } };
export const Live: Story = {};
/** Joined, but the customer's connection is gone for now. */
export const CustomerAway: Story = { args: { state: AgentState.CustomerAway } };
/** The agent's own connection dropped; the session resumes by itself. */
export const Reconnecting: Story = { args: { state: AgentState.Reconnecting } };
export const Ended: Story = { args: { state: AgentState.Ended } };
/** The viewer shows the error; the toolbar only stops offering Close. */
export const ErrorState: Story = { name: 'Error', args: { state: AgentState.Error, mode: '' } };

/** Its texts in French (`lang="fr"`), as `<cobrowse-viewer lang>` gives its built-in toolbar. */
export const French: Story = { args: { lang: 'fr' } };

export const FullControl: Story = { args: { mode: Mode.Full } };
export const PartialControl: Story = { args: { mode: Mode.Partial } };
export const NoControl: Story = { args: { mode: Mode.None } };

/** Every mode in every state, for a design review at a glance. */
export const AllModesAndStates: Story = {
  // Every mode and state is shown; only the ID is left to set.
  argTypes: { mode: { control: false }, state: { control: false } },
  render: (args) => html`<div style="display:grid; grid-template-columns:max-content 1fr; gap:8px 16px; align-items:center">
    ${MODES.flatMap((mode) => STATES.map((state) => html`<code>${mode} · ${state}</code>${toolbar({ ...args, mode, state })}`))}
  </div>`,
};

/** The same in the dark theme: only `--cobrowse-*` custom properties change. */
export const AllModesAndStatesDark: Story = { ...AllModesAndStates, name: 'All modes and states (dark)', globals: { theme: Theme.Dark } };

/** Theming from the host page: custom properties for colors and font, `::part()` for the rest. */
export const Branded: Story = {
  render: (args) => html`<style>
      .branded {
        --cobrowse-toolbar-background: #2b124c;
        --cobrowse-toolbar-text: #f7f1ff;
        --cobrowse-accent: #e0b3ff;
        --cobrowse-font: Georgia, serif;
      }
      .branded::part(bar) { border-radius: 10px; }
      .branded::part(mode) { color: #f7f1ff; }
      .branded::part(close) { color: #ffd1dc; border-color: #ffd1dc; }
    </style>
    ${toolbar(args, 'branded')}`,
};
