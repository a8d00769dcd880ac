// Consent cannot be bombed: in a real customer page and agent console, after the customer denies
// control the agent's next clicks are refused unasked — the console says for how long — until the
// wait is over (the launcher's clock is moved on instead of waiting 30 s); then it asks again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settledMirrorPoint, startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';
import { until } from '../helpers/wait.js';

const ctx = demoSuite();

describe('control consent, end to end', () => {
  it('a Deny holds the next requests back for 30 s, said in the console; then the customer is asked again', async () => {
    const customerContext = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const agentContext = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const customer = await customerContext.newPage();
    const agent = await agentContext.newPage();
    await customer.goto(`${ctx.demo.url}/`);
    // The launcher's clock, moved on by the test instead of waiting.
    await customer.evaluate(() => {
      window.skew = 0;
      document.querySelector('cobrowse-launcher').clock = () => Date.now() + window.skew;
    });
    const code = await startFromLauncher(customer);
    await agent.goto(`${ctx.demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    await customer.locator('#submit').scrollIntoViewIfNeeded();
    const y = await customer.evaluate(() => scrollY);
    await agent.waitForFunction(
      (y) => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentWindow.scrollY === y,
      y,
    );
    const notice = () =>
      agent.evaluate(() => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=notice]')?.textContent);
    const prompt = customer.locator('cobrowse-launcher').locator('[part=consent]');
    const clickConsentBox = async () => {
      const { x, y } = await settledMirrorPoint(agent, '#consent');
      await agent.mouse.click(x, y);
    };

    await clickConsentBox();
    await prompt.getByText('Deny').click();
    await until(async () => (await notice()) === 'The customer did not allow control', 'the Deny in the console');

    await clickConsentBox();
    await until(
      async () => (await notice()) === 'The customer declined control; ask again in 30 s',
      async () => `the wait in the console (it says ${await notice()})`,
    );
    assert.equal(await prompt.count(), 0, 'the customer is not asked');

    await customer.evaluate(() => (window.skew = 30_000));
    await clickConsentBox();
    await prompt.waitFor();
    // Playwright waits for Allow to be enabled (its aria-disabled lifts after 500 ms).
    await prompt.getByText('Allow').click();
    await customer.waitForFunction(() => document.getElementById('consent').checked);
    await customerContext.close();
    await agentContext.close();
  });
});
