// Partial control: the agent clicks buttons and links, but changes no form — whatever its client
// sends. A hand-written agent client clicks every kind of form control (and the labels that pass
// clicks on to them) on a real customer page; the customer's page refuses each, and nothing changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';
import { rawAgent } from '../helpers/raw-agent.js';

const LOCKED = 'Forms cannot be edited on the agent side';

const ctx = demoSuite();

/** Everything a click could change on the demo's form, as the customer left it. */
const formState = (page) =>
  page.evaluate(() => ({
    consent: document.getElementById('consent').checked,
    news: document.getElementById('news').checked,
    plan: document.querySelector('input[name=plan]:checked')?.value,
    amount: document.getElementById('amount').value,
    name: document.getElementById('name').value,
    notes: document.getElementById('notes').textContent,
    focused: document.activeElement?.id ?? '',
  }));

describe('partial control', () => {
  it("refuses clicks that would change a form field, in the customer's page; other clicks work", async () => {
    const context = await ctx.browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error('customer page error:', error));
    await page.goto(`${ctx.demo.url}/`);
    await page.evaluate(() => {
      const launcher = document.querySelector('cobrowse-launcher');
      launcher.mode = 'partial-control';
      // The host page allows control at once: what is refused below is refused by the mode, not by consent.
      launcher.addEventListener('cobrowse-control-request', (e) => {
        e.preventDefault();
        e.detail.allow();
      });
      // More kinds of form control than the demo has, inside its form.
      const form = document.getElementById('application');
      form.insertAdjacentHTML(
        'beforeend',
        `<fieldset id="extra">
          <input type="radio" name="plan" id="plan-a" value="a" checked><input type="radio" name="plan" id="plan-b" value="b">
          <input type="checkbox" id="news"><label for="news" id="news-label">News<b id="news-bold">letter</b></label>
          <div contenteditable id="notes">Customer's notes</div>
          <button type="reset" id="reset">Reset</button>
          <button type="button" id="plain">Plain button</button>
        </fieldset>`,
      );
      document.querySelector('label.check').id = 'consent-label';
      document.querySelector('label.check span').id = 'consent-text';
      document.querySelector('#amount option[value="50000"]').id = 'amount-50k';
      let presses = 0;
      document.getElementById('plain').addEventListener('click', () => (document.getElementById('plain').dataset.presses = ++presses));
    });
    await page.locator('#name').fill('Ada');
    await page.evaluate(() => document.activeElement?.blur());
    const code = await startFromLauncher(page);
    const before = await formState(page);

    const agent = await rawAgent(ctx.demo.url, code);
    const clicks = {
      checkbox: 'consent',
      'label wrapping a checkbox': 'consent-label',
      'text inside that label': 'consent-text',
      radio: 'plan-b',
      'label[for] of a checkbox': 'news-label',
      'element inside a label[for]': 'news-bold',
      select: 'amount',
      option: 'amount-50k',
      contenteditable: 'notes',
      'reset button': 'reset',
      'text field': 'name',
    };
    for (const [what, id] of Object.entries(clicks)) {
      const result = await agent.command({ a: 'click', id: agent.idOf(id), x: 1, y: 1 });
      assert.deepEqual([result.ok, result.reason], [false, LOCKED], `a click on a ${what} is refused`);
    }
    // The edits themselves are refused too (by the relay first; the page would as well).
    for (const frame of [
      { a: 'check', id: agent.idOf('news'), checked: true },
      { a: 'select', id: agent.idOf('amount'), value: '50000' },
      { a: 'input', id: agent.idOf('name'), value: 'hijacked' },
    ]) {
      const result = await agent.command(frame);
      assert.deepEqual([result.ok, result.reason], [false, 'Not allowed in partial-control mode']);
    }

    // The marker: an allowed click, answered after all of the above were.
    const pressed = await agent.command({ a: 'click', id: agent.idOf('plain'), x: 1, y: 1 });
    assert.equal(pressed.ok, true, 'a plain button is clicked');
    assert.equal(await page.evaluate(() => document.getElementById('plain').dataset.presses), '1');
    assert.deepEqual({ ...(await formState(page)), focused: before.focused }, before, 'no field changed');
    assert.notEqual((await formState(page)).focused, 'notes', 'the editable content was never focused');
    agent.close();
    await context.close();
  });
});
