import { css, unsafeCSS } from 'lit';
import { marksCss } from '../internal/highlights.js';

export const viewerStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 320px;
    font: 14px/1.4 var(--cobrowse-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    color: var(--cobrowse-text, #14213d);
    background: var(--cobrowse-stage-background, #dfe3ea);
  }
  .stage {
    position: relative;
    flex: 1;
    /* Room for the join form even when the page gives the viewer no height. */
    min-height: 280px;
    overflow: hidden;
    display: grid;
    place-items: center;
  }
  /* Zoomed by hand, the page may be larger than the stage: the agent scrolls the stage. */
  .stage[data-zoomed] {
    overflow: auto;
    place-items: start center;
  }
  .screen {
    position: relative;
    background: #fff;
    box-shadow: 0 4px 24px rgb(0 0 0 / 0.15);
    overflow: hidden;
  }
  .screen[hidden] {
    display: block;
    visibility: hidden;
    position: absolute;
  }
  iframe {
    display: block;
    border: 0;
    transform-origin: 0 0;
    background: #fff;
    /* The agent's input never reaches the customer's page through the mirror itself. */
    pointer-events: none;
  }
  .input-layer {
    position: absolute;
    inset: 0;
    cursor: default;
  }
  .input-layer[data-drawing] {
    cursor: crosshair;
  }
  ${unsafeCSS(marksCss)}
  .pointer {
    position: absolute;
    width: 18px;
    height: 18px;
    margin: -2px 0 0 -2px;
    pointer-events: none;
    clip-path: polygon(0 0, 100% 60%, 55% 62%, 35% 100%);
    background: var(--cobrowse-customer-pointer, #e5484d);
    filter: drop-shadow(0 1px 1px rgb(0 0 0 / 0.4));
  }
  .ripple {
    position: absolute;
    width: 28px;
    height: 28px;
    margin: -14px 0 0 -14px;
    border-radius: 50%;
    border: 2px solid var(--cobrowse-accent, #0b5fff);
    pointer-events: none;
    animation: ripple 0.6s ease-out forwards;
  }
  @keyframes ripple {
    from { transform: scale(0.3); opacity: 1; }
    to { transform: scale(1.6); opacity: 0; }
  }
  .editor {
    position: absolute;
    box-sizing: border-box;
    margin: 0;
    padding: 2px 6px;
    border: 2px solid var(--cobrowse-accent, #0b5fff);
    border-radius: 4px;
    background: #fff;
    font-family: inherit;
  }
  .notice {
    position: absolute;
    left: 50%;
    bottom: 16px;
    transform: translateX(-50%);
    padding: 8px 14px;
    border-radius: 8px;
    background: #14213d;
    color: #fff;
    box-shadow: 0 6px 20px rgb(0 0 0 / 0.2);
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    background: rgb(223 227 234 / 0.85);
  }
  .card {
    max-width: 360px;
    padding: 24px;
    background: var(--cobrowse-surface, #fff);
    border-radius: var(--cobrowse-radius, 12px);
    box-shadow: 0 12px 40px rgb(0 0 0 / 0.15);
    text-align: center;
  }
  form {
    display: grid;
    gap: 10px;
    text-align: left;
  }
  label {
    font-weight: 600;
  }
  input {
    font: 600 22px/1.2 ui-monospace, 'SF Mono', Menlo, Consolas, monospace;
    letter-spacing: 0.08em;
    padding: 8px 10px;
    border: 1px solid #aab2c0;
    border-radius: 8px;
  }
  button {
    font: inherit;
    font-weight: 600;
    cursor: pointer;
    padding: 10px 14px;
    border: 0;
    border-radius: 8px;
    background: var(--cobrowse-accent, #0b5fff);
    color: #fff;
  }
  button:focus-visible,
  input:focus-visible {
    outline: 3px solid rgb(11 95 255 / 0.45);
    outline-offset: 2px;
  }
  .error {
    margin: 0;
    color: #b4232a;
  }
  p {
    margin: 0 0 12px;
  }
`;
