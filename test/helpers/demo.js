// The demo (its relay in dev mode, the customer page, the agent console) and Chromium, for the e2e suites.
import { after, before } from 'node:test';
import { startDemo } from '../../dist/demo/server.js';
import { launchChromium } from './chromium.js';

/** Starts the demo and a Chromium before a describe block (or a file) and closes both after: `ctx.demo`, `ctx.browser`. */
export function demoSuite() {
  const ctx = {};
  before(async () => {
    ctx.demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    ctx.browser = await launchChromium();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.demo?.close();
  });
  return ctx;
}
