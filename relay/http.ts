/**
 * The relay's HTTP endpoints: GET /healthz, the asset proxy, GET /metrics, and in dev mode GET
 * /dev/agent-token.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerMatches } from './auth.js';
import type { RelayContext } from './context.js';
import { pathOf } from './upgrade.js';

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export class HttpEndpoints {
  /** SHA-256 of the metrics token: compared in constant time. */
  readonly #metricsToken: Buffer | null;

  readonly #ctx: RelayContext;

  constructor(ctx: RelayContext) {
    this.#ctx = ctx;
    const { metricsToken } = ctx.o;
    this.#metricsToken = metricsToken === undefined ? null : createHash('sha256').update(metricsToken).digest();
  }

  /** See Relay.handleHttp. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const ctx = this.#ctx;
    if (ctx.assets?.handle(req, res)) return true;
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    if (url.pathname === '/healthz') {
      // A node that cannot reach its session store is not healthy: a load balancer should send new peers elsewhere.
      const ok = !ctx.shuttingDown && ctx.directory.up;
      json(res, ok ? 200 : 503, { ok, sessions: ctx.directory.size, sockets: ctx.conns.size, ...ctx.directory.health() });
      return true;
    }
    if (ctx.o.metricsPort === undefined && this.metrics(req, res)) return true;
    if (url.pathname === '/dev/agent-token' && ctx.auth?.issueDevToken) {
      this.#devToken(req, res, url);
      return true;
    }
    return false;
  }

  /** Dev consoles on other localhost ports may fetch a token too. */
  #devToken(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const ctx = this.#ctx;
    const origin = req.headers.origin;
    const cors: Record<string, string> =
      origin && ctx.agentOrigins.allows(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
    ctx.auth!.issueDevToken!(url.searchParams.get('name') ?? '').then(
      (token) => {
        ctx.log({ event: 'dev-token-issued' });
        json(res, 200, { token }, cors);
      },
      (err: unknown) => {
        ctx.log({ event: 'internal-error', error: String(err) });
        json(res, 500, { ok: false });
      },
    );
  }

  /** See Relay.handleMetrics. */
  metrics(req: IncomingMessage, res: ServerResponse): boolean {
    const ctx = this.#ctx;
    if (req.method !== 'GET' || !ctx.o.metrics || pathOf(req) !== '/metrics') return false;
    if (this.#metricsToken && !bearerMatches(req, this.#metricsToken)) {
      json(res, 401, { ok: false }, { 'www-authenticate': 'Bearer' });
      return true;
    }
    ctx.metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
      (err: unknown) => {
        ctx.log({ event: 'internal-error', error: String(err) });
        json(res, 500, { ok: false });
      },
    );
    return true;
  }
}
