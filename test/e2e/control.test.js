// Remote control end to end, by mode: a real customer page and agent console through the real relay.
// What a mode allows takes effect on the customer's page; what it forbids is refused — by the
// customer's page and by the relay — even when a hand-written client sends it raw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mirrorPoint, settledMirrorPoint, startFromLauncher } from '../helpers/chromium.js';
import { demoSuite } from '../helpers/demo.js';
import { rawAgent } from '../helpers/raw-agent.js';
import { until } from '../helpers/wait.js';

const ctx = demoSuite();

async function party(url) {
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const frames = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameSent', (e) => frames.push(e.response.payloadData));
  page.on('pageerror', (error) => console.error(`page error on ${url}:`, error));
  await page.goto(url);
  return { context, page, frames };
}

/** A customer page sharing in `mode`, and an agent console watching it live. */
async function session(mode, { hostAllows = true, consentTimeout } = {}) {
  const customer = await party(`${ctx.demo.url}/`);
  const agent = await party(`${ctx.demo.url}/agent/`);
  await customer.page.evaluate(
    ({ mode, hostAllows, consentTimeout }) => {
      const launcher = document.querySelector('cobrowse-launcher');
      launcher.mode = mode;
      if (consentTimeout) launcher.consentTimeout = consentTimeout;
      // The host page may decide on control itself instead of the built-in prompt.
      if (hostAllows)
        launcher.addEventListener('cobrowse-control-request', (e) => {
          e.preventDefault();
          e.detail.allow();
        });
    },
    { mode, hostAllows, consentTimeout },
  );
  const code = await startFromLauncher(customer.page);
  const viewer = agent.page.locator('cobrowse-viewer');
  await viewer.locator('input#code').fill(code);
  await viewer.locator('button[type=submit]').click();
  await agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
  return { customer, agent, code, close: () => Promise.all([customer.context.close(), agent.context.close()]) };
}

/** Scrolls a customer element into view and waits for the mirror to follow. */
async function showOnBoth(s, selector) {
  await s.customer.page.locator(selector).scrollIntoViewIfNeeded();
  const y = await s.customer.page.evaluate(() => scrollY);
  await s.agent.page.waitForFunction(
    (y) => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentWindow.scrollY === y,
    y,
  );
}

async function clickInMirror(s, selector) {
  await showOnBoth(s, selector);
  const { x, y } = await settledMirrorPoint(s.agent.page, selector);
  await s.agent.page.mouse.click(x, y);
}

const notice = (s) => s.agent.page.locator('cobrowse-viewer').locator('[part=notice]');
const value = (s, selector) => s.customer.page.locator(selector).inputValue();

describe('remote control by mode', () => {
  it('full control: the agent co-fills a field, ticks a box, clicks a button and scrolls; both pointers show', async () => {
    const s = await session('full-control');
    await clickInMirror(s, '#name');
    const editor = s.agent.page.locator('cobrowse-viewer').locator('[part=editor]');
    await editor.waitFor();
    await s.agent.page.keyboard.type('Grace Hopper', { delay: 10 });
    await s.customer.page.waitForFunction(() => document.getElementById('name').value === 'Grace Hopper');
    await s.agent.page.keyboard.press('Enter');

    await clickInMirror(s, '#consent');
    await s.customer.page.waitForFunction(() => document.getElementById('consent').checked);

    await clickInMirror(s, '#submit');
    await s.customer.page.locator('#thanks').waitFor({ state: 'visible' });
    assert.match(await s.customer.page.locator('#thanks').textContent(), /Thanks, Grace/);

    // The agent's pointer is drawn on the customer's page, named; the customer's in the console.
    const { x, y } = await mirrorPoint(s.agent.page, '#submit');
    await s.agent.page.mouse.move(x + 5, y + 5);
    await s.customer.page.locator('cobrowse-launcher').locator('[part=agent-pointer]').waitFor();
    assert.match(await s.customer.page.locator('cobrowse-launcher').locator('[part=agent-pointer]').textContent(), /Demo agent/);
    await s.customer.page.mouse.move(200, 200);
    await s.agent.page.locator('cobrowse-viewer').locator('[part=customer-pointer]').waitFor();

    // The customer's connection is measured through the relay and shown in the toolbar.
    const link = s.agent.page.locator('cobrowse-viewer').locator('cobrowse-toolbar').locator('[part=link]');
    await s.agent.page.waitForFunction(() =>
      document
        .querySelector('cobrowse-viewer')
        .shadowRoot.querySelector('cobrowse-toolbar')
        .shadowRoot.querySelector('[part=link]')
        ?.textContent.includes('ms'),
    );
    assert.match(await link.textContent(), /Good · \d+ ms/);

    // Wheel over the mirror scrolls the customer's page.
    const before = await s.customer.page.evaluate(() => scrollY);
    await s.agent.page.mouse.wheel(0, -300);
    await s.customer.page.waitForFunction((before) => scrollY < before, before);
    await s.close();
  });

  it('navigation: the mirror follows the customer to a new page; the agent goes back, and cannot leave the session domains', async () => {
    const s = await session('partial-control');
    const toolbar = s.agent.page.locator('cobrowse-viewer').locator('cobrowse-toolbar');
    const address = toolbar.locator('[part=navigation] input');
    await address.fill(`${ctx.demo.url}/?step=2`);
    await address.press('Enter');
    await s.customer.page.waitForURL(/step=2/);
    // The launcher on the new page resumes the same session; the agent's mirror follows by itself.
    await s.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    await s.agent.page.waitForFunction(
      () => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('cobrowse-toolbar').url === location.origin + '/',
    );
    assert.equal(await s.customer.page.evaluate(() => document.querySelector('cobrowse-launcher').code), s.code);

    // The control grant ended with the page: the customer is asked again, and allows.
    await toolbar.getByLabel('Back').click();
    const consent = s.customer.page.locator('cobrowse-launcher').locator('[part=consent]');
    await consent.getByText('Allow').click();
    await s.customer.page.waitForURL((url) => !url.search.includes('step'));

    await s.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    await address.fill('https://evil.example/');
    await address.press('Enter');
    await notice(s).waitFor();
    assert.equal(await notice(s).textContent(), 'That address is outside this co-browsing session');
    await s.close();
  });

  it('partial control: buttons and links work, forms are locked on the agent side', async () => {
    const s = await session('partial-control');
    await s.customer.page.locator('#name').fill('Ada');
    await clickInMirror(s, '#name');
    await notice(s).waitFor();
    assert.equal(await notice(s).textContent(), 'Forms cannot be edited on the agent side');
    assert.equal(await s.agent.page.locator('cobrowse-viewer').locator('[part=editor]').count(), 0);
    await clickInMirror(s, '#submit');
    await s.customer.page.locator('#thanks').waitFor({ state: 'visible' });

    assert.equal(await value(s, '#name'), 'Ada', "the field keeps the customer's value");
    await s.close();
  });

  it('no control: clicks only point; raw commands are refused and change nothing', async () => {
    const s = await session('no-control');
    await clickInMirror(s, '#submit');
    await s.customer.page.locator('cobrowse-launcher').locator('[part=agent-pointer]').waitFor();
    assert.equal(await s.customer.page.locator('#thanks').isVisible(), false);

    // Free the session for a hand-written client, which bypasses the viewer entirely.
    await s.agent.page.evaluate(() => document.querySelector('cobrowse-viewer').remove()); // the viewer leaves (a dropped one's place is held)
    await s.customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'waiting'); // the relay freed the session
    const raw = await rawAgent(ctx.demo.url, s.code);
    for (const [n, frame] of [
      { a: 'input', id: raw.idOf('name'), value: 'hijacked' },
      { a: 'click', id: raw.idOf('submit'), x: 1, y: 1 },
      { a: 'navigate', url: 'https://evil.example/' },
    ].entries()) {
      raw.send({ t: 'control', n: n + 1, ...frame });
      const result = await raw.next((f) => f.t === 'control-result' && f.n === n + 1);
      assert.equal(result.ok, false);
      assert.match(result.reason, /no-control/);
    }
    assert.equal(await value(s, '#name'), '');
    assert.equal(await s.customer.page.locator('#thanks').isVisible(), false);
    assert.equal(new URL(s.customer.page.url()).host, new URL(ctx.demo.url).host);
    raw.ws.close();
    await s.customer.context.close();
  });

  it('refuses commands on masked fields on the customer side, even sent raw in full control', async () => {
    const s = await session('full-control');
    await s.customer.page.locator('#ssn').fill('123-45-6789');
    await s.customer.page.evaluate(() => document.activeElement?.blur());
    await s.agent.page.evaluate(() => document.querySelector('cobrowse-viewer').remove()); // the viewer leaves (a dropped one's place is held)
    await s.customer.page.waitForFunction(() => document.querySelector('cobrowse-launcher').state === 'waiting'); // the relay freed the session
    const raw = await rawAgent(ctx.demo.url, s.code);
    const attempts = [
      { a: 'input', id: raw.idOf('ssn'), value: '000-00-0000' },
      { a: 'click', id: raw.idOf('ssn'), x: 1, y: 1 },
      { a: 'input', id: raw.idOf('password'), value: 'typed-by-agent' },
    ];
    for (const [n, frame] of attempts.entries()) {
      raw.send({ t: 'control', n: n + 1, ...frame });
      const result = await raw.next((f) => f.t === 'control-result' && f.n === n + 1);
      assert.deepEqual([result.ok, result.reason], [false, 'This part of the page is private to the customer']);
    }
    assert.equal(await value(s, '#ssn'), '123-45-6789');
    assert.equal(await value(s, '#password'), '');
    assert.notEqual(await s.customer.page.evaluate(() => document.activeElement?.id), 'ssn', 'a masked field is never focused');
    // The same client may still fill an unmasked field: the refusal is about the field, not the agent.
    raw.send({ t: 'control', n: 9, a: 'input', id: raw.idOf('name'), value: 'Ada' });
    assert.equal((await raw.next((f) => f.t === 'control-result' && f.n === 9)).ok, true);
    assert.equal(await value(s, '#name'), 'Ada');
    raw.ws.close();
    await s.customer.context.close();
  });

  it('asks the customer before the first command: Deny refuses, Allow grants, silence is a no', async () => {
    const s = await session('full-control', { hostAllows: false, consentTimeout: 1500 });
    const launcher = s.customer.page.locator('cobrowse-launcher');
    await clickInMirror(s, '#consent');
    await launcher.locator('[part=consent]').waitFor();
    assert.match(await launcher.locator('[part=consent]').textContent(), /Demo agent wants to control this page/);
    await launcher.locator('[part=consent]').getByText('Deny').click();
    await notice(s).waitFor();
    assert.equal(await notice(s).textContent(), 'The customer did not allow control');
    assert.equal(await s.customer.page.locator('#consent').isChecked(), false);

    // After a Deny the same agent is not asked again for 30 s (the launcher's clock moves on instead of us waiting).
    await clickInMirror(s, '#consent');
    await s.agent.page.waitForFunction(
      () =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=notice]')?.textContent ===
        'The customer declined control; ask again in 30 s',
    );
    await s.customer.page.evaluate(() => (document.querySelector('cobrowse-launcher').clock = () => Date.now() + 30_000));
    await clickInMirror(s, '#consent');
    await launcher.locator('[part=consent]').waitFor();
    await launcher.locator('[part=consent]').getByText('Allow').click();
    await s.customer.page.waitForFunction(() => document.getElementById('consent').checked);

    // Taking control back: the next command asks again, and unanswered it is refused.
    await launcher.getByText('Take back control').click();
    await clickInMirror(s, '#consent');
    await launcher.locator('[part=consent]').waitFor();
    await s.agent.page.waitForFunction(
      () =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=notice]')?.textContent ===
        'The customer did not allow control',
    );
    assert.equal(await s.customer.page.locator('#consent').isChecked(), true);
    await s.close();
  });

  it('stop sharing pauses (nothing sent, agent told), start sharing resumes under the same ID', async () => {
    const s = await session('full-control');
    const launcher = s.customer.page.locator('cobrowse-launcher');
    await launcher.locator('[part=pause]').click(); // Stop sharing
    await s.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'paused');
    assert.match(await s.agent.page.locator('cobrowse-viewer').locator('[part=message]').textContent(), /paused sharing/);

    const sentBefore = s.customer.frames.length;
    const secret = `while-paused-${Date.now()}`;
    await s.customer.page.evaluate(
      (secret) => document.body.append(Object.assign(document.createElement('p'), { textContent: secret })),
      secret,
    );
    await s.customer.page.locator('#name').fill(secret);
    await s.customer.page.mouse.move(300, 300);
    // The marker: once the page's animation frames (its pointer is sent once a frame) have passed, the
    // agent asks for a reload, which the paused page refuses; anything the changes above sent is before that answer.
    await s.customer.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await s.agent.page.evaluate(() => document.querySelector('cobrowse-viewer').navigate({ action: 'reload' }));
    const isAnswer = (f) => JSON.parse(f).t === 'control-result';
    await until(() => s.customer.frames.slice(sentBefore).some(isAnswer), "the paused page's answer to the marker command");
    const sent = s.customer.frames.slice(sentBefore);
    const answer = sent.findIndex(isAnswer);
    assert.match(sent[answer], /The customer is not sharing the page/);
    const sentWhilePaused = sent.slice(0, answer);
    // Only the connection heartbeat answers (pong) may go out: nothing of the page.
    assert.deepEqual(
      sentWhilePaused.filter((f) => !f.startsWith('{"t":"pong"')),
      [],
      'nothing leaves the page while paused',
    );

    await launcher.locator('[part=pause]').click(); // Start sharing
    await s.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    assert.equal(
      await launcher
        .locator('[part=code]')
        .textContent()
        .then((t) => t.replace(/\s/g, '')),
      s.code,
    );
    await s.agent.page.waitForFunction(
      (secret) =>
        document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe').contentDocument.body.textContent.includes(secret),
      secret,
    );
    await s.close();
  });
});

describe('highlights', () => {
  it('in no-control mode too: drawn by the agent, shown on both sides, following the element, cleared and expiring', async () => {
    const s = await session('no-control');
    const viewer = s.agent.page.locator('cobrowse-viewer');
    const toolbar = viewer.locator('cobrowse-toolbar');
    await toolbar.getByText('Highlight', { exact: true }).click();
    await showOnBoth(s, '#submit');
    const box = await s.agent.page.evaluate(() => {
      const viewer = document.querySelector('cobrowse-viewer');
      const iframe = viewer.shadowRoot.querySelector('iframe');
      const layer = viewer.shadowRoot.querySelector('.input-layer').getBoundingClientRect();
      const scale = layer.width / iframe.offsetWidth;
      const r = iframe.contentDocument.querySelector('#submit').getBoundingClientRect();
      return {
        x1: layer.left + (r.left - 6) * scale,
        y1: layer.top + (r.top - 6) * scale,
        x2: layer.left + (r.right + 6) * scale,
        y2: layer.top + (r.bottom + 6) * scale,
      };
    });
    await s.agent.page.mouse.move(box.x1, box.y1);
    await s.agent.page.mouse.down();
    await s.agent.page.mouse.move(box.x2, box.y2, { steps: 5 });
    await s.agent.page.mouse.up();

    const customerMark = s.customer.page.locator('cobrowse-launcher').locator('[part=highlights] rect.mark');
    await customerMark.waitFor({ state: 'attached' });
    assert.equal(await viewer.locator('[part=highlights] rect.mark').count(), 1, 'the agent sees the mark too');
    const gap = async () => {
      const [mark, button] = await Promise.all([customerMark.boundingBox(), s.customer.page.locator('#submit').boundingBox()]);
      return [Math.round(mark.x - button.x), Math.round(mark.y - button.y)];
    };
    const before = await gap();
    assert.ok(Math.abs(before[0] + 6) <= 2 && Math.abs(before[1] + 6) <= 2, `the mark surrounds the button: ${before}`);
    // The marks are redrawn every frame: two frames after the scroll, the mark has followed or never will.
    await s.customer.page.evaluate(() => {
      scrollBy(0, -120);
      return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    });
    assert.deepEqual(await gap(), before, 'the mark follows the element as the page scrolls');

    await toolbar.getByText('Clear').click();
    await customerMark.waitFor({ state: 'detached' });
    assert.equal(await viewer.locator('[part=highlights] rect.mark').count(), 0);

    // A short-lived mark expires by itself on both sides.
    await s.agent.page.evaluate(() => (document.querySelector('cobrowse-viewer').highlightSeconds = 1));
    await s.agent.page.mouse.move(box.x1, box.y1);
    await s.agent.page.mouse.down();
    await s.agent.page.mouse.move(box.x2, box.y2, { steps: 3 });
    await s.agent.page.mouse.up();
    await customerMark.waitFor({ state: 'attached' });
    await customerMark.waitFor({ state: 'detached', timeout: 5000 });
    await viewer.locator('[part=highlights] rect.mark').waitFor({ state: 'detached', timeout: 5000 });
    await s.close();
  });
});
