import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html, type TemplateResult } from 'lit';
import { fn } from 'storybook/test';
import type { CobrowseLauncher } from '../components/launcher/cobrowse-launcher.js';
import '../components/launcher/cobrowse-launcher.js';
import { Mode } from '../core/protocol/index.js';
import { Theme } from './themes.js';

type LauncherArgs = Pick<CobrowseLauncher, 'relay' | 'mode' | 'mask' | 'position' | 'open'> & {
  onCobrowseSessionCreated: (event: Event) => void;
  onCobrowseStateChange: (event: Event) => void;
  onCobrowseAgentJoined: (event: Event) => void;
  onCobrowseEnded: (event: Event) => void;
};

/**
 * A stand-in for the customer's site. The launcher is `position: fixed`; the transform makes this box
 * its containing block, so it sits in this box's corner here and in the docs page.
 */
const customerPage = (launcher: TemplateResult) => html`<div
  style="position:relative; height:460px; overflow:hidden; transform:translateZ(0); border:1px solid rgb(128 128 128 / 0.3); border-radius:8px; padding:24px; box-sizing:border-box"
>
  <h2 style="margin:0 0 8px">Northwind Bank · Loan application</h2>
  <p style="max-width:420px; opacity:0.8">Step 2 of 4: income and employment. Questions? Your advisor can look at this page with
    you: open <em>Co-browsing</em> in the corner.</p>
  ${launcher}
</div>`;

const launcher = (args: LauncherArgs) =>
  html`<cobrowse-launcher .relay=${args.relay} .mode=${args.mode} .mask=${args.mask}
    position=${args.position} ?open=${args.open}
    @cobrowse-session-created=${args.onCobrowseSessionCreated}
    @cobrowse-state-change=${args.onCobrowseStateChange}
    @cobrowse-agent-joined=${args.onCobrowseAgentJoined}
    @cobrowse-ended=${args.onCobrowseEnded}></cobrowse-launcher>`;

/**
 * The customer's launcher. Without a relay it shows its idle states only: every state after
 * "Start co-browsing" (waiting with the session ID, agent viewing, reconnecting, ended, error) needs a session.
 * Set `relay` to a running relay (`npx cobrowse-relay --port 8090` → `ws://127.0.0.1:8090/relay`) to try the real flow.
 */
const meta = {
  title: 'Customer/Launcher',
  component: 'cobrowse-launcher',
  tags: ['autodocs'],
  render: (args) => customerPage(launcher(args)),
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
  },
  argTypes: {
    mode: { control: 'select', options: Object.values(Mode) },
    position: { control: 'inline-radio', options: ['bottom-right', 'bottom-left'] },
    open: { control: 'boolean' },
  },
} satisfies Meta<LauncherArgs>;

export default meta;
type Story = StoryObj<LauncherArgs>;

/** What a visitor sees first: one button in the corner. */
export const Closed: Story = {};

/** The idle panel, before a session exists. */
export const Open: Story = { args: { open: true } };

export const BottomLeft: Story = { args: { open: true, position: 'bottom-left' } };

export const Dark: Story = { args: { open: true }, globals: { theme: Theme.Dark } };

/** A site's brand through the `--cobrowse-*` custom properties and `::part()`. */
export const Branded: Story = {
  args: { open: true },
  render: (args) => html`<style>
      .branded-launcher cobrowse-launcher {
        --cobrowse-accent: #0f766e;
        --cobrowse-surface: #f0fdfa;
        --cobrowse-radius: 4px;
        --cobrowse-font: Georgia, serif;
      }
      .branded-launcher cobrowse-launcher::part(trigger) { border-radius: 4px; }
    </style>
    <div class="branded-launcher">${customerPage(launcher(args))}</div>`,
};
