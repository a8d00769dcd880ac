// Auto-fit and zoom: a 1920×1080 customer viewport fits a 1280×720 agent window without
// scrollbars, aspect kept; the zoom buttons change the scale, and the agent scrolls the mirror
// at any zoom. Two real pages, the real relay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';

describe('auto-fit and zoom', () => {
  const ctx = demoSuite();

  it('fits 1920×1080 into 1280×720 without scrollbars; zoom buttons change the scale', async () => {
    const customer = await (await ctx.browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    const agent = await (await ctx.browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await customer.goto(`${ctx.demo.url}/`);
    const code = await startFromLauncher(customer);
    await agent.goto(`${ctx.demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');

    /** The mirror's scale and the stage's scrollbars, as the agent's page lays them out. */
    const layout = () =>
      agent.evaluate(() => {
        const viewer = document.querySelector('cobrowse-viewer');
        const stage = viewer.shadowRoot.querySelector('[part=stage]');
        const iframe = viewer.shadowRoot.querySelector('iframe[part=mirror]');
        const shown = iframe.getBoundingClientRect();
        return {
          mirror: [iframe.offsetWidth, iframe.offsetHeight],
          scale: shown.width / iframe.offsetWidth,
          aspect: shown.width / shown.height,
          scrollbars: stage.scrollWidth > stage.clientWidth || stage.scrollHeight > stage.clientHeight,
          window: [innerWidth, innerHeight],
          fitsWindow: shown.right <= innerWidth && shown.bottom <= innerHeight,
          zoomText: viewer.shadowRoot.querySelector('cobrowse-toolbar').shadowRoot.querySelector('[part=zoom] output').textContent,
        };
      });
    /**
     * The layout once the viewer and its toolbar have rendered what changed, and a rendering step has
     * passed with no render pending after it (the stage's ResizeObserver, which refits, runs in one).
     */
    const settled = async () => {
      await agent.evaluate(async () => {
        const viewer = document.querySelector('cobrowse-viewer');
        const toolbar = viewer.shadowRoot.querySelector('cobrowse-toolbar');
        do {
          await viewer.updateComplete;
          await toolbar.updateComplete;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        } while (viewer.isUpdatePending || toolbar.isUpdatePending);
      });
      return layout();
    };

    const fit = await settled();
    assert.deepEqual(fit.mirror, [1920, 1080], "the mirror has the customer's viewport");
    assert.ok(fit.scale < 1 && fit.scale > 0.4, `scaled down to fit (${fit.scale})`);
    assert.ok(Math.abs(fit.aspect - 1920 / 1080) < 0.01, `aspect kept (${fit.aspect})`);
    assert.equal(fit.scrollbars, false, 'no scrollbars when fitted');
    assert.ok(fit.fitsWindow, 'the whole page shows in the window');

    const toolbar = agent.locator('cobrowse-viewer').locator('cobrowse-toolbar');
    await toolbar.locator('button', { hasText: '100%' }).click();
    const full = await settled();
    assert.equal(full.scale, 1, '100% shows the page at its size');
    assert.equal(full.zoomText, '100%');
    assert.equal(full.scrollbars, true, 'at 100% the agent scrolls the mirror');
    // The agent scrolls the stage (its own view; the customer's page does not move).
    await agent.evaluate(() => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=stage]').scrollBy(300, 200));
    const scrolled = await agent.evaluate(() => {
      const stage = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=stage]');
      return [stage.scrollLeft, stage.scrollTop];
    });
    assert.deepEqual(scrolled, [300, 200]);
    assert.deepEqual(await customer.evaluate(() => [scrollX, scrollY]), [0, 0]);

    await toolbar.getByRole('button', { name: 'Zoom out' }).click();
    const out = await settled();
    assert.ok(out.scale < 1 && out.scale > 0.7, `zoom out scales down (${out.scale})`);
    await toolbar.getByRole('button', { name: 'Auto-fit' }).click();
    const again = await settled();
    assert.ok(Math.abs(again.scale - fit.scale) < 0.01 && !again.scrollbars, 'auto-fit again');
  });
});
