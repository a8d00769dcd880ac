import { css, unsafeCSS } from 'lit';
import { marksCss } from '../internal/highlights.js';

export const launcherStyles = css`
  :host {
    --_accent: var(--cobrowse-accent, #0b5fff);
    --_surface: var(--cobrowse-surface, #ffffff);
    --_text: var(--cobrowse-text, #14213d);
    --_muted: var(--cobrowse-muted, #5b6474);
    --_radius: var(--cobrowse-radius, 12px);
    --_shared: var(--cobrowse-shared-color, #e5484d);
    position: fixed;
    inset: auto 24px 24px auto;
    z-index: var(--cobrowse-z-index, 2147483000);
    font: 14px/1.4 var(--cobrowse-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    color: var(--_text);
  }
  :host([position='bottom-left']) {
    inset: auto auto 24px 24px;
  }
  /* Away from the agent's pointer while the control prompt shows: the opposite corner. */
  :host([dodge]) {
    inset: 24px auto auto 24px;
  }
  :host([dodge][position='bottom-left']) {
    inset: 24px 24px auto auto;
  }
  [aria-disabled='true'] {
    opacity: 0.6;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 8px;
    border: 1px solid transparent;
    padding: 8px 14px;
  }
  button:focus-visible {
    outline: 3px solid color-mix(in srgb, var(--_accent) 45%, transparent);
    outline-offset: 2px;
  }
  .trigger {
    display: flex;
    align-items: center;
    gap: 8px;
    margin-left: auto;
    padding: 12px 18px;
    border-radius: 999px;
    background: var(--_accent);
    color: #fff;
    box-shadow: 0 6px 20px rgb(0 0 0 / 0.18);
    font-weight: 600;
  }
  .trigger[data-shared] {
    background: var(--_shared);
  }
  .panel {
    width: 300px;
    margin-bottom: 12px;
    padding: 18px;
    background: var(--_surface);
    border-radius: var(--_radius);
    box-shadow: 0 12px 40px rgb(0 0 0 / 0.2);
  }
  h2 {
    margin: 0 0 6px;
    font-size: 16px;
  }
  p {
    margin: 0 0 12px;
    color: var(--_muted);
  }
  .code {
    display: block;
    margin: 4px 0 8px;
    font: 600 32px/1.2 ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
    letter-spacing: 0.06em;
    color: var(--_text);
  }
  .primary {
    background: var(--_accent);
    color: #fff;
  }
  .secondary {
    background: transparent;
    border-color: color-mix(in srgb, var(--_text) 25%, transparent);
    color: var(--_text);
  }
  .danger {
    background: transparent;
    border-color: var(--_shared);
    color: #b4232a;
  }
  .actions {
    display: flex;
    gap: 8px;
    flex-wrap: wrap;
  }
  .error {
    color: #b4232a;
  }
  .frame {
    position: fixed;
    inset: 0;
    border: 4px solid var(--_shared);
    pointer-events: none;
  }
  .agent-pointer {
    position: fixed;
    width: 20px;
    height: 20px;
    pointer-events: none;
    transition: left 60ms linear, top 60ms linear;
  }
  .agent-pointer .arrow {
    position: absolute;
    width: 20px;
    height: 20px;
    clip-path: polygon(0 0, 100% 60%, 55% 62%, 35% 100%);
    background: var(--_accent);
    filter: drop-shadow(0 1px 1px rgb(0 0 0 / 0.4));
  }
  .agent-pointer .name {
    position: absolute;
    left: 16px;
    top: 18px;
    padding: 1px 6px;
    border-radius: 4px;
    background: var(--_accent);
    color: #fff;
    font-size: 12px;
    white-space: nowrap;
  }
  .agent-pointer .ripple {
    position: absolute;
    width: 30px;
    height: 30px;
    margin: -15px 0 0 -15px;
    border-radius: 50%;
    border: 2px solid var(--_accent);
    animation: ripple 0.6s ease-out forwards;
  }
  @keyframes ripple {
    from { transform: scale(0.3); opacity: 1; }
    to { transform: scale(1.6); opacity: 0; }
  }
  .marks-layer {
    position: fixed;
    inset: 0;
    pointer-events: none;
  }
  ${unsafeCSS(marksCss)}
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
