// The mirror never runs the customer's page: hostile content reaches the agent's console two ways
// — from a real customer page through the launcher, and as frames forged by a hand-written
// customer client — and in the agent's page a sentinel global stays undefined, no script runs
// (no console message about one), the console does not navigate, and it requests no canary URL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startDemo } from '../../dist/demo/server.js';
import { fetchAfterFrames, launchChromium, startFromLauncher } from '../helpers/chromium.js';
import { until } from '../helpers/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Script that marks the agent's page if it ever runs there (in the customer's page it runs, harmlessly). */
const PWN = (id) => `top.__pwned=(top.__pwned||[]).concat('${id}')`;
const JS = (id) => `javascript:${PWN(id)}`;

/** Vectors on a real page: [id, HTML]. The page is the customer's own; it may run them itself. */
function pageVectors(canary) {
  const c = (id) => `${canary}/${id}`;
  return [
    ['script', `<script>/* customer's own */</script>`],
    ['img-onerror', `<img src="x-missing.png" onerror="${PWN('img-onerror')}">`],
    ['svg-onload', `<svg onload="${PWN('svg-onload')}" width="10" height="10"></svg>`],
    ['iframe-srcdoc', `<iframe srcdoc="<script>${PWN('iframe-srcdoc')}</script>"></iframe>`],
    ['iframe-src', `<iframe src="${c('iframe-src')}"></iframe>`],
    ['iframe-js', `<iframe src="${JS('iframe-js')}"></iframe>`],
    ['iframe-data', `<iframe src="data:text/html,<script>${PWN('iframe-data')}</script>"></iframe>`],
    ['a-js', `<a id="a-js" href="${JS('a-js')}">js link</a>`],
    ['a-js-case', `<a href="JaVaScRiPt:${PWN('a-js-case')}">case</a>`],
    ['a-js-space', `<a href=" &#10;javascript:${PWN('a-js-space')}">space</a>`],
    ['a-vbscript', `<a href="vbscript:msgbox(1)">vb</a>`],
    ['a-data', `<a href="data:text/html,<script>${PWN('a-data')}</script>">data</a>`],
    ['css-expression', `<div style="width: expression(${PWN('css-expression')})">expr</div>`],
    ['css-js-url', `<div style="background-image: url('${JS('css-js-url')}')">bg</div>`],
    ['style-import', `<style>@import url("${JS('style-import')}");</style>`], // (a CSS @import of a stylesheet is a resource, as the page loads it)
    ['meta-refresh', `<meta http-equiv="refresh" content="600;url=${c('meta-refresh')}">`],
    ['base', `<base href="/based/">`], // the page's own URLs resolve against it; the mirror holds none (checked below)
    ['form', `<form action="${c('form')}" method="post"><input name="q" value="v"><button id="form-submit">Go</button></form>`],
    ['formaction', `<form><button formaction="${JS('formaction')}">fa</button></form>`],
    ['object', `<object data="${c('object')}" type="text/html"></object>`],
    ['object-data-html', `<object data="data:text/html,<script>${PWN('object-data-html')}</script>"></object>`],
    ['embed', `<embed src="${c('embed')}">`],
    ['embed-js', `<embed src="${JS('embed-js')}">`],
    ['link-prefetch', `<link rel="prefetch" href="${c('link-prefetch')}">`],
    ['link-preload', `<link rel="preload" as="script" href="${c('link-preload')}">`],
    ['link-modulepreload', `<link rel="modulepreload" href="${c('link-modulepreload')}">`],
    ['link-css-js', `<link rel="stylesheet" href="${JS('link-css-js')}">`],
    ['svg-a-js', `<svg width="20" height="20"><a href="${JS('svg-a-js')}"><text y="10">x</text></a></svg>`],
    ['svg-xlink-js', `<svg width="20" height="20"><a xlink:href="${JS('svg-xlink-js')}"><text y="10">y</text></a></svg>`],
    [
      'svg-animate',
      `<svg width="20" height="20"><a id="anim"><animate attributeName="href" to="${JS('svg-animate')}" begin="0s"/><text y="10">z</text></a></svg>`,
    ],
    [
      'svg-set',
      `<svg width="20" height="20"><rect width="5" height="5"><set attributeName="onmouseover" to="${PWN('svg-set')}"/></rect></svg>`,
    ],
    ['svg-script', `<svg><script>/* customer's own */</script></svg>`],
    [
      'svg-foreign',
      `<svg width="50" height="50"><foreignObject width="50" height="50"><iframe srcdoc="<script>${PWN('svg-foreign')}</script>"></iframe></foreignObject></svg>`,
    ],
    ['math-js', `<math><maction actiontype="statusline" xlink:href="${JS('math-js')}"><mtext>m</mtext></maction></math>`],
    ['img-srcset-js', `<img srcset="${JS('img-srcset-js')} 1x" alt="s">`],
    ['video-poster', `<video poster="${JS('video-poster')}"></video>`],
    ['input-image', `<input type="image" src="${JS('input-image')}" alt="i">`],
    ['details-toggle', `<details open ontoggle="${PWN('details-toggle')}"><summary>d</summary>t</details>`],
    ['marquee', `<marquee onstart="${PWN('marquee')}">m</marquee>`],
    ['noscript', `<noscript><img src="x-missing.png" onerror="${PWN('noscript')}"></noscript>`],
    ['template', `<template><script>${PWN('template')}</script><img src="x" onerror="${PWN('template-img')}"></template>`],
    ['autofocus', `<input autofocus onfocus="${PWN('autofocus')}">`],
    ['audio-onerror', `<audio src="x-missing.mp3" onerror="${PWN('audio-onerror')}"></audio>`],
    ['body-onload', `<div id="late"></div>`], // an onload set on <body> by script, below
    ['shadow', `<div id="shadow-host"></div>`], // an <img onerror> inside an open shadow root, below
  ];
}

/** The customer's page: the vectors and the launcher, on its own origin. */
async function startCustomerSite(relayUrl) {
  const bundle = await readFile(path.join(ROOT, 'dist/cobrowse.js'));
  const canaryHits = [];
  const server = createServer((req, res) => {
    const { port } = server.address();
    const canary = `http://127.0.0.1:${port}/canary`;
    if (req.url.startsWith('/canary')) {
      canaryHits.push(req.url);
      return res.writeHead(204).end();
    }
    if (req.url === '/cobrowse.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    const vectors = pageVectors(canary);
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>hostile</title></head><body>
      ${vectors.map(([id, html]) => `<section data-vector="${id}">${html}</section>`).join('\n')}
      <cobrowse-launcher relay="${relayUrl}"></cobrowse-launcher>
      <script>
        document.body.setAttribute('onload', ${JSON.stringify(PWN('body-onload'))});
        document.getElementById('shadow-host').attachShadow({ mode: 'open' }).innerHTML = ${JSON.stringify(`<img src="x-missing.png" onerror="${PWN('shadow')}">`)};
        window.__vectors = ${vectors.length};
      </script>
      <script type="module" src="/cobrowse.js"></script></body></html>`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    canary: `http://127.0.0.1:${port}/canary`,
    canaryHits,
    count: pageVectors('').length,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Watches the agent's page: script messages, navigations, canary requests (and every request, for the markers). */
function watchAgent(page, canary) {
  const seen = { console: [], navigations: [], canary: [], requests: [] };
  page.on('console', (msg) => seen.console.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => seen.console.push(`pageerror: ${err.message}`));
  page.on('framenavigated', (frame) => frame === page.mainFrame() && seen.navigations.push(frame.url()));
  page.context().on('request', (req) => {
    seen.requests.push(req.url());
    if (req.url().startsWith(canary)) seen.canary.push(req.url());
  });
  return seen;
}

/** What the agent's page shows of an attack: the sentinel in its window and in the mirror's. */
const sentinels = (page) =>
  page.evaluate(() => {
    const mirror = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]');
    return { top: window.__pwned ?? null, mirror: mirror?.contentWindow?.__pwned ?? null };
  });

/** Structure the mirror must never hold, whatever came in. */
const forbidden = (page) =>
  page.evaluate(() => {
    const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]').contentDocument;
    const found = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        const name = el.localName;
        if (['script', 'object', 'embed', 'base'].includes(name)) found.push(`<${name}>`);
        if (name === 'meta' && el.hasAttribute('http-equiv')) found.push('<meta http-equiv>');
        if (
          name === 'iframe' &&
          (el.getAttribute('src') || el.hasAttribute('srcdoc')) &&
          !el.srcdoc?.startsWith('<!doctype html><meta charset')
        ) {
          if (el.getAttribute('src') && !/^about:blank$/.test(el.getAttribute('src'))) found.push(`<iframe src=${el.getAttribute('src')}>`);
        }
        for (const attr of el.attributes) {
          if (/^on/i.test(attr.name)) found.push(`${name}[${attr.name}]`);
          // eslint-disable-next-line no-control-regex -- browsers ignore control characters in URLs; so does this check
          if (/^\s*(javascript|vbscript):/i.test(attr.value.replace(/[\u0000-\u0020]/g, '')))
            found.push(`${name}[${attr.name}=${attr.value.slice(0, 20)}]`);
          if (/^\s*data:text\/html/i.test(attr.value)) found.push(`${name}[${attr.name}=data:text/html]`);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(doc);
    return found;
  });

/** The marker the customer's side sends after the vectors: an image and an SVG animation, both harmless. */
const MARKER = (origin) =>
  `<img id="marker-img" src="${origin}/marker.png" alt=""><svg width="20" height="20"><rect id="marker-rect" width="5" height="5"><set attributeName="width" to="7"/></rect></svg>`;
let markers = 0;

/**
 * Waits for the marker after which whatever the vectors would do has happened: allowed effects of the
 * same kinds, started after them. The mirror has loaded (load handlers ran; a meta refresh counts from
 * there) and holds the marker the customer sent last: its image has loaded or failed (as the vectors'
 * images do, their onerror with them) and its SVG <set> has applied (animations have begun); two frames
 * pass (autofocus, ontoggle, marquee start, a refresh of 0 s); last, the agent's page makes a request of
 * its own, and once that is seen every request the vectors started has been seen before it.
 */
async function markerArrived(agent, seen) {
  await agent.waitForFunction(
    () => {
      const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]').contentDocument;
      return (
        doc.readyState === 'complete' &&
        doc.getElementById('marker-img')?.complete &&
        doc.getElementById('marker-rect')?.width.animVal.value === 7
      );
    },
    null,
    { timeout: 15_000 },
  );
  const url = `${new URL(agent.url()).origin}/hostile-marker-${++markers}`;
  await fetchAfterFrames(agent, url);
  await until(() => seen.requests.includes(url), "the agent page's own marker request");
}

describe("hostile content never runs in the agent's console", () => {
  let demo, browser, site;
  before(async () => {
    demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    site = await startCustomerSite(`${demo.url.replace('http', 'ws')}/relay`);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await demo?.close();
  });

  it(`through a real customer page: ${'≥ 40'} vectors`, async () => {
    assert.ok(site.count >= 40, `${site.count} vectors`);
    const customer = await (await browser.newContext()).newPage();
    await customer.goto(site.url);
    const code = await startFromLauncher(customer);

    const agent = await (await browser.newContext()).newPage();
    const seen = watchAgent(agent, site.canary);
    await agent.goto(`${demo.url}/agent/?code=${code}`);
    seen.navigations.length = 0; // from here on, the console must stay where it is
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    // The page keeps changing after the snapshot: the same vectors again, as patches.
    await customer.evaluate(
      (marker) => {
        const again = document.createElement('div');
        again.innerHTML = [...document.querySelectorAll('section[data-vector]')].map((s) => s.innerHTML).join('');
        document.body.append(again);
        document.querySelector('[data-vector=a-js] a').setAttribute('href', 'javascript:top.__pwned=1');
        document.body.append(Object.assign(document.createElement('div'), { innerHTML: marker }));
      },
      MARKER(new URL(site.url).origin),
    );
    await markerArrived(agent, seen);
    // The agent clicks the javascript: link in the mirror: the click goes to the customer's page, not the mirror.
    // The link is brought into view first (the page's autofocus field may have scrolled it away), on both sides.
    const scrollY = await customer.evaluate(() => {
      document.getElementById('a-js').scrollIntoView({ block: 'center' });
      return window.scrollY;
    });
    await agent.waitForFunction(
      (y) => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]').contentWindow.scrollY === y,
      scrollY,
    );
    const link = await agent.evaluate(() => {
      const v = document.querySelector('cobrowse-viewer');
      const iframe = v.shadowRoot.querySelector('iframe[part=mirror]');
      const layer = v.shadowRoot.querySelector('.input-layer').getBoundingClientRect();
      const r = iframe.contentDocument.getElementById('a-js').getBoundingClientRect();
      const scale = layer.width / iframe.offsetWidth;
      return { x: layer.left + (r.left + r.width / 2) * scale, y: layer.top + (r.top + r.height / 2) * scale };
    });
    await agent.mouse.click(link.x, link.y);
    // The click reached the customer's page (its pointer shows the click's ripple): a javascript: URL the
    // click ran in the agent's page would have run, in a task of its own, long before.
    await customer.locator('cobrowse-launcher').locator('[part=agent-pointer] .ripple').waitFor({ state: 'attached' });
    await markerArrived(agent, seen);

    assert.deepEqual(await sentinels(agent), { top: null, mirror: null }, "no vector ran in the agent's page");
    assert.deepEqual(await forbidden(agent), [], 'the mirror holds nothing that could run or load');
    assert.deepEqual(seen.canary, [], "the agent's browser requested no canary URL");
    assert.deepEqual(seen.navigations, [], 'the console did not navigate');
    const scripted = seen.console.filter((line) => /script|pageerror|sandbox/i.test(line));
    assert.deepEqual(scripted, [], 'no script ran or was blocked in the console');
  });

  it('as frames forged by a hand-written customer client, straight to the viewer', async () => {
    const ws = new WebSocket(`${demo.url.replace('http', 'ws')}/relay`, ['cobrowse.v1']);
    const frames = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ t: 'create', v: 1, mode: 'no-control' }));
    const next = (t) => until(() => frames.find((f) => f.t === t), `a ${t} frame`);
    const { code } = await next('created');

    const agent = await (await browser.newContext()).newPage();
    const seen = watchAgent(agent, site.canary);
    await agent.goto(`${demo.url}/agent/?code=${code}`);
    seen.navigations.length = 0; // from here on, the console must stay where it is
    await next('peer');

    let id = 10;
    const el = (tag, attrs = [], children = [], extra) =>
      extra ? [1, id++, tag, attrs, children, extra] : [1, id++, tag, attrs, children];
    const txt = (text) => [3, id++, text];
    const c = (name) => `${site.canary}/forged-${name}`;
    const vectors = [
      el('script', [], [txt(PWN('f-script'))]),
      el('script', ['src', c('script-src')]),
      el('img', ['src', 'x', 'onerror', PWN('f-img')]),
      el('iframe', ['srcdoc', `<script>${PWN('f-srcdoc')}</script>`]),
      el('iframe', ['src', c('iframe')]),
      el('iframe', ['src', JS('f-iframe-js')]),
      el('a', ['id', 'f-a', 'href', JS('f-a')], [txt('a')]),
      el('a', ['href', ` \n\tJAVASCRIPT:${PWN('f-a2')}`], [txt('b')]),
      el('meta', ['http-equiv', 'refresh', 'content', `0;url=${c('meta')}`]),
      el('base', ['href', c('base') + '/']),
      el('object', ['data', c('object')]),
      el('embed', ['src', c('embed')]),
      el('link', ['rel', 'prefetch', 'href', c('prefetch')]),
      el('link', ['rel', 'stylesheet', 'href', JS('f-link')]),
      el('form', ['action', c('form')], [el('button', ['formaction', JS('f-formaction')], [txt('go')])]),
      el(
        'svg',
        ['onload', PWN('f-svg')],
        [el('a', ['xlink:href', JS('f-svg-a')], [], { ns: 's' }), el('script', [], [txt(PWN('f-svg-script'))], { ns: 's' })],
        { ns: 's' },
      ),
      el('svg', [], [el('animate', ['attributeName', 'href', 'to', JS('f-animate')], [], { ns: 's' })], { ns: 's' }),
      el('div', ['style', `background:url("${JS('f-css')}")`]),
      el('style', [], [], { css: `@import url("${JS('f-import')}"); div { background: url("${JS('f-css2')}") }` }),
      el('details', ['open', '', 'ontoggle', PWN('f-toggle')], [txt('d')]),
      el('input', ['autofocus', '', 'onfocus', PWN('f-focus')]),
      el('video', ['poster', JS('f-poster')]),
      el('img', ['srcset', `${JS('f-srcset')} 1x`]),
      el('object', ['data', `data:text/html,<script>${PWN('f-object-data')}</script>`]),
      el('template', [], [el('script', [], [txt(PWN('f-template'))])]),
      el('div', [], [], {
        shadow: [11, id++, [el('img', ['src', 'x', 'onerror', PWN('f-shadow')]), el('script', [], [txt(PWN('f-shadow-script'))])]],
      }),
      el('iframe', [], [], {
        doc: [9, id++, [el('html', [], [el('body', ['onload', PWN('f-doc')], [el('script', [], [txt(PWN('f-doc-script'))])])])]],
      }),
    ];
    assert.ok(vectors.length >= 25);
    const head = el('head', [], [el('title', [], [txt('forged')])]);
    const body = el('body', ['onload', PWN('f-body')], vectors);
    ws.send(
      JSON.stringify({
        t: 'snapshot',
        url: 'https://customer.example/',
        title: 'forged',
        viewport: [1024, 768],
        doc: [9, 1, [[10, 2, 'html', '', ''], el('html', [], [head, body])]],
        s: 1,
      }),
    );
    // Then the same again, as patches, and attribute changes on what exists.
    const ops = vectors.map((v) => [0, body[1], null, JSON.parse(JSON.stringify(v).replace(/"id",/g, '"id",'))]);
    // (new IDs for the copies)
    const renumber = (node) => {
      node[1] = id++;
      if (node[0] === 1) {
        node[4].forEach(renumber);
        if (node[5]?.shadow) renumber(node[5].shadow);
        if (node[5]?.doc) renumber(node[5].doc);
      } else if (node[0] === 9 || node[0] === 11) node[2].forEach(renumber);
    };
    ops.forEach((op) => renumber(op[3]));
    ops.push(
      [2, vectors[6][1], 'href', JS('f-attr')],
      [2, body[1], 'onclick', PWN('f-attr2')],
      [2, vectors[4][1], 'srcdoc', `<script>${PWN('f-attr3')}</script>`],
    );
    ws.send(JSON.stringify({ t: 'patch', ops, s: 2 }));
    // The marker, last: a harmless image and SVG animation.
    const marker = el(
      'div',
      [],
      [
        el('img', ['id', 'marker-img', 'src', `${new URL(site.url).origin}/marker.png`]),
        el(
          'svg',
          ['width', '20', 'height', '20'],
          [
            el(
              'rect',
              ['id', 'marker-rect', 'width', '5', 'height', '5'],
              [el('set', ['attributeName', 'width', 'to', '7'], [], { ns: 's' })],
              { ns: 's' },
            ),
          ],
          { ns: 's' },
        ),
      ],
    );
    ws.send(JSON.stringify({ t: 'patch', ops: [[0, body[1], null, marker]], s: 3 }));
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live');
    await markerArrived(agent, seen);

    assert.deepEqual(await sentinels(agent), { top: null, mirror: null }, "no forged vector ran in the agent's page");
    assert.deepEqual(await forbidden(agent), [], 'the mirror holds nothing that could run or load');
    assert.deepEqual(seen.canary, [], "the agent's browser requested no canary URL");
    assert.deepEqual(seen.navigations, [], 'the console did not navigate (meta refresh, base, forms)');
    assert.deepEqual(
      seen.console.filter((line) => /script|pageerror|sandbox/i.test(line)),
      [],
      'no script ran or was blocked in the console',
    );
    ws.close();
  });
});
