// Agent authentication over real sockets: tokens offered as a WebSocket subprotocol, checked at the upgrade.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { SignJWT, exportJWK, UnsecuredJWT } from 'jose';
import { attachRelay, startRelay } from '../../dist/relay/index.js';
import { startDemo } from '../../dist/demo/server.js';
import { PATCH, V, agentProtocols, connect, createSession, expectRefused, httpBase, joinAs, relaySuite } from './helpers.js';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const key = (secret) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

/** A token as a contact center's backend would sign it; `claims` override the defaults, `null` leaves a claim out. */
function sign({
  secret = SECRET,
  alg = 'HS256',
  privateKey,
  kid,
  exp = '5m',
  nbf,
  sub = 'agent-42',
  name = 'Alice Agent',
  iss = 'cc',
  aud = 'cobrowse',
  iat,
  typ,
} = {}) {
  const header = { alg, ...(kid ? { kid } : {}), ...(typ ? { typ } : {}) };
  const jwt = new SignJWT(name === null ? {} : { name }).setProtectedHeader(header);
  if (iat !== null) jwt.setIssuedAt(iat);
  if (sub !== null) jwt.setSubject(sub);
  if (exp !== null) jwt.setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  if (iss !== null) jwt.setIssuer(iss);
  if (aud !== null) jwt.setAudience(aud);
  return jwt.sign(privateKey ?? key(secret));
}

describe('agent tokens (HS256 secret)', () => {
  const ctx = relaySuite({ agentAuth: { secret: SECRET, issuer: 'cc', audience: 'cobrowse' } });

  it('answers with cobrowse.v1 and never echoes the token', async () => {
    const token = await sign();
    const agent = await connect(ctx.url, { protocols: agentProtocols(token) });
    assert.equal(agent.ws.protocol, 'cobrowse.v1');
    const customer = await connect(ctx.url, { protocols: ['cobrowse.v1'] });
    assert.equal(customer.ws.protocol, 'cobrowse.v1');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a customer needs no token: create and resume with just cobrowse.v1', async () => {
    const customer = await connect(ctx.url, { protocols: ['cobrowse.v1'] });
    customer.send({ t: 'create', v: V, mode: 'full-control' });
    const created = await customer.next();
    assert.equal(created.t, 'created');
    await customer.close();
    const back = await connect(ctx.url, { protocols: ['cobrowse.v1'] });
    back.send({ t: 'resume', v: V, code: created.code, token: created.token });
    assert.equal((await back.next()).t, 'resumed');
    await back.close();
  });

  it('an agent with a valid token joins; the customer sees the name from the token, not the frame', async () => {
    const { customer, created } = await createSession(ctx.url);
    const { agent, joined } = await joinAs(ctx.url, await sign(), created.code, 'Mallory');
    assert.equal(joined.t, 'joined');
    assert.deepEqual(await customer.next(), { t: 'peer', role: 'agent', status: 'online', name: 'Alice Agent' });
    customer.send(PATCH);
    assert.deepEqual(await agent.next(), PATCH);
    const log = ctx.logs.find((e) => e.event === 'agent-joined' && e.agent === 'agent-42');
    assert.ok(log, 'the join is logged with the agent id');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a token without a name is shown as "Agent"', async () => {
    const { customer, created } = await createSession(ctx.url);
    const { agent } = await joinAs(ctx.url, await sign({ name: null }), created.code, 'Mallory');
    assert.equal((await customer.next()).name, 'Agent');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a join without a token gets unauthorized and 4001; the customer hears nothing', async () => {
    const { customer, created } = await createSession(ctx.url);
    for (const protocols of [['cobrowse.v1'], undefined]) {
      const agent = await connect(ctx.url, { protocols });
      agent.send({ t: 'join', v: V, code: created.code, name: 'Eve' });
      await expectRefused(agent, 'unauthorized', 4001);
    }
    assert.equal(customer.pending(), 0);
    await customer.close();
  });

  const BAD = {
    'an expired token': { claims: { exp: Math.floor(Date.now() / 1000) - 120 }, message: /expired/ },
    'a token not valid yet': { claims: { nbf: Math.floor(Date.now() / 1000) + 600 }, message: /"nbf" claim/ },
    'another issuer': { claims: { iss: 'someone-else' }, message: /"iss" claim/ },
    'another audience': { claims: { aud: 'other-app' }, message: /"aud" claim/ },
    'no subject': { claims: { sub: null }, message: /"sub" claim/ },
    'no expiry': { claims: { exp: null }, message: /"exp" claim/ },
    'another secret': { claims: { secret: 'x'.repeat(40) }, message: /not valid/ },
    'no iat (its lifetime is unknown)': { claims: { iat: null }, message: /lacks the required "iat" claim/ },
    'a lifetime over 12 h': { claims: { exp: '725m' }, message: /lives longer than 12 h \(exp − iat\)/ },
    'a token issued 13 h ago': { claims: { iat: now() - 13 * 3600, exp: now() + 300 }, message: /issued more than 12 h ago/ },
    'an iat in the future': { claims: { iat: now() + 600 }, message: /"iat" claim/ },
    'an empty sub': { claims: { sub: '' }, message: /"sub" claim must be a non-empty string of at most 256/ },
    'a sub of 257 characters': { claims: { sub: 'x'.repeat(257) }, message: /"sub" claim must be a non-empty string/ },
    'a typ of another kind of token': { claims: { typ: 'logout+jwt' }, message: /"typ" header "logout\+jwt" is not JWT or at\+jwt/ },
  };
  for (const [what, { claims, message }] of Object.entries(BAD)) {
    it(`${what} gets unauthorized and 4001, with a reason`, async () => {
      const { customer, created } = await createSession(ctx.url);
      const agent = await connect(ctx.url, { protocols: agentProtocols(await sign(claims)) });
      agent.send({ t: 'join', v: V, code: created.code });
      const frame = await agent.next();
      assert.equal(frame.code, 'unauthorized');
      assert.match(frame.message, message);
      assert.equal((await agent.closedWithin()).code, 4001);
      await customer.close();
    });
  }

  it('a typ of JWT or at+jwt (any case, application/ or not) joins, as does a lifetime of exactly 12 h and a sub of 256', async () => {
    const t = now();
    const tokens = [
      ...['JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt'].map((typ) => sign({ typ })),
      sign({ iat: t, exp: t + 12 * 3600 }),
      sign({ sub: 'x'.repeat(256) }),
    ];
    for (const token of await Promise.all(tokens)) {
      const { customer, created } = await createSession(ctx.url);
      const { agent, joined } = await joinAs(ctx.url, token, created.code);
      assert.equal(joined.t, 'joined', JSON.stringify(joined));
      await Promise.all([agent.close(), customer.close()]);
    }
  });

  it('forged tokens are refused: alg none, a tampered payload, garbage', async () => {
    const { customer, created } = await createSession(ctx.url);
    const good = await sign();
    const [h, , s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', name: 'Root', exp: 9e9, iss: 'cc', aud: 'cobrowse' })).toString('base64url')}.${s}`;
    const none = new UnsecuredJWT({ name: 'None' })
      .setSubject('x')
      .setIssuer('cc')
      .setAudience('cobrowse')
      .setExpirationTime('5m')
      .encode();
    for (const token of [tampered, none, 'not.a.jwt', 'x']) {
      const agent = await connect(ctx.url, { protocols: agentProtocols(token) });
      agent.send({ t: 'join', v: V, code: created.code });
      await expectRefused(agent, 'unauthorized', 4001);
    }
    await customer.close();
  });

  it('a socket whose token is refused may still act as a customer', async () => {
    const client = await connect(ctx.url, { protocols: agentProtocols('x') });
    client.send({ t: 'create', v: V, mode: 'no-control' });
    assert.equal((await client.next()).t, 'created');
    await client.close();
  });

  it('server-side agents may send Authorization: Bearer instead', async () => {
    const { customer, created } = await createSession(ctx.url);
    const agent = await connect(ctx.url, { headers: { authorization: `Bearer ${await sign({ name: 'Bot' })}` } });
    agent.send({ t: 'join', v: V, code: created.code });
    assert.equal((await agent.next()).t, 'joined');
    assert.equal((await customer.next()).name, 'Bot');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('a client offering only the bearer subprotocol gets no protocol and fails to connect', async () => {
    await assert.rejects(connect(ctx.url, { protocols: [`cobrowse.bearer.${await sign()}`] }), /subprotocol/i);
  });

  it('never logs a token', async () => {
    const token = await sign({ name: 'Logged?' });
    const { customer, created } = await createSession(ctx.url);
    const { agent } = await joinAs(ctx.url, token, created.code);
    await Promise.all([agent.close(), customer.close()]);
    const text = JSON.stringify(ctx.logs);
    assert.ok(!text.includes(token.split('.')[2]), 'a token signature was logged');
    assert.ok(!text.includes(SECRET));
  });
});

describe('agent tokens: a shorter maximum lifetime', () => {
  const ctx = relaySuite({ agentAuth: { secret: SECRET, maxTokenAgeMs: 30 * 60_000 } });

  it('maxTokenAgeMs refuses a 1 h token and takes a 30 min one; the summary says so', async () => {
    const { customer, created } = await createSession(ctx.url);
    const long = await joinAs(ctx.url, await sign({ exp: '1h' }), created.code);
    assert.equal(long.joined.code, 'unauthorized');
    assert.match(long.joined.message, /lives longer than 30 min/);
    const short = await joinAs(ctx.url, await sign({ exp: '30m' }), created.code);
    assert.equal(short.joined.t, 'joined');
    assert.match(ctx.server.relay.summary[0], /lifetime at most 30 min/);
    await Promise.all([short.agent.close(), customer.close()]);
  });
});

describe('agent tokens (public keys and JWKS)', () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'cobrowse-keys-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPem = joinPath(dir, 'rsa.pem');
  const ecPem = joinPath(dir, 'ec.pem');
  writeFileSync(rsaPem, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(ecPem, ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const relays = [];
  const start = async (agentAuth) => {
    const relay = await startRelay({ port: 0, log: () => {}, agentAuth });
    relays.push(relay);
    return relay.url;
  };
  after(() => Promise.all(relays.map((r) => r.close())));

  async function tryJoin(url, token) {
    const { customer, created } = await createSession(url);
    const { agent, joined } = await joinAs(url, token, created.code);
    await Promise.all([agent.close(), customer.close()]);
    return joined.t === 'joined' ? 'joined' : joined.code;
  }

  it('RS256 with a PEM public key file', async () => {
    const url = await start({ publicKeyFile: rsaPem });
    assert.equal(await tryJoin(url, await sign({ alg: 'RS256', privateKey: rsa.privateKey })), 'joined');
    assert.equal(await tryJoin(url, await sign({ alg: 'ES256', privateKey: ec.privateKey })), 'unauthorized');
    // The classic confusion: an HS256 token "signed" with the public key as the secret.
    const pemAsSecret = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    assert.equal(await tryJoin(url, await sign({ secret: pemAsSecret })), 'unauthorized');
  });

  it('ES256 with a PEM public key file', async () => {
    const url = await start({ publicKeyFile: ecPem });
    assert.equal(await tryJoin(url, await sign({ alg: 'ES256', privateKey: ec.privateKey })), 'joined');
    assert.equal(await tryJoin(url, await sign({ alg: 'RS256', privateKey: rsa.privateKey })), 'unauthorized');
  });

  it('a JWKS file picks the key by kid', async () => {
    const jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'e1', alg: 'ES256', use: 'sig' },
      ],
    };
    const file = joinPath(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(jwks));
    const url = await start({ jwksFile: file, issuer: 'cc' });
    assert.equal(await tryJoin(url, await sign({ alg: 'RS256', privateKey: rsa.privateKey, kid: 'r1' })), 'joined');
    assert.equal(await tryJoin(url, await sign({ alg: 'ES256', privateKey: ec.privateKey, kid: 'e1' })), 'joined');
    assert.equal(await tryJoin(url, await sign({ alg: 'ES256', privateKey: ec.privateKey, kid: 'r1' })), 'unauthorized');
    assert.equal(await tryJoin(url, await sign({ alg: 'RS256', privateKey: rsa.privateKey, kid: 'r1', iss: 'x' })), 'unauthorized');
  });

  it('a JWKS URL is fetched', async () => {
    const jwks = { keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'e1', alg: 'ES256' }] };
    const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = await start({ jwksUrl: `http://127.0.0.1:${server.address().port}/jwks.json` });
      assert.equal(await tryJoin(url, await sign({ alg: 'ES256', privateKey: ec.privateKey, kid: 'e1' })), 'joined');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('impossible configurations are a TypeError at start', async () => {
    const ed = generateKeyPairSync('ed25519');
    const edPem = joinPath(dir, 'ed.pem');
    writeFileSync(edPem, ed.publicKey.export({ type: 'spki', format: 'pem' }));
    for (const agentAuth of [
      { secret: 'too-short' },
      { secret: SECRET, publicKeyFile: rsaPem },
      {},
      { publicKeyFile: joinPath(dir, 'missing.pem') },
      { publicKeyFile: edPem },
      { jwksFile: rsaPem },
      { secret: SECRET, maxTokenAgeMs: 0 },
      { secret: SECRET, maxTokenAgeMs: Infinity },
    ]) {
      await assert.rejects(startRelay({ port: 0, log: () => {}, agentAuth }), TypeError, JSON.stringify(agentAuth));
    }
  });
});

describe('dev mode', () => {
  const ctx = relaySuite({ agentAuth: 'dev' });
  const token = async (query = '', headers = {}) => fetch(`${httpBase(ctx.url)}/dev/agent-token${query}`, { headers });

  it('GET /dev/agent-token issues a token that joins, with the name asked for', async () => {
    const res = await token('?name=Dev%20Dana');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await res.json();
    const { customer, created } = await createSession(ctx.url);
    const { agent, joined } = await joinAs(ctx.url, body.token, created.code);
    assert.equal(joined.t, 'joined');
    assert.equal((await customer.next()).name, 'Dev Dana');
    await Promise.all([agent.close(), customer.close()]);
  });

  it('still refuses agents without a token', async () => {
    const { customer, created } = await createSession(ctx.url);
    const agent = await connect(ctx.url);
    agent.send({ t: 'join', v: V, code: created.code });
    await expectRefused(agent, 'unauthorized', 4001);
    await customer.close();
  });

  it('a dev token is worthless against another dev relay (each has its own random secret)', async () => {
    const other = await startRelay({ port: 0, log: () => {}, agentAuth: 'dev' });
    try {
      const { token: foreign } = await (await fetch(`${httpBase(other.url)}/dev/agent-token`)).json();
      const { customer, created } = await createSession(ctx.url);
      const { agent, joined } = await joinAs(ctx.url, foreign, created.code);
      assert.equal(joined.code, 'unauthorized');
      await Promise.all([agent.closed, customer.close()]);
    } finally {
      await other.close();
    }
  });

  it('accepts localhost origins only; a localhost console may fetch a token across ports (CORS)', async () => {
    for (const origin of ['http://localhost:3000', 'https://shop.localhost', 'http://127.0.0.1:8080', 'http://[::1]:5173']) {
      const client = await connect(ctx.url, { origin });
      await client.close();
    }
    await assert.rejects(connect(ctx.url, { origin: 'https://evil.example' }), /403/);
    await assert.rejects(connect(ctx.url, { origin: 'http://localhost.evil.example' }), /403/);
    const res = await token('', { origin: 'http://localhost:3000' });
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:3000');
    assert.equal((await token('', { origin: 'https://evil.example' })).headers.get('access-control-allow-origin'), null);
  });

  it('warns loudly in its log', () => {
    assert.ok(ctx.logs.some((e) => e.event === 'warning' && /DEV MODE/.test(e.message)));
  });

  it('there is no /dev/agent-token outside dev mode', async () => {
    const plain = await startRelay({ port: 0, log: () => {} });
    const secured = await startRelay({ port: 0, log: () => {}, agentAuth: { secret: SECRET } });
    try {
      assert.equal((await fetch(`${httpBase(plain.url)}/dev/agent-token`)).status, 404);
      assert.equal((await fetch(`${httpBase(secured.url)}/dev/agent-token`)).status, 404);
    } finally {
      await Promise.all([plain.close(), secured.close()]);
    }
  });
});

describe('attachRelay with agent auth', () => {
  it('serves /dev/agent-token through handleHttp on your own server', async () => {
    const server = createServer((req, res) => {
      if (!relay.handleHttp(req, res)) res.writeHead(404).end();
    });
    const relay = attachRelay(server, { agentAuth: 'dev', log: () => {} });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      const { token } = await (await fetch(`${base}/dev/agent-token?name=Own`)).json();
      const url = `${base.replace(/^http/, 'ws')}/relay`;
      const { customer, created } = await createSession(url);
      const { agent, joined } = await joinAs(url, token, created.code);
      assert.equal(joined.t, 'joined');
      await Promise.all([agent.close(), customer.close()]);
      assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    } finally {
      await relay.close();
      server.close();
    }
  });

  it('the demo server serves /dev/agent-token when its relay runs in dev mode', async () => {
    const demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
    try {
      const res = await fetch(`${demo.url}/dev/agent-token?name=Demo`);
      assert.equal(res.status, 200);
      const { token } = await res.json();
      const url = `${demo.url.replace(/^http/, 'ws')}/relay`;
      const { customer, created } = await createSession(url);
      const { agent, joined } = await joinAs(url, token, created.code);
      assert.equal(joined.t, 'joined');
      assert.equal((await customer.next()).name, 'Demo');
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      await demo.close();
    }
  });
});
