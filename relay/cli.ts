#!/usr/bin/env node
/** `cobrowse-relay`: runs a standalone relay until SIGINT/SIGTERM. Every flag also reads COBROWSE_<FLAG> from the environment. */
import { parseArgs } from 'node:util';
import { collectDefaultMetrics } from 'prom-client';
import type { AgentAuthOptions } from './auth.js';
import { RELAY_DEFAULTS, startRelay, type RelayLimits, type RelayOptions } from './index.js';

const L = RELAY_DEFAULTS.limits;
const USAGE = `Usage: cobrowse-relay [options]

Runs the co-browsing relay: peers connect to ws://HOST:PORT${RELAY_DEFAULTS.path}; GET /healthz on the
same port, and with --metrics GET /metrics (Prometheus). Sessions live in memory, in this one process,
unless --redis shares them with other relays (any number, behind any load balancer).
Every option can also come from the environment: --agent-secret is COBROWSE_AGENT_SECRET, and so on
(prefer that for secrets: command lines are visible to every user of the machine).

Listening:
  --port N                 port (default 8090, or $PORT; 0 picks a free one)
  --host H                 interface (default 127.0.0.1, or $HOST; 0.0.0.0 for all)
  --trust-proxy            take the client IP from X-Forwarded-For (only behind your own proxy)

Agents (pick one; without any, agents are NOT authenticated):
  --agent-secret S         HS256 shared secret (at least 32 bytes)
  --agent-public-key FILE  PEM public key: RS256 (RSA) or ES256 (P-256)
  --agent-jwks FILE|URL    JWKS file, or https URL of your identity provider's JWKS
  --agent-issuer ISS       required "iss" claim
  --agent-audience AUD     required "aud" claim
  --agent-max-token-age T  longest token lifetime (exp - iat) accepted, e.g. 12h, 30m, 90s or
                           seconds (default 12h); tokens without "iat" are refused
  --dev                    development only: the relay issues agent tokens itself at
                           GET /dev/agent-token?name=…, and accepts any localhost origin

Origins (exact, comma-separated, e.g. https://shop.example,https://www.shop.example):
  --origins LIST           for customer pages and agent consoles
  --customer-origins LIST  for customer pages (overrides --origins)
  --agent-origins LIST     for agent consoles (overrides --origins)

Limits ("unlimited" switches one off):
  --frames-per-second N    per socket, throttled past it (default ${L.framesPerSecond})
  --bytes-per-second N     per socket, throttled past it (default ${L.bytesPerSecond})
  --sockets-per-ip N       default ${L.socketsPerIp}
  --sessions-per-ip N      default ${L.sessionsPerIp}
  --per48-factor N         an IPv6 /48 may hold N times each per-IP cap (default ${L.per48Factor})
  --join-failures N        failed joins per agent and per IP per window (default ${L.joinFailures})
  --join-window SECONDS    default ${L.joinFailureWindowMs / 1000}
  --high-water BYTES       queued to an agent before its patches are dropped (default ${L.highWaterBytes})
  --hard-cap BYTES         queued to an agent before nothing more is sent (default ${L.hardCapBytes})
  --max-payload BYTES      largest frame, at most ${RELAY_DEFAULTS.maxPayload} (default)
  --unjoined-ttl SECONDS   a session nobody joins ends after this (default ${RELAY_DEFAULTS.unjoinedTtlMs / 1000})
  --grace SECONDS          a dropped customer may resume within this, a dropped agent keeps its place (default ${RELAY_DEFAULTS.graceMs / 1000})
  --idle SECONDS           a session with no page content or command for this long ends (default ${RELAY_DEFAULTS.idleMs / 1000})
  --heartbeat SECONDS      ping interval (default ${RELAY_DEFAULTS.heartbeatMs / 1000})
  --drain-timeout SECONDS  on SIGTERM, wait this long for peers to close (default ${RELAY_DEFAULTS.drainTimeoutMs / 1000})

Asset proxy (on by default: the agent's mirror loads the page's images, styles, fonts and media
through the relay, from the customer page's origin only, never from private addresses):
  --asset-origin ORIGIN    one more origin to fetch from for every session (repeatable, or
                           comma-separated); only listed origins may be private or loopback addresses
  --asset-max-bytes BYTES  largest asset (default ${RELAY_DEFAULTS.assets.maxBytes})
  --asset-timeout SECONDS  the whole fetch, redirects included (default ${RELAY_DEFAULTS.assets.timeoutMs / 1000})
  --no-asset-proxy         switch it off (the mirror then loads no assets, unless its viewer says direct)

Scaling out:
  --redis URL              redis://[user:pass@]host:port[/db] (or rediss://): session records,
                           join limits and frames between relays go through this Redis; a peer
                           whose relay dies resumes on another. Put the password in COBROWSE_REDIS
  --redis-prefix P         prefix of every Redis key and channel (default cobrowse:)
  --cluster-secret S       shared by every node (at least 32 bytes): messages between nodes carry an
                           HMAC-SHA256 under it, others are dropped. Put it in COBROWSE_CLUSTER_SECRET.
                           Required with --redis, unless:
  --insecure-cluster       run without it: anyone who can PUBLISH on the Redis can send frames to
                           its sessions (tests and labs only)

Metrics (off unless asked for):
  --metrics                serve GET /metrics (Prometheus) on the relay's port
  --metrics-port N         serve it alone on this port of the same host instead (implies --metrics)
  --metrics-token T        require Authorization: Bearer T, at least 16 characters (implies --metrics)

Webhook:
  --webhook-url URL        POST JSON on session.created, agent.joined, session.ended
  --webhook-secret S       sign each POST: X-Cobrowse-Signature: sha256=<HMAC of the body>

  -h, --help               show this help
`;

function fail(message: string): never {
  process.stderr.write(`cobrowse-relay: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const STRINGS = [
  'port',
  'host',
  'agent-secret',
  'agent-public-key',
  'agent-jwks',
  'agent-issuer',
  'agent-audience',
  'agent-max-token-age',
  'origins',
  'customer-origins',
  'agent-origins',
  'frames-per-second',
  'bytes-per-second',
  'sockets-per-ip',
  'sessions-per-ip',
  'pending-per-ip',
  'per48-factor',
  'headers-timeout',
  'join-failures',
  'join-window',
  'high-water',
  'hard-cap',
  'max-payload',
  'unjoined-ttl',
  'grace',
  'idle',
  'heartbeat',
  'drain-timeout',
  'webhook-url',
  'webhook-secret',
  'redis',
  'redis-prefix',
  'cluster-secret',
  'metrics-port',
  'metrics-token',
  'asset-max-bytes',
  'asset-timeout',
] as const;
const FLAGS = ['dev', 'trust-proxy', 'metrics', 'no-asset-proxy', 'insecure-cluster'] as const;

let parsed: Record<string, string | boolean | string[] | undefined>;
try {
  ({ values: parsed } = parseArgs({
    options: {
      ...Object.fromEntries(STRINGS.map((name) => [name, { type: 'string' as const }])),
      ...Object.fromEntries(FLAGS.map((name) => [name, { type: 'boolean' as const }])),
      'asset-origin': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (parsed.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

/** A flag, else COBROWSE_<FLAG>, else (for port and host) the conventional PORT/HOST. */
function option(name: string): string | undefined {
  const value = parsed[name] ?? process.env[`COBROWSE_${name.toUpperCase().replace(/-/g, '_')}`];
  if (value === undefined && (name === 'port' || name === 'host')) return process.env[name.toUpperCase()];
  return value === undefined ? undefined : String(value); // a repeated flag's values, comma-joined
}
const flag = (name: string) => parsed[name] === true || /^(1|true|yes)$/i.test(option(name) ?? '');
const list = (name: string) =>
  option(name)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A positive number ("unlimited" allowed where a limit can be switched off), times `scale`. */
function number(name: string, scale = 1, unlimited = false): number | undefined {
  const text = option(name);
  if (text === undefined) return undefined;
  if (unlimited && text === 'unlimited') return Infinity;
  const n = Number(text);
  if (!(n > 0 && Number.isFinite(n))) fail(`invalid --${name} "${text}"`);
  return n * scale;
}

const UNIT_MS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3600_000 };
/** A duration in ms: "12h", "30m", "90s", or a number of seconds. */
function durationMs(name: string): number | undefined {
  const text = option(name);
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(h|m|s|)$/.exec(text.trim());
  if (!m || !(Number(m[1]) > 0)) fail(`invalid --${name} "${text}" (e.g. 12h, 30m, 90s or seconds)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

function metricsPort(): number | undefined {
  const text = option('metrics-port');
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) fail(`invalid --metrics-port "${text}"`);
  return Number(text);
}

const portText = option('port') ?? '8090';
const port = Number(portText);
if (!/^\d{1,5}$/.test(portText) || port > 65535) fail(`invalid port "${portText}"`);
const host = option('host') ?? '127.0.0.1';

let agentAuth: RelayOptions['agentAuth'];
const keySources = ['agent-secret', 'agent-public-key', 'agent-jwks'].filter((name) => option(name) !== undefined);
if (flag('dev')) {
  if (keySources.length) fail('--dev issues its own tokens; drop --agent-secret/--agent-public-key/--agent-jwks');
  agentAuth = 'dev';
} else if (keySources.length > 1) {
  fail('give one of --agent-secret, --agent-public-key, --agent-jwks');
} else if (keySources.length === 1) {
  const jwks = option('agent-jwks');
  const auth: AgentAuthOptions = {
    issuer: option('agent-issuer'),
    audience: option('agent-audience'),
    maxTokenAgeMs: durationMs('agent-max-token-age'),
  };
  if (option('agent-secret') !== undefined) auth.secret = option('agent-secret');
  else if (option('agent-public-key') !== undefined) auth.publicKeyFile = option('agent-public-key');
  else if (jwks && /^https?:\/\//.test(jwks)) auth.jwksUrl = jwks;
  else auth.jwksFile = jwks;
  agentAuth = auth;
}

const limits: Partial<RelayLimits> = {
  framesPerSecond: number('frames-per-second', 1, true),
  bytesPerSecond: number('bytes-per-second', 1, true),
  socketsPerIp: number('sockets-per-ip', 1, true),
  sessionsPerIp: number('sessions-per-ip', 1, true),
  pendingPerIp: number('pending-per-ip', 1, true),
  per48Factor: number('per48-factor', 1, true),
  joinFailures: number('join-failures', 1, true),
  joinFailureWindowMs: number('join-window', 1000),
  highWaterBytes: number('high-water'),
  hardCapBytes: number('hard-cap'),
};
const webhookUrl = option('webhook-url');
const redisUrl = option('redis');
if (option('redis-prefix') !== undefined && !redisUrl) fail('--redis-prefix needs --redis');
if (option('cluster-secret') !== undefined && !redisUrl) fail('--cluster-secret needs --redis');
if (flag('insecure-cluster') && !redisUrl) fail('--insecure-cluster needs --redis');

// Warnings the relay logs while starting wait until the summary is printed, so it comes first.
const early: Record<string, unknown>[] = [];
let started = false;
const jsonLine = (event: Record<string, unknown>) => `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`;
const log = (event: Record<string, unknown>) => {
  if (!started) return void early.push(event);
  process.stdout.write(jsonLine(event));
};

const options: RelayOptions & { port: number; host: string } = {
  port,
  host,
  log,
  agentAuth,
  limits,
  origins: list('origins'),
  customerOrigins: list('customer-origins'),
  agentOrigins: list('agent-origins'),
  trustProxy: flag('trust-proxy'),
  maxPayload: number('max-payload'),
  unjoinedTtlMs: number('unjoined-ttl', 1000),
  graceMs: number('grace', 1000),
  idleMs: number('idle', 1000),
  heartbeatMs: number('heartbeat', 1000),
  drainTimeoutMs: number('drain-timeout', 1000),
  headersTimeoutMs: number('headers-timeout', 1000),
  webhook: webhookUrl ? { url: webhookUrl, secret: option('webhook-secret') } : undefined,
  redis: redisUrl
    ? { url: redisUrl, prefix: option('redis-prefix'), secret: option('cluster-secret'), insecure: flag('insecure-cluster') }
    : undefined,
  metrics: flag('metrics') || option('metrics-port') !== undefined || option('metrics-token') !== undefined,
  metricsToken: option('metrics-token'),
  metricsPort: metricsPort(),
  assets: flag('no-asset-proxy')
    ? false
    : { origins: list('asset-origin'), maxBytes: number('asset-max-bytes'), timeoutMs: number('asset-timeout', 1000) },
};

let relay: Awaited<ReturnType<typeof startRelay>>;
try {
  relay = await startRelay(options);
} catch (err) {
  if (err instanceof TypeError) fail(err.message); // an impossible configuration
  process.stderr.write(`cobrowse-relay: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
  process.exit(1);
}
collectDefaultMetrics({ register: relay.relay.registry }); // process memory, CPU, event-loop lag

/** Where the banner says metrics are, if anywhere. */
function metricsWhere(): string {
  if (!options.metrics) return '';
  if (relay.metricsPort === undefined) return `, metrics ${httpBase}/metrics`;
  return `, metrics ${httpBase.replace(/:\d+$/, `:${relay.metricsPort}`)}/metrics`;
}
const httpBase = relay.url.replace(/^ws/, 'http').slice(0, -RELAY_DEFAULTS.path.length);
// One write, so whoever reads the first line (a supervisor, a test) has the summary and the early warnings too.
process.stdout.write(
  [
    `cobrowse-relay listening on ${relay.url} (health ${httpBase}/healthz${metricsWhere()})\n`,
    ...relay.relay.summary.map((line) => `  ${line}\n`),
    ...early.map(jsonLine),
  ].join(''),
);
if (agentAuth === 'dev') {
  process.stderr.write(
    '\n  ***************************************************************\n' +
      '  *  DEV MODE: anyone can get an agent token at /dev/agent-token  *\n' +
      '  *  and join any session. Never run --dev where others reach it. *\n' +
      '  ***************************************************************\n\n',
  );
}
started = true;

let stopping = false;
const stop = (signal: string) => {
  if (stopping) process.exit(1); // a second signal: stop waiting
  stopping = true;
  log({ event: 'shutdown', signal });
  relay.close().then(
    () => process.exit(0),
    (err: unknown) => {
      log({ event: 'internal-error', error: String(err) });
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
