// Navigation stays on the session's origins: a hand-written agent client asks a real customer page
// to go to its own host on another port, and to a listed host on another port; both are refused in
// the customer's page, which stays put; the listed host on the page's port is allowed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';
import { rawAgent } from '../helpers/raw-agent.js';

const ctx = demoSuite();

describe('navigation by the agent', () => {
  it("goes to the page's origin and the listed domains on its port, not to another port", async () => {
    const context = await ctx.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${ctx.demo.url}/`);
    await page.evaluate(() => {
      const launcher = document.querySelector('cobrowse-launcher');
      launcher.domains = 'localhost';
      launcher.addEventListener('cobrowse-control-request', (e) => {
        e.preventDefault();
        e.detail.allow();
      });
    });
    const code = await startFromLauncher(page);
    const agent = await rawAgent(ctx.demo.url, code);
    const other = ctx.demo.port === 65535 ? 65534 : ctx.demo.port + 1; // nothing needs to listen there: it is never fetched
    for (const url of [`http://127.0.0.1:${other}/`, `http://localhost:${other}/`]) {
      const result = await agent.command({ a: 'navigate', url });
      assert.deepEqual([result.ok, result.reason], [false, 'That address is outside this co-browsing session'], url);
    }
    assert.equal(page.url(), `${ctx.demo.url}/`, 'the page stayed');

    // The marker: the listed host on the page's own port is allowed, and the page goes there.
    const listed = `http://localhost:${ctx.demo.port}/?listed`;
    assert.equal((await agent.command({ a: 'navigate', url: listed })).ok, true);
    await page.waitForURL(listed);
    agent.close();
    await context.close();
  });
});
