// Operations: /metrics, /healthz, graceful shutdown, the webhook, and the CLI's flags and environment.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { ManualClock, RELAY_DEFAULTS, attachRelay, startRelay } from '../../dist/relay/index.js';
import { until } from '../helpers/wait.js';
import { PATCH, V, agentProtocols, connect, createSession, expectRefused, httpBase, metric, pair, relaySuite } from './helpers.js';

const metricsOf = async (url) => {
  const res = await fetch(`${httpBase(url)}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  return res.text();
};

describe('metrics', () => {
  const clock = new ManualClock();
  const ctx = relaySuite({ clock, metrics: true });

  it('counts sessions, sockets, frames and bytes by direction, drops, join failures and forward time', async () => {
    const { customer, agent } = await pair(ctx.url);
    const lonely = await createSession(ctx.url);
    lonely.customer.send(PATCH); // nobody to receive it: dropped, no-peer
    customer.send(PATCH);
    await agent.next();
    const stranger = await connect(ctx.url);
    stranger.send({ t: 'join', v: V, code: '000000000' });
    await expectRefused(stranger, 'session-not-found', 4004);
    const text = await metricsOf(ctx.url);
    const patchBytes = JSON.stringify(PATCH).length;
    assert.equal(metric(text, 'cobrowse_sessions'), 2);
    assert.equal(metric(text, 'cobrowse_sockets{state="customer"}'), 2);
    assert.equal(metric(text, 'cobrowse_sockets{state="agent"}'), 1);
    assert.equal(metric(text, 'cobrowse_frames_total{direction="in",role="customer"}'), 2);
    assert.equal(metric(text, 'cobrowse_bytes_total{direction="in",role="customer"}'), 2 * patchBytes);
    assert.ok(metric(text, 'cobrowse_frames_total{direction="out",role="agent"}') >= 2); // joined + the patch
    assert.equal(metric(text, 'cobrowse_dropped_frames_total{reason="no-peer"}'), 1);
    assert.equal(metric(text, 'cobrowse_join_failures_total{reason="not-found"}'), 1);
    assert.equal(metric(text, 'cobrowse_refusals_total{reason="session-not-found"}'), 1);
    assert.equal(metric(text, 'cobrowse_forward_seconds_count'), 1);
    // Heartbeat pongs give round-trip times.
    clock.advance(RELAY_DEFAULTS.heartbeatMs);
    await until(async () => {
      const later = await metricsOf(ctx.url);
      return (
        metric(later, 'cobrowse_peer_rtt_seconds_count{role="customer"}') >= 2 &&
        metric(later, 'cobrowse_peer_rtt_seconds_count{role="agent"}') >= 1
      );
    }, 'round-trip times of both roles');
    await Promise.all([agent.close(), customer.close(), lonely.customer.close()]);
  });

  it('each relay has its own registry: two in one process do not clash', async () => {
    const other = await startRelay({ port: 0, log: () => {}, metrics: true });
    try {
      const { customer } = await createSession(other.url);
      assert.equal(metric(await metricsOf(other.url), 'cobrowse_sessions'), 1);
      assert.notEqual(other.relay.registry, ctx.server.relay.registry);
      await customer.close();
    } finally {
      await other.close();
    }
  });

  it('are off unless switched on: GET /metrics is 404', async () => {
    const quiet = await startRelay({ port: 0, log: () => {} });
    assert.equal((await fetch(`${httpBase(quiet.url)}/metrics`)).status, 404);
    assert.match(quiet.relay.summary.join('\n'), /metrics: off/);
    await quiet.close();
  });

  it('with metricsToken, GET /metrics needs Authorization: Bearer <token> (401 without it or with another)', async () => {
    const token = 'scrape-token-0123456789';
    const guarded = await startRelay({ port: 0, log: () => {}, metrics: true, metricsToken: token });
    try {
      const get = (headers) => fetch(`${httpBase(guarded.url)}/metrics`, { headers });
      assert.equal((await get({})).status, 401);
      assert.equal((await get({ authorization: 'Bearer scrape-token-0123456788' })).status, 401);
      assert.equal((await get({ authorization: token })).status, 401);
      const ok = await get({ authorization: `Bearer ${token}` });
      assert.equal(ok.status, 200);
      assert.ok(metric(await ok.text(), 'cobrowse_sessions') >= 0);
      assert.equal((await fetch(`${httpBase(guarded.url)}/healthz`)).status, 200, 'health needs no token');
    } finally {
      await guarded.close();
    }
  });

  it('with metricsPort, GET /metrics is served on its own port only', async () => {
    const split = await startRelay({ port: 0, log: () => {}, metricsPort: 0 });
    try {
      assert.ok(split.metricsPort > 0 && split.metricsPort !== split.port);
      assert.equal((await fetch(`${httpBase(split.url)}/metrics`)).status, 404, 'not on the relay port');
      const own = `http://127.0.0.1:${split.metricsPort}`;
      assert.equal((await fetch(`${own}/metrics`)).status, 200);
      assert.equal((await fetch(`${own}/healthz`)).status, 404, 'only /metrics there');
    } finally {
      await split.close();
    }
  });

  it('a metricsToken or metricsPort with metrics: false is a TypeError', async () => {
    for (const options of [{ metricsToken: 'x'.repeat(20) }, { metricsPort: 0 }]) {
      await assert.rejects(startRelay({ port: 0, log: () => {}, metrics: false, ...options }), TypeError);
    }
    await assert.rejects(startRelay({ port: 0, log: () => {}, metricsToken: 'short' }), TypeError);
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, closes peers with 1001, and waits for them (up to drainTimeoutMs)', async () => {
    const relay = await startRelay({ port: 0, log: () => {}, drainTimeoutMs: 600 });
    const { customer, agent } = await pair(relay.url);
    const stuck = await connect(relay.url);
    stuck.ws._socket.pause(); // never reads the close frame, so never answers it
    const started = Date.now();
    const closing = relay.close();
    await assert.rejects(connect(relay.url), /ECONNREFUSED|closed before open|socket hang up/);
    assert.equal((await customer.closedWithin()).code, 1001);
    assert.equal((await agent.closedWithin()).code, 1001);
    await closing;
    assert.ok(Date.now() - started >= 500, 'close() did not wait for the stuck peer');
    assert.equal(relay.relay.socketCount, 0);
    stuck.ws.terminate();
  });

  it('attached to your server: /healthz says 503 and upgrades get 503 while draining', async () => {
    const server = createServer((req, res) => relay.handleHttp(req, res) || res.writeHead(404).end());
    const relay = attachRelay(server, { log: () => {}, drainTimeoutMs: 800 });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    const url = `${base.replace(/^http/, 'ws')}/relay`;
    const stuck = await connect(url);
    stuck.ws._socket.pause();
    const closing = relay.close();
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 503);
    assert.equal((await health.json()).ok, false);
    await assert.rejects(connect(url), /503/);
    await closing;
    stuck.ws.terminate();
    server.closeAllConnections();
    server.close();
  });
});

describe('webhook', () => {
  const received = [];
  let hook;
  let stall = false;
  before(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (!stall) res.writeHead(204).end(); // a stalled endpoint never answers
      });
    });
    await new Promise((resolve) => hook.listen(0, '127.0.0.1', resolve));
  });
  after(() => {
    hook.closeAllConnections();
    hook.close();
  });

  it('POSTs session.created, agent.joined and session.ended, signed with the secret', async () => {
    const relay = await startRelay({
      port: 0,
      log: () => {},
      metrics: true,
      webhook: { url: `http://127.0.0.1:${hook.address().port}/hooks`, secret: 'hook-secret' },
    });
    try {
      const { customer, agent, created } = await pair(relay.url, 'Alice');
      agent.send({ t: 'end' });
      await Promise.all([customer.closed, agent.closed]);
      await until(() => received.length >= 3, 'three webhook posts');
      const events = received.map(({ headers, body }) => {
        const signature = createHmac('sha256', 'hook-secret').update(body).digest('hex');
        assert.equal(headers['x-cobrowse-signature'], `sha256=${signature}`);
        assert.equal(headers['content-type'], 'application/json');
        return JSON.parse(body);
      });
      assert.deepEqual(
        events.map((e) => e.event),
        ['session.created', 'agent.joined', 'session.ended'],
      );
      assert.deepEqual(events[0], { event: 'session.created', session: created.code, mode: 'full-control', time: events[0].time });
      assert.deepEqual(events[1].agent, { id: null, name: 'Alice' });
      assert.equal(events[2].by, 'agent');
      assert.equal(metric(await metricsOf(relay.url), 'cobrowse_webhook_total{result="ok"}'), 3);
    } finally {
      await relay.close();
    }
  });

  it('a stalled endpoint never slows routing; it times out and is counted', async () => {
    received.length = 0;
    stall = true;
    const logs = [];
    const relay = await startRelay({
      port: 0,
      log: (e) => logs.push(e),
      metrics: true,
      webhook: { url: `http://127.0.0.1:${hook.address().port}/`, timeoutMs: 1000, maxInFlight: 2 },
    });
    try {
      const { customer, agent } = await pair(relay.url); // two events in flight, never answered
      customer.send(PATCH);
      assert.deepEqual(await agent.next(), PATCH);
      // Routing is done while both requests still hang: it did not wait for them.
      assert.ok(!logs.some((e) => e.event === 'webhook-failed'), 'routing waited for the webhook');
      const third = await createSession(relay.url); // past maxInFlight: dropped, not queued
      await until(() => logs.filter((e) => e.event === 'webhook-failed').length >= 3, 'three failed webhook posts logged');
      const text = await metricsOf(relay.url);
      assert.equal(metric(text, 'cobrowse_webhook_total{result="dropped"}'), 1);
      assert.equal(metric(text, 'cobrowse_webhook_total{result="failed"}'), 2);
      assert.ok(logs.some((e) => e.event === 'webhook-failed' && e.detail === 'timeout'));
      await Promise.all([agent.close(), customer.close(), third.customer.close()]);
    } finally {
      stall = false;
      await relay.close();
    }
  });
});

describe('cobrowse-relay CLI', () => {
  const cli = fileURLToPath(new URL('../../dist/relay/cli.js', import.meta.url));

  /** Runs the CLI until it prints its URL; resolves with { child, url, out(), err() }. */
  async function run(args, env = {}) {
    const child = spawn(process.execPath, [cli, '--port', '0', ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out} ${err}`)), 5000);
      child.on('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
      child.stdout.on('data', () => {
        const match = out.match(/ws:\/\/127\.0\.0\.1:\d+\/relay/);
        if (match) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      });
    });
    return { child, url, exited, out: () => out, err: () => err };
  }

  const exitCode = (args) => new Promise((resolve) => spawn(process.execPath, [cli, ...args], { stdio: 'ignore' }).on('exit', resolve));

  it('takes flags, prints a summary without secrets, and authenticates agents with the secret', async () => {
    const secret = 'cli-secret-that-is-long-enough-0123456789';
    const relay = await run([
      '--agent-secret',
      secret,
      '--origins',
      'https://shop.example',
      '--agent-origins',
      'https://console.example',
      '--sessions-per-ip',
      '3',
      '--frames-per-second',
      'unlimited',
      '--webhook-url',
      'https://hooks.example/cobrowse?key=hidden',
      '--webhook-secret',
      'hook-secret-value',
      '--agent-max-token-age',
      '30m',
    ]);
    try {
      const out = relay.out() + relay.err();
      assert.match(out, /agents: JWT, HS256 shared secret, lifetime at most 30 min/);
      assert.match(out, /customer origins: https:\/\/shop\.example; agent origins: https:\/\/console\.example/);
      assert.match(out, /unlimited frames\/s, .* 3 sessions/);
      assert.match(out, /webhook: https:\/\/hooks\.example\/… \(signed\)/);
      for (const secretText of [secret, 'hidden', 'hook-secret-value']) assert.ok(!out.includes(secretText), `printed ${secretText}`);
      const token = await new SignJWT({ name: 'CLI' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setSubject('a1')
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(secret));
      const { customer, created } = await createSession(relay.url);
      const agent = await connect(relay.url, { protocols: agentProtocols(token) });
      agent.send({ t: 'join', v: V, code: created.code });
      assert.equal((await agent.next()).t, 'joined');
      await Promise.all([agent.close(), customer.close()]);
    } finally {
      relay.child.kill('SIGKILL');
    }
  });

  it('reads COBROWSE_* environment variables', async () => {
    const relay = await run([], { COBROWSE_AGENT_SECRET: 'env-secret-that-is-long-enough-0123456789', COBROWSE_SOCKETS_PER_IP: '7' });
    try {
      assert.match(relay.out(), /agents: JWT, HS256/);
      assert.match(relay.out(), /7 sockets/);
      const { customer, created } = await createSession(relay.url);
      const agent = await connect(relay.url);
      agent.send({ t: 'join', v: V, code: created.code });
      await expectRefused(agent, 'unauthorized', 4001);
      await customer.close();
    } finally {
      relay.child.kill('SIGKILL');
    }
  });

  it('--dev warns loudly, serves /dev/agent-token, and exposes process metrics', async () => {
    const relay = await run(['--dev', '--metrics']);
    try {
      await until(() => /DEV MODE/.test(relay.err()), 'the warning on stderr');
      assert.match(relay.out(), /"event":"warning".*DEV MODE/);
      const { token } = await (await fetch(`${httpBase(relay.url)}/dev/agent-token?name=Cli`)).json();
      const { customer, created } = await createSession(relay.url);
      const agent = await connect(relay.url, { protocols: agentProtocols(token) });
      agent.send({ t: 'join', v: V, code: created.code });
      assert.equal((await agent.next()).t, 'joined');
      await Promise.all([agent.close(), customer.close()]);
      assert.ok(metric(await metricsOf(relay.url), 'process_resident_memory_bytes') > 0);
    } finally {
      relay.child.kill('SIGKILL');
    }
  });

  it('drains on SIGTERM: peers get 1001 and the process exits 0', async () => {
    const relay = await run([]);
    const { customer, agent } = await pair(relay.url);
    relay.child.kill('SIGTERM');
    assert.equal((await customer.closedWithin()).code, 1001);
    assert.equal((await agent.closedWithin()).code, 1001);
    assert.equal(await relay.exited, 0);
    assert.match(relay.out(), /"event":"shutdown","signal":"SIGTERM"/);
  });

  it('refuses impossible configurations with exit code 2', async () => {
    for (const args of [
      ['--agent-secret', 'short'],
      ['--dev', '--agent-secret', 'x'.repeat(40)],
      ['--agent-secret', 'x'.repeat(40), '--agent-jwks', 'keys.json'],
      ['--sessions-per-ip', 'many'],
      ['--origins', 'shop.example'],
      ['--max-payload', String(2 * 1024 * 1024)],
      ['--agent-secret', 'x'.repeat(40), '--agent-max-token-age', '12 days'],
      ['--metrics-port', 'x'],
      ['--metrics-token', 'short'],
      ['--no-such-flag'],
    ]) {
      assert.equal(await exitCode(['--port', '0', ...args]), 2, args.join(' '));
    }
  });
});
