// The relay's asset proxy (relay/assets.ts), against real http servers on loopback standing in for the
// customer's site, a real relay, and a real customer and agent over WebSockets for the grant.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { startRelay } from '../../dist/relay/index.js';
import { until } from '../helpers/wait.js';
import { V, connect, httpBase, metric } from './helpers.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 300;

/** An http server on loopback; `routes[path](req, res)`; records each request's headers, and counts hits per path. */
async function site(routes) {
  const seen = [];
  const hits = new Map();
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    seen.push({ path, headers: req.headers });
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path];
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return { server, port, origin: `http://127.0.0.1:${port}`, seen, hits, close: () => new Promise((r) => server.close(r)) };
}

/** GET on the relay's http side, with any headers (fetch would drop some): { status, headers, body (Buffer), text, json() }. */
function get(base, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString(), json: () => JSON.parse(body.toString()) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const proxyPath = (grant, kind, url) => `/asset?g=${encodeURIComponent(grant)}&as=${kind}&u=${encodeURIComponent(url)}`;

/** A customer whose page is on `origin` (its WebSocket's Origin), and an agent joined to it: their clients and the grant. */
async function sessionFrom(relayUrl, origin) {
  const customer = await connect(relayUrl, { headers: { origin } });
  customer.send({ t: 'create', v: V, mode: 'full-control' });
  const created = await customer.next();
  assert.equal(created.t, 'created');
  const agent = await connect(relayUrl);
  agent.send({ t: 'join', v: V, code: created.code, name: 'Alice' });
  const joined = await agent.next();
  assert.equal(joined.t, 'joined');
  assert.equal((await customer.next()).t, 'peer');
  return { customer, agent, created, joined, grant: joined.assets?.grant };
}

describe('asset proxy', () => {
  const ctx = {};
  const sessions = [];
  /** A session (closed after the suite) whose page is on `origin`. */
  const open = async (origin) => {
    const s = await sessionFrom(ctx.relay.url, origin);
    sessions.push(s);
    return s;
  };
  const fetchAs = (grant, kind, url, headers) => get(ctx.base, proxyPath(grant, kind, url), headers);

  before(async () => {
    ctx.a = await site({
      '/img.png': (req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
      '/counted.png': (req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
      '/style.css': (req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/css; charset=utf-8' })
          .end('@import "more.css";\nbody { background: url(img/bg.png) }\n.x { background: url("data:image/png;base64,AA==") }'),
      '/moved.css': (req, res) => res.writeHead(302, { location: '/sub/style.css' }).end(),
      '/sub/style.css': (req, res) => res.writeHead(200, { 'content-type': 'text/css' }).end('p { background: url(x.png) }'),
      '/page.html': (req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>'),
      '/font.bin': (req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('wOFF'),
      '/big-chunked.png': (req, res) => {
        res.writeHead(200, { 'content-type': 'image/png' }); // no Content-Length: cut off while reading
        for (let i = 0; i < 20; i++) res.write(Buffer.alloc(8 * 1024));
        res.end();
      },
      '/big-declared.png': (req, res) =>
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': MAX_BYTES * 2 }).end(Buffer.alloc(MAX_BYTES * 2)),
      '/cookie.png': (req, res) =>
        res
          .writeHead(200, {
            'content-type': 'image/png',
            'set-cookie': 'sid=upstream; Path=/',
            'x-upstream-secret': 'internal',
            etag: '"v1"',
            'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
          })
          .end(PNG),
      '/to-b.png': (req, res) => res.writeHead(302, { location: `${ctx.b.origin}/img.png` }).end(),
      '/to-localhost.png': (req, res) => res.writeHead(307, { location: `http://localhost:${ctx.a.port}/img.png` }).end(),
      '/loop.png': (req, res) => res.writeHead(302, { location: `/loop.png?${Math.random()}` }).end(),
    });
    ctx.b = await site({ '/img.png': (req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG) });
    // Accepts connections and never answers.
    ctx.hang = createTcpServer((socket) => socket.on('error', () => {}));
    await new Promise((resolve) => ctx.hang.listen(0, '127.0.0.1', resolve));
    ctx.hangOrigin = `http://127.0.0.1:${ctx.hang.address().port}`;
    ctx.logs = [];
    ctx.relay = await startRelay({
      port: 0,
      log: (event) => ctx.logs.push(event),
      metrics: true,
      assets: { origins: [ctx.a.origin, ctx.hangOrigin], maxBytes: MAX_BYTES, timeoutMs: TIMEOUT_MS },
    });
    ctx.base = httpBase(ctx.relay.url);
    // The customer's page is on http://localhost:<a> (not listed): loopback by name.
    ctx.session = await open(`http://localhost:${ctx.a.port}`);
  });
  after(async () => {
    await Promise.all(sessions.flatMap((s) => [s.customer.close(), s.agent.close()]));
    await ctx.relay.close();
    ctx.hang.close();
    await Promise.all([ctx.a.close(), ctx.b.close()]);
  });

  it('joined carries the proxy path and a grant', () => {
    const { assets } = ctx.session.joined;
    assert.equal(assets.path, '/asset');
    assert.match(assets.grant, /^\d{9}\.[0-9a-z]+\.[\w-]{43}$/);
    assert.ok(assets.grant.startsWith(ctx.session.created.code));
  });

  it('fetches from a listed origin, with the safe headers; a stylesheet comes back with its url()s and @imports through the proxy', async () => {
    const { grant } = ctx.session;
    const image = await fetchAs(grant, 'image', `${ctx.a.origin}/img.png`);
    assert.equal(image.status, 200);
    assert.deepEqual(image.body, PNG);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['x-content-type-options'], 'nosniff');
    assert.equal(image.headers['content-security-policy'], "default-src 'none'; sandbox");
    assert.equal(image.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(image.headers['access-control-allow-origin'], '*');
    assert.equal(image.headers['referrer-policy'], 'no-referrer');
    assert.equal(image.headers['cache-control'], 'private, max-age=300');

    const sheet = await fetchAs(grant, 'style', `${ctx.a.origin}/style.css`);
    assert.equal(sheet.status, 200);
    assert.equal(sheet.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(
      sheet.text,
      `@import "${proxyPath(grant, 'style', `${ctx.a.origin}/more.css`)}";\n` +
        `body { background: url(${proxyPath(grant, 'css', `${ctx.a.origin}/img/bg.png`)}) }\n` +
        '.x { background: url("data:image/png;base64,AA==") }',
    );
    // Resolved against where the sheet was finally found, after its redirect.
    const moved = await fetchAs(grant, 'style', `${ctx.a.origin}/moved.css`);
    assert.equal(moved.status, 200);
    assert.equal(moved.text, `p { background: url(${proxyPath(grant, 'css', `${ctx.a.origin}/sub/x.png`)}) }`);
  });

  it("refuses an origin that is neither the session's nor listed (403)", async () => {
    const res = await fetchAs(ctx.session.grant, 'image', `${ctx.b.origin}/img.png`);
    assert.equal(res.status, 403);
    assert.match(res.json().error, /not this session's origin/);
    assert.equal(ctx.b.hits.get('/img.png') ?? 0, 0, 'never fetched');
  });

  it('tells the operator which origin it refused, once a while, without the path or query', async () => {
    await fetchAs(ctx.session.grant, 'image', `${ctx.b.origin}/cdn/logo.png?customer=jane`);
    await fetchAs(ctx.session.grant, 'image', `${ctx.b.origin}/cdn/other.png`);
    const refused = ctx.logs.filter((e) => e.event === 'asset-refused' && e.origin === ctx.b.origin);
    assert.equal(refused.length, 1, 'one line per origin, not per request');
    assert.match(refused[0].hint, /--asset-origin/);
    assert.doesNotMatch(JSON.stringify(refused), /cdn|jane/);
  });

  it("refuses a loopback or private address, even the session's own origin, unless the origin is listed", async () => {
    const before = ctx.a.hits.get('/img.png') ?? 0;
    // localhost is the session's origin, but resolves to 127.0.0.1: refused where the socket would connect.
    const byName = await fetchAs(ctx.session.grant, 'image', `http://localhost:${ctx.a.port}/img.png`);
    assert.equal(byName.status, 403);
    assert.match(byName.json().error, /private address/);
    assert.equal(ctx.a.hits.get('/img.png') ?? 0, before, 'never reached');
    // The same server under its listed origin is fine.
    assert.equal((await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/img.png`)).status, 200);
    // Literal addresses are checked before any connection: private IPv4, and IPv4 mapped into IPv6.
    for (const origin of ['http://10.1.2.3', 'http://[::ffff:192.168.0.1]', 'http://[fd00::1]']) {
      const { grant } = await open(origin);
      const res = await fetchAs(grant, 'image', `${origin}/img.png`);
      assert.equal(res.status, 403, origin);
      assert.match(res.json().error, /private address/, origin);
    }
  });

  it('refuses a redirect to an unlisted origin or a private address, and more than 3 redirects', async () => {
    const toB = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/to-b.png`);
    assert.equal(toB.status, 403);
    assert.match(toB.json().error, /^redirected: .*not this session's origin/);
    assert.equal(ctx.b.hits.get('/img.png') ?? 0, 0, 'never fetched');
    const toLocalhost = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/to-localhost.png`);
    assert.equal(toLocalhost.status, 403);
    assert.match(toLocalhost.json().error, /private address/);
    const hops = ctx.a.hits.get('/loop.png') ?? 0;
    const loop = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/loop.png`);
    assert.equal(loop.status, 502);
    assert.match(loop.json().error, /too many redirects/);
    assert.equal(ctx.a.hits.get('/loop.png') - hops, 4, 'the first request and 3 redirects');
  });

  it('refuses a content type the kind does not expect (415)', async () => {
    const html = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/page.html`);
    assert.equal(html.status, 415);
    assert.match(html.json().error, /text\/html is not a image/);
    assert.equal((await fetchAs(ctx.session.grant, 'style', `${ctx.a.origin}/img.png`)).status, 415);
    assert.equal((await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/style.css`)).status, 415);
    assert.equal((await fetchAs(ctx.session.grant, 'font', `${ctx.a.origin}/font.bin`)).status, 200);
    assert.equal((await fetchAs(ctx.session.grant, 'css', `${ctx.a.origin}/font.bin`)).status, 200);
    assert.equal((await fetchAs(ctx.session.grant, 'media', `${ctx.a.origin}/img.png`)).status, 415);
  });

  it('cuts off an asset larger than maxBytes (502), declared or not', async () => {
    for (const path of ['/big-declared.png', '/big-chunked.png']) {
      const res = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}${path}`);
      assert.equal(res.status, 502, path);
      assert.match(res.json().error, new RegExp(`larger than ${MAX_BYTES} bytes`), path);
    }
  });

  it('gives up on an origin that never answers (504)', async () => {
    const started = Date.now();
    const res = await fetchAs(ctx.session.grant, 'image', `${ctx.hangOrigin}/img.png`);
    const took = Date.now() - started;
    assert.equal(res.status, 504);
    assert.ok(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS + 2000, `took ${took} ms`);
  });

  it("forwards none of the agent's headers, and returns none of the origin's but its type, length and validators", async () => {
    const res = await fetchAs(ctx.session.grant, 'image', `${ctx.a.origin}/cookie.png`, {
      cookie: 'console_session=secret',
      authorization: 'Bearer agent-token',
      referer: 'https://console.example/agent/',
      'x-forwarded-for': '10.0.0.7',
      'accept-language': 'de',
    });
    assert.equal(res.status, 200);
    const upstream = ctx.a.seen.findLast((r) => r.path === '/cookie.png').headers;
    for (const name of ['cookie', 'authorization', 'referer', 'x-forwarded-for', 'accept-language']) {
      assert.equal(upstream[name], undefined, `${name} not forwarded`);
    }
    assert.match(upstream['user-agent'], /cobrowse-relay/);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(res.headers['x-upstream-secret'], undefined);
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(res.headers['last-modified'], 'Wed, 21 Oct 2015 07:28:00 GMT');
  });

  it("refuses a forged, malformed or expired grant, and one session's grant for another session's origin (403)", async () => {
    const { grant } = ctx.session;
    const url = `${ctx.a.origin}/img.png`;
    const last = grant.at(-2) === 'A' ? 'B' : 'A'; // change the MAC (not its last character: its low bits are padding)
    const forged = `${grant.slice(0, -2)}${last}${grant.at(-1)}`;
    const [code, expiry, mac] = grant.split('.');
    const later = `${code}.${(parseInt(expiry, 36) + 3600_000).toString(36)}.${mac}`; // a longer life, same MAC
    const other = await open('https://shop-b.example');
    const swapped = `${other.created.code}.${expiry}.${mac}`; // this MAC on the other session
    for (const bad of [forged, later, swapped, 'nonsense', `${code}.${expiry}`]) {
      const res = await fetchAs(bad, 'image', url);
      assert.equal(res.status, 403, bad);
    }
    // The other session's own grant passes the origin check for its origin (and fails only at DNS), this one's does not.
    assert.equal((await fetchAs(grant, 'image', 'https://shop-b.example/a.png')).status, 403);
    assert.notEqual((await fetchAs(other.grant, 'image', 'https://shop-b.example/a.png')).status, 403);

    // An expired one: a relay whose grants last 50 ms.
    const brief = await startRelay({ port: 0, log: () => {}, assets: { origins: [ctx.a.origin], grantTtlMs: 50 } });
    try {
      const s = await sessionFrom(brief.url, ctx.a.origin);
      const at = (g) => get(httpBase(brief.url), proxyPath(g, 'image', url));
      const expiredAt = parseInt(s.grant.split('.')[1], 36);
      const first = await at(s.grant);
      assert.equal(first.status, Date.now() < expiredAt ? 200 : 403);
      await until(async () => (await at(s.grant)).status === 403, 'the grant to expire', { ms: 2000 });
      assert.ok(Date.now() >= expiredAt);
      await Promise.all([s.customer.close(), s.agent.close()]);
    } finally {
      await brief.close();
    }
  });

  it('a grant stops working when its session ends', async () => {
    const s = await sessionFrom(ctx.relay.url, ctx.a.origin);
    const url = `${ctx.a.origin}/img.png`;
    assert.equal((await fetchAs(s.grant, 'image', url)).status, 200);
    s.customer.send({ t: 'end' });
    assert.equal((await s.agent.next()).t, 'ended');
    const res = await fetchAs(s.grant, 'image', url);
    assert.equal(res.status, 403);
    assert.match(res.json().error, /session ended/);
    await Promise.all([s.customer.close(), s.agent.close()]);
  });

  it('serves a repeated request from its cache, also to another session allowed that origin, without fetching again', async () => {
    const url = `${ctx.a.origin}/counted.png`;
    const first = await fetchAs(ctx.session.grant, 'image', url);
    assert.equal(first.status, 200);
    const other = await open('https://shop-c.example');
    const second = await fetchAs(other.grant, 'image', url);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, PNG);
    assert.equal(ctx.a.hits.get('/counted.png'), 1);
    // Another kind is another entry (and another check of the type).
    assert.equal((await fetchAs(ctx.session.grant, 'style', url)).status, 415);
    assert.equal(ctx.a.hits.get('/counted.png'), 2);
    const text = await (await fetch(`${ctx.base}/metrics`)).text();
    assert.ok(metric(text, 'cobrowse_asset_requests_total{outcome="cached"}') >= 1);
    assert.ok(metric(text, 'cobrowse_asset_requests_total{outcome="forbidden"}') >= 1);
  });

  it("refuses the relay's own origin, even as the session's origin", async () => {
    const own = ctx.base; // http://127.0.0.1:<relay port>, the Host this request reaches
    const { grant } = await open(own);
    const res = await fetchAs(grant, 'image', `${own}/healthz`);
    assert.equal(res.status, 403);
    assert.match(res.json().error, /relay's own origin/);
  });

  it('answers only GET, and 400 for a malformed query', async () => {
    const post = await new Promise((resolve, reject) => {
      const req = request(`${ctx.base}${proxyPath(ctx.session.grant, 'image', `${ctx.a.origin}/img.png`)}`, { method: 'POST' }, resolve);
      req.on('error', reject);
      req.end();
    });
    post.resume();
    assert.equal(post.statusCode, 405);
    assert.equal((await get(ctx.base, `/asset?g=${ctx.session.grant}&as=script&u=http://x.example/`)).status, 400);
    assert.equal((await get(ctx.base, proxyPath(ctx.session.grant, 'image', 'file:///etc/passwd'))).status, 400);
  });
});

describe('asset proxy switched off', () => {
  it('joined carries no assets, and the path is not served', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, assets: false });
    try {
      const s = await sessionFrom(relay.url, 'https://shop.example');
      assert.equal(s.joined.assets, undefined);
      assert.equal((await get(httpBase(relay.url), '/asset?g=x&as=image&u=https://shop.example/a.png')).status, 404);
      await Promise.all([s.customer.close(), s.agent.close()]);
    } finally {
      await relay.close();
    }
  });

  it('impossible options are a TypeError at start', async () => {
    await assert.rejects(startRelay({ port: 0, log: () => {}, assets: { path: 'asset' } }), TypeError);
    await assert.rejects(startRelay({ port: 0, log: () => {}, assets: { path: '/relay' } }), TypeError);
    await assert.rejects(startRelay({ port: 0, log: () => {}, assets: { origins: ['https://cdn.example/path'] } }), TypeError);
    await assert.rejects(startRelay({ port: 0, log: () => {}, assets: { maxBytes: 0 } }), TypeError);
  });
});

describe('asset proxy in the demo', () => {
  it("fetches the demo's own page assets: the demo lists its own origins", async () => {
    const { startDemo } = await import('../../dist/demo/server.js');
    const demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    try {
      const relayUrl = `${demo.url.replace(/^http/, 'ws')}/relay`;
      const { token } = await (await fetch(`${demo.url}/dev/agent-token?name=Alice`)).json();
      const customer = await connect(relayUrl, { headers: { origin: demo.url } });
      customer.send({ t: 'create', v: V, mode: 'full-control' });
      const { code } = await customer.next();
      const agent = await connect(relayUrl, { protocols: ['cobrowse.v1', `cobrowse.bearer.${token}`], headers: { origin: demo.url } });
      agent.send({ t: 'join', v: V, code });
      const { assets } = await agent.next();
      for (const origin of [demo.url, `http://localhost:${demo.port}`]) {
        const res = await get(demo.url, proxyPath(assets.grant, 'style', `${origin}/customer/style.css`));
        assert.equal(res.status, 200, `${origin}: ${res.text}`);
        assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
      }
      await Promise.all([customer.close(), agent.close()]);
    } finally {
      await demo.close();
    }
  });
});
