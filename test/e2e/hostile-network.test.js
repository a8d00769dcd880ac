// The hostile-page network corpus (security issue 16): customer pages that try to make the agent's
// browser fetch, navigate, focus or read something (test/fixtures/hostile/vectors.js), mirrored one
// after another into one agent console, with the agent's network log read through CDP.
//
// Four origins: the customer's site (http://127.0.0.1:A, the vectors and the launcher), the agent's
// console (http://localhost:B, with a SameSite=Strict and a Lax cookie and an alarmed /secret), the
// relay (http://127.0.0.1:R, its asset proxy allowed to fetch from the customer's origin only) and an
// "outside" canary server. After the agent joins, every request the agent's browser sends must go to
// the relay (its WebSocket, or its proxy path); none may carry the console's cookies, nor a Referer but the
// console's bare origin to the proxy (Chromium ignores the referrer policy for inline CSS's loads);
// the outside server and the console's /secret see no hit but the customer's own (the customer's
// context marks its requests with a header); the console keeps its focus and its URL.
// Requests a CSP blocks inside the browser (loadingFailed, blockedReason 'csp') were never sent.
//
// It prints `vectors: N, requests outside the proxy: M` and, when M > 0, each offending vector by name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../../dist/relay/index.js';
import { fetchAfterFrames, launchChromium, mirrorPoint, startFromLauncher } from '../helpers/chromium.js';
import { until } from '../helpers/wait.js';
import { PIXEL, hostileVectors, vectorPage } from '../fixtures/hostile/vectors.js';

/** Where the console is: its path and query (a ticket, a token) are the agent's business alone. */
const CONSOLE_PATH = '/console/tickets/4711';
const CONSOLE_QUERY = '?customer=jane.doe%40example.com';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * What the customer's browser adds to its User-Agent, so the canaries can tell its hits from the agent's
 * (or the relay's). Not an extra header: Chromium leaves those off CORS-mode requests (module scripts, modulepreload).
 */
const CUSTOMER_UA = 'HostileCorpusCustomer';
const SECRET = 'console-secret-7f3a9c';
const COOKIES = { console_strict: 'strict-d41d8c', console_lax: 'lax-98f00b' };
/** The proxy's path when the relay's joined frame does not say (core/protocol/assets.ts DEFAULT_ASSET_PATH). */
const DEFAULT_ASSET_PATH = '/asset';
const WAIT = { timeout: 15_000 };

/** An http server on 127.0.0.1 that records every request (its path, and whether the customer sent it). */
async function listen(handler) {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url, customer: (req.headers['user-agent'] ?? '').includes(CUSTOMER_UA), referer: req.headers.referer ?? null });
    handler(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    hits,
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

/** The outside canary: whatever is asked, something of the kind asked for (so a load would go on to the next step). */
const outsideHandler = (req, res) => {
  const url = req.url ?? '/';
  if (url.includes('.css')) return res.writeHead(200, { 'content-type': 'text/css' }).end(`body{background:url(${url}-nested.png)}`);
  if (url.includes('.svg'))
    return res
      .writeHead(200, { 'content-type': 'image/svg+xml' })
      .end('<svg xmlns="http://www.w3.org/2000/svg"><linearGradient id="g"/><filter id="f"/><rect id="x" width="5" height="5"/></svg>');
  // A navigation answered 204 goes nowhere: the customer's page stays on its vector (a meta refresh, a link).
  if (url.endsWith('/page')) return res.writeHead(204).end();
  if (url.includes('.html')) return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>outside</p>');
  res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' }).end(PIXEL);
};

/** Decoded twice: a proxy URL carries the page's URL encoded in its `u`. */
const decoded = (url) => {
  try {
    return decodeURIComponent(decodeURIComponent(url));
  } catch {
    return url;
  }
};

describe("hostile pages make the agent's browser fetch, navigate, focus and read nothing", () => {
  let relay, outside, consoleSite, customerSite, browser, vectors;
  const relayLog = [];
  let assetsOption = true;
  /** What the corpus run found; the `it`s after the run assert on it. */
  let run;

  before(async () => {
    outside = await listen(outsideHandler);
    const outsideOrigin = `http://127.0.0.1:${outside.port}`;

    // The customer's site: each vector's page, the launcher's bundle, its one legitimate image.
    const bundle = await readFile(path.join(ROOT, 'dist/cobrowse.js'));
    let relayUrl = '';
    customerSite = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://customer.invalid');
      if (url.pathname === '/cobrowse.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      if (url.pathname.startsWith('/legit/'))
        return res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' }).end(PIXEL);
      const vector = vectors.find((v) => url.pathname === `/v/${v.name}`);
      if (vector)
        return res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(vectorPage(vector, { relay: relayUrl, bundle: `http://127.0.0.1:${customerSite.port}/cobrowse.js` }));
      res.writeHead(404).end();
    });
    const customerOrigin = `http://127.0.0.1:${customerSite.port}`;

    // The relay, with its asset proxy allowed to fetch from the customer's origin only. A relay without
    // the proxy yet ignores (or refuses) the option: then it runs without, and the run says so.
    const relayOptions = { port: 0, host: '127.0.0.1', agentAuth: 'dev', log: (e) => relayLog.push(e) };
    try {
      relay = await startRelay({ ...relayOptions, assets: { origins: [customerOrigin] } });
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      assetsOption = false;
      relay = await startRelay(relayOptions);
    }
    relayUrl = relay.url;
    const tokenRes = await fetch(`http://127.0.0.1:${relay.port}/dev/agent-token?name=Hostile%20agent`);
    const { token } = await tokenRes.json();

    // The agent's console, on another origin (localhost, not 127.0.0.1: other cookies, another site).
    const agentBundle = await readFile(path.join(ROOT, 'dist/cobrowse-agent.js'));
    consoleSite = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      if (url.pathname === CONSOLE_PATH) {
        return res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'set-cookie': [
            `console_strict=${COOKIES.console_strict}; Path=/; SameSite=Strict; HttpOnly`,
            `console_lax=${COOKIES.console_lax}; Path=/; SameSite=Lax`,
          ],
        }).end(`<!doctype html><html><head><meta charset="utf-8"><title>Agent console — hostile corpus</title>
<style>html,body{margin:0} cobrowse-viewer{display:block;height:90vh}</style></head>
<body><input id="notes" aria-label="Agent notes" value="notes">
<cobrowse-viewer id="viewer" name="Hostile agent" relay="${relay.url}" token="${token}"></cobrowse-viewer>
<script type="module" src="/dist/cobrowse-agent.js"></script></body></html>`);
      }
      if (url.pathname === '/dist/cobrowse-agent.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(agentBundle);
      // The test's own settle marker: the console page fetches it after each vector (see settle()).
      if (url.pathname.startsWith('/__settle/')) return res.writeHead(204).end();
      if (url.pathname.startsWith('/secret/')) {
        // A page of the console that holds a secret and reflects two parameters around it (as a search page might).
        const before = url.searchParams.get('before') ?? '';
        const afterText = url.searchParams.get('after') ?? '';
        return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<p>${before}${SECRET}${afterText}</p>`);
      }
      res.writeHead(404).end();
    });
    const consoleOrigin = `http://localhost:${consoleSite.port}`;
    vectors = hostileVectors({ outside: outsideOrigin, console: consoleOrigin, customer: customerOrigin });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
    await Promise.all([outside?.close(), consoleSite?.close(), customerSite?.close()]);
  });

  it('mirrors every vector into one agent console and records its network log', { timeout: 120_000 }, async () => {
    assert.ok(vectors.length >= 30, `${vectors.length} vectors`);
    const names = new Set(vectors.map((v) => v.name));
    assert.equal(names.size, vectors.length, 'vector names are unique');
    const relayHttp = `http://127.0.0.1:${relay.port}`;
    const consoleOrigin = `http://localhost:${consoleSite.port}`;
    const customerOrigin = `http://127.0.0.1:${customerSite.port}`;

    const { userAgent } = await (await browser.newBrowserCDPSession()).send('Browser.getVersion');
    const customerContext = await browser.newContext({ userAgent: `${userAgent} ${CUSTOMER_UA}` });
    const customer = await customerContext.newPage();
    const agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const agent = await agentContext.newPage();

    // The agent's network log, from CDP: one record per request (a redirect starts another).
    const cdp = await agentContext.newCDPSession(agent);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const records = [];
    const latest = new Map(); // requestId → its latest record
    const earlyExtra = new Map(); // requestWillBeSentExtraInfo that came before its requestWillBeSent
    let current = -1; // index of the vector on screen; -1 before the agent joined
    const sockets = [];
    let joinedAssets = null;
    cdp.on('Network.requestWillBeSent', (e) => {
      const record = {
        id: e.requestId,
        url: e.request.url,
        type: e.type,
        frameId: e.frameId,
        headers: { ...e.request.headers },
        vector: current,
        done: false,
        failed: null,
        blockedReason: null,
        status: null,
        extra: false,
      };
      const pending = earlyExtra.get(e.requestId);
      if (pending) {
        Object.assign(record.headers, pending);
        record.extra = true;
        earlyExtra.delete(e.requestId);
      }
      records.push(record);
      latest.set(e.requestId, record);
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      const record = latest.get(e.requestId);
      if (record && !record.extra) {
        Object.assign(record.headers, e.headers);
        record.extra = true;
      } else earlyExtra.set(e.requestId, e.headers);
    });
    cdp.on('Network.responseReceived', (e) => {
      const record = latest.get(e.requestId);
      if (record) record.status = e.response.status;
    });
    cdp.on('Network.loadingFinished', (e) => {
      const record = latest.get(e.requestId);
      if (record) record.done = true;
    });
    cdp.on('Network.loadingFailed', (e) => {
      const record = latest.get(e.requestId);
      if (!record) return;
      record.done = true;
      record.failed = e.errorText;
      record.blockedReason = e.blockedReason ?? null;
    });
    cdp.on('Network.webSocketCreated', (e) => current >= 0 && sockets.push(e.url));
    cdp.on('Network.webSocketFrameReceived', (e) => {
      if (joinedAssets !== null || !e.response.payloadData.includes('"joined"')) return;
      try {
        const frame = JSON.parse(e.response.payloadData);
        if (frame.t === 'joined') joinedAssets = frame.assets ?? false;
      } catch {
        // not a JSON text frame
      }
    });
    // A second net: Playwright's own request events, which also cover frames in other processes.
    const playwrightSeen = [];
    agentContext.on('request', (req) => current >= 0 && playwrightSeen.push({ url: req.url(), vector: current }));
    const navigations = [];
    agent.on('framenavigated', (frame) => {
      if (current < 0) return;
      if (frame === agent.mainFrame()) navigations.push({ vector: current, url: frame.url(), frame: 'console' });
      // The mirror itself sets its document's URL to the console's bare origin (history.replaceState, no load).
      else if (!/^about:(blank|srcdoc)$/.test(frame.url()) && frame.url() !== `${consoleOrigin}/`)
        navigations.push({ vector: current, url: frame.url(), frame: 'mirror' });
    });

    await agent.goto(`${consoleOrigin}${CONSOLE_PATH}${CONSOLE_QUERY}`);
    await agent.waitForFunction(() => customElements.get('cobrowse-viewer'));
    const cookies = await agentContext.cookies(consoleOrigin);
    assert.deepEqual(
      cookies.map((c) => `${c.name}:${c.sameSite}`).sort(),
      ['console_lax:Lax', 'console_strict:Strict'],
      "the console's cookies are set",
    );

    const mirrorHas = (name) =>
      agent.waitForFunction(
        (name) => {
          const iframe = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]');
          return iframe?.contentDocument?.querySelector(`[data-vector-marker="${name}"]`);
        },
        name,
        WAIT,
      );

    let settles = 0;
    const stillPending = [];
    /**
     * Waits for the mirror's loads to settle once its marker shows: two frames (style, layout, the
     * loads they start), then a request of the console's own that CDP must see after every request the
     * vector started, then until every request has finished, failed, or got as far as its headers
     * being sent (a private address may never answer: sent is what counts).
     */
    const settle = async () => {
      const url = `${consoleOrigin}/__settle/${++settles}`;
      await fetchAfterFrames(agent, url);
      await until(() => records.some((r) => r.url === url && r.done), `the console's settle request ${url}`);
      const open = () => records.filter((r) => !r.done && !r.extra && !/^(data|blob|about):/.test(r.url));
      try {
        await until(
          () => open().length === 0,
          () =>
            `pending requests: ${open()
              .map((r) => r.url)
              .join(', ')}`,
          { ms: 3_000 },
        );
      } catch {
        stillPending.push(...open().map((r) => `${vectors[r.vector]?.name ?? '?'}: ${r.url}`));
      }
    };

    const focusLost = [];
    const focusStayed = () =>
      agent.evaluate(() => {
        const viewer = document.querySelector('cobrowse-viewer');
        const mirror = viewer.shadowRoot.querySelector('iframe[part=mirror]');
        return {
          console: document.activeElement?.id ?? document.activeElement?.localName ?? null,
          inViewer: viewer.shadowRoot.activeElement?.localName ?? null,
          mirrorFocused: mirror.contentDocument.hasFocus(),
        };
      });

    // The customer opens the first vector and starts sharing; the agent joins; then the customer
    // walks through the rest, and the session follows each navigation (resumed from IndexedDB).
    await customer.goto(`${customerOrigin}/v/${vectors[0].name}`, { waitUntil: 'domcontentloaded' });
    const code = await startFromLauncher(customer);
    current = 0;
    const joinedFrom = records.length;
    await agent.evaluate((code) => (document.getElementById('viewer').code = code), code);
    await agent.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live', null, WAIT);
    await agent.locator('#notes').focus();

    const legitControl = { proxied: false, direct: false, naturalWidth: 0 };
    const customerNavigated = [];
    const notMirrored = [];
    for (let i = 0; i < vectors.length; i++) {
      const vector = vectors[i];
      if (i > 0) {
        current = i;
        await customer.goto(`${customerOrigin}/v/${vector.name}`, { waitUntil: 'domcontentloaded' });
      }
      try {
        await mirrorHas(vector.name);
      } catch (err) {
        const shows = await agent.evaluate(() => {
          const viewer = document.querySelector('cobrowse-viewer');
          const doc = viewer.shadowRoot.querySelector('iframe[part=mirror]')?.contentDocument;
          return `viewer ${viewer.state}, mirror shows ${doc?.querySelector('[data-vector-marker]')?.getAttribute('data-vector-marker') ?? 'no vector'}`;
        });
        notMirrored.push(`${vector.name} (${shows}; customer at ${customer.url()})`);
        if (notMirrored.length >= 3) throw new Error(`vectors not mirrored: ${notMirrored.join('; ')}`, { cause: err });
        continue;
      }
      await settle();
      if (vector.click) {
        const { x, y } = await mirrorPoint(agent, vector.click);
        await agent.mouse.click(x, y);
        // The click reached the customer's page (its pointer shows the ripple); any load it started in the console has begun.
        await customer
          .locator('cobrowse-launcher')
          .locator('[part=agent-pointer] .ripple')
          .waitFor({ state: 'attached', ...WAIT });
        await settle();
      }
      if (vector.legit) {
        legitControl.naturalWidth = await agent.evaluate(() => {
          const doc = document.querySelector('cobrowse-viewer').shadowRoot.querySelector('iframe[part=mirror]').contentDocument;
          const img = doc.getElementById('legit');
          return img?.complete ? img.naturalWidth : 0;
        });
      }
      const focus = await focusStayed();
      // A click in the console moves focus off the notes field, as any click does; it must not land in the mirror.
      if ((focus.console !== 'notes' && !vector.click) || focus.inViewer === 'iframe' || focus.mirrorFocused) {
        focusLost.push(`${vector.name}: ${JSON.stringify(focus)}`);
        await agent.locator('#notes').focus();
      }
      const customerAt = new URL(customer.url());
      if (customerAt.pathname !== `/v/${vector.name}`) customerNavigated.push(`${vector.name}: ${customer.url()}`);
    }

    // A control for the focus check: focus put in the mirror by hand (its last vector's link) is seen.
    await agent.evaluate(() =>
      document
        .querySelector('cobrowse-viewer')
        .shadowRoot.querySelector('iframe[part=mirror]')
        .contentDocument.querySelector('a[href]')
        ?.focus(),
    );
    const focusControl = await focusStayed();
    await agent.locator('#notes').focus();

    // Judge every request the agent's browser made after joining.
    const proxyPath = joinedAssets?.path ?? DEFAULT_ASSET_PATH;
    const ownSettle = (url) => url.startsWith(`${consoleOrigin}/__settle/`);
    const toProxy = (url) => {
      try {
        const u = new URL(url);
        return u.origin === relayHttp && u.pathname === proxyPath;
      } catch {
        return false;
      }
    };
    const nameOf = (record) => {
      const url = decoded(record.url);
      return vectors.find((v) => new RegExp(`/${v.name}(?:[/?]|$)`).test(url))?.name ?? vectors[record.vector]?.name ?? 'unattributed';
    };
    const afterJoin = records.slice(joinedFrom).filter((r) => !/^(data|blob|about):/.test(r.url) && !ownSettle(r.url));
    const blocked = afterJoin.filter((r) => r.blockedReason === 'csp');
    const sent = afterJoin.filter((r) => r.blockedReason !== 'csp');
    const outsideProxy = sent.filter((r) => !toProxy(r.url));
    const cdpUrls = new Set(records.map((r) => r.url));
    const onlyPlaywright = playwrightSeen.filter(
      (r) => !cdpUrls.has(r.url) && !/^(data|blob|about):/.test(r.url) && !ownSettle(r.url) && !toProxy(r.url),
    );
    const header = (r, name) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? null;
    const withCookie = sent.filter((r) => Object.entries(COOKIES).some(([k, v]) => (header(r, 'cookie') ?? '').includes(`${k}=${v}`)));
    // Chromium sends inline CSS's loads with a Referer whatever the mirror's policy says: to the proxy
    // alone, and the console's origin at most (the mirror's URL is the site root); the proxy passes on none.
    const withReferer = sent.filter((r) => header(r, 'referer') && !(toProxy(r.url) && header(r, 'referer') === `${consoleOrigin}/`));
    const proxied = sent.filter((r) => toProxy(r.url));
    // The proxy must not have served anything outside its allow list (the customer's origin).
    const proxyServedOutside = proxied.filter((r) => {
      const u = new URL(r.url).searchParams.get('u') ?? '';
      return r.status !== null && r.status < 400 && !u.startsWith(`${customerOrigin}/`);
    });
    legitControl.proxied = proxied.some((r) => decoded(r.url).includes('/legit-image/'));
    legitControl.direct = records.some((r) => r.url.includes('/legit-image/') && !toProxy(r.url));

    const byVector = (list, show = (r) => r.url) => {
      const map = new Map();
      for (const r of list) {
        const name = r.name ?? nameOf(r);
        map.set(name, [...(map.get(name) ?? []), show(r)]);
      }
      return map;
    };
    run = {
      sent,
      blocked,
      outsideProxy,
      onlyPlaywright,
      withCookie,
      withReferer,
      proxied,
      proxyServedOutside,
      sockets: sockets.filter((url) => url.split('?')[0] !== relay.url),
      outsideHits: outside.hits.filter((h) => !h.customer),
      secretHits: consoleSite.hits.filter((h) => !h.customer && h.url.startsWith('/secret/')),
      customerOriginHits: customerSite.hits.filter((h) => !h.customer),
      // The console's secret, anywhere it could have gone: a request the agent's browser made, a hit on any server.
      secretLeaked: [
        ...records.map((r) => decoded(r.url)).filter((url) => url.includes(SECRET)),
        ...[outside, customerSite, consoleSite].flatMap((server) =>
          server.hits.map((h) => decoded(h.url)).filter((url) => url.includes(SECRET)),
        ),
      ],
      focusLost,
      focusControl,
      navigations,
      customerNavigated,
      notMirrored,
      stillPending,
      legitControl,
      joinedAssets,
    };

    // The report: the summary line, then what each offending vector did.
    // (Counted however far they got: one the browser refused itself, with no headers ever sent, says so.)
    const offenders = byVector(outsideProxy, (r) => `${r.url}${r.failed ? ` (${r.failed})` : ''}${r.extra ? '' : ' (no headers sent)'}`);
    for (const r of onlyPlaywright)
      offenders.set(vectors[r.vector]?.name ?? '?', [
        ...(offenders.get(vectors[r.vector]?.name) ?? []),
        `${r.url} (seen by Playwright only)`,
      ]);
    console.log(`vectors: ${vectors.length}, requests outside the proxy: ${outsideProxy.length + onlyPlaywright.length}`);
    console.log(
      `  sent through the proxy: ${proxied.length}; blocked by CSP before leaving the browser: ${blocked.length}; ` +
        `proxy: ${assetsOption ? `relay given assets.origins [${customerOrigin}]` : 'relay refused the assets option'}, joined.assets ${JSON.stringify(joinedAssets)}`,
    );
    for (const [name, urls] of offenders) console.log(`  offender ${name}: ${[...new Set(urls)].join(' | ')}`);
    const lines = [
      ['with a console cookie', byVector(withCookie)],
      ['with a Referer', byVector(withReferer, (r) => `${r.url} (Referer ${header(r, 'referer')})`)],
      ['proxy served outside its allow list', byVector(proxyServedOutside, (r) => `${r.url} (${r.status})`)],
      ['outside canary hit (not by the customer)', byVector(run.outsideHits)],
      ['console /secret hit (not by the customer)', byVector(run.secretHits)],
    ];
    for (const [what, map] of lines) for (const [name, urls] of map) console.log(`  ${what} — ${name}: ${[...new Set(urls)].join(' | ')}`);
    for (const url of run.secretLeaked) console.log(`  the console's secret left the console — ${url}`);
    for (const line of focusLost) console.log(`  focus taken — ${line}`);
    for (const n of navigations) console.log(`  navigated (${n.frame}) — ${vectors[n.vector]?.name}: ${n.url}`);
    for (const line of customerNavigated) console.log(`  (customer page left its vector — ${line})`);
    for (const line of stillPending) console.log(`  (still pending when judged, counted as sent — ${line})`);
    if (sockets.length !== 1) console.log(`  WebSockets opened after joining: ${sockets.join(', ') || 'none'}`);
    console.log(
      `  positive controls: legit image through the proxy ${legitControl.proxied}, loaded directly ${legitControl.direct}, naturalWidth ${legitControl.naturalWidth}; ` +
        `hits on the customer's origin not from the customer (the proxy's, or the agent's directly): ${run.customerOriginHits.length}`,
    );
    assert.deepEqual(notMirrored, [], 'vectors the mirror never showed (their positive control)');
    assert.deepEqual(customerNavigated, [], "the customer's page stayed on each vector (else the corpus tested nothing)");
  });

  const ran = () => assert.ok(run, 'the corpus did not run');
  const list = (records) => records.map((r) => r.url ?? r);

  it('CDP sees the mirror’s requests (positive control: the legitimate image was requested, directly or through the proxy)', () => {
    ran();
    assert.ok(
      run.legitControl.proxied || run.legitControl.direct,
      "no request for the customer's legitimate image in the agent's network log",
    );
  });

  it('the legitimate image arrives through the proxy, and shows', () => {
    ran();
    assert.ok(run.joinedAssets, "the relay's joined frame carries no assets grant (no asset proxy on this relay)");
    assert.ok(run.legitControl.proxied, 'no request to the proxy for the legitimate image');
    assert.equal(run.legitControl.direct, false, 'the legitimate image was also loaded directly from the customer’s origin');
    assert.ok(run.legitControl.naturalWidth > 0, 'the legitimate image did not load in the mirror');
  });

  it('sends no request except to the relay and its proxy', () => {
    ran();
    assert.deepEqual([...list(run.outsideProxy), ...list(run.onlyPlaywright)], [], 'requests outside the proxy');
    assert.deepEqual(run.sockets, [], 'WebSockets to anywhere but the relay');
  });

  it("sends neither the console's cookies nor a Referer (to the proxy, the console's origin at most)", () => {
    ran();
    assert.deepEqual(list(run.withCookie), [], "requests with the console's cookies");
    assert.deepEqual(list(run.withReferer), [], 'requests with a Referer');
  });

  it("the outside canary and the console's /secret see nothing but the customer's own requests", () => {
    ran();
    assert.deepEqual(list(run.outsideHits), [], 'outside canary hits');
    assert.deepEqual(list(run.secretHits), [], "hits on the console's /secret (its content could be read)");
    assert.deepEqual(list(run.proxyServedOutside), [], 'proxy answers for URLs outside its allow list');
    assert.deepEqual(run.secretLeaked, [], "URLs carrying the console's secret (it was read)");
  });

  it('the console keeps its focus and its page', () => {
    ran();
    assert.ok(run.focusControl.inViewer === 'iframe' || run.focusControl.mirrorFocused, 'the focus check sees focus put in the mirror');
    assert.deepEqual(run.focusLost, [], 'vectors that took focus');
    assert.deepEqual(run.navigations, [], 'navigations of the console or its mirror');
  });
});
