// The mirror cannot take the agent console's focus or keys: a customer page opens a modal dialog
// (which, opened with showModal(), focuses its first field) while the agent types into the console;
// the mirror shows the dialog open and on top, and the agent's keystrokes keep going where they went.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';
import { until } from '../helpers/wait.js';

const ctx = demoSuite();

/** The agent page's focused element, through shadow roots: a description of it. */
const focused = (page) =>
  page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.localName}${el.getAttribute('part') ? `[part=${el.getAttribute('part')}]` : ''}` : 'none';
  });

describe("the agent's console keeps its focus", () => {
  it('while the customer opens a modal dialog: shown open and on top in the mirror, the agent typing on', async () => {
    const customerContext = await ctx.browser.newContext();
    const agentContext = await ctx.browser.newContext();
    const customer = await customerContext.newPage();
    const agent = await agentContext.newPage();
    await customer.goto(`${ctx.demo.url}/`);
    await customer.evaluate(() =>
      document.body.insertAdjacentHTML(
        'beforeend',
        `<style>#confirm::backdrop { background: rgb(200 0 0 / 0.5); }</style>
         <dialog id="confirm"><p>Are you sure?</p><input id="dialog-field"><button id="dialog-ok">OK</button></dialog>`,
      ),
    );
    const code = await startFromLauncher(customer);
    await agent.goto(`${ctx.demo.url}/agent/?code=${code}`);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');

    // The agent starts typing an address in its toolbar.
    const address = agent.locator('cobrowse-viewer').locator('cobrowse-toolbar').locator('[part=navigation] input');
    await address.click();
    await address.clear();
    await agent.keyboard.type('abc');
    const typingInto = await focused(agent);

    await customer.evaluate(() => document.getElementById('confirm').showModal());
    const mirrored = () =>
      agent.evaluate(() => {
        const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument;
        const dialog = doc.getElementById('confirm');
        if (!dialog?.open) return null;
        const view = doc.defaultView;
        return {
          // In the mirror's top layer (so over the page, with the customer's ::backdrop), not just open in place.
          modal: dialog.matches(':modal'),
          position: view.getComputedStyle(dialog).position,
          backdrop: view.getComputedStyle(dialog, '::backdrop').backgroundColor,
          onTop: doc.elementFromPoint(view.innerWidth / 2, view.innerHeight / 2)?.closest('#confirm') === dialog,
          focusedInMirror: doc.activeElement?.localName ?? 'none',
        };
      });
    const shown = await until(mirrored, 'the mirror to show the dialog open');
    assert.deepEqual(shown, { modal: true, position: 'fixed', backdrop: 'rgba(200, 0, 0, 0.5)', onTop: true, focusedInMirror: 'body' });
    assert.equal(await focused(agent), typingInto, "the console's field keeps the focus");

    // The keys the agent types go on into its field, none into the mirror.
    await agent.keyboard.type('def');
    assert.equal(await address.inputValue(), 'abcdef');
    assert.equal(
      await agent.evaluate(
        () =>
          document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.getElementById('dialog-field').value,
      ),
      '',
    );
    // Tab from the console's field never lands in the mirror either.
    await agent.keyboard.press('Tab');
    assert.notEqual(await agent.evaluate(() => document.querySelector('cobrowse-viewer').shadowRoot.activeElement?.localName), 'iframe');
    await customerContext.close();
    await agentContext.close();
  });
});
