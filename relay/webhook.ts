/**
 * An optional webhook, so a contact center can react to sessions (e.g. push a co-browsing
 * invite into the agent's chat). Fire and forget: routing never waits for it, a slow
 * endpoint costs at most `maxInFlight` pending requests, and failures are only counted.
 */
import { createHmac } from 'node:crypto';

export interface WebhookOptions {
  /** Where to POST; use https outside a lab — the body carries the full session ID. */
  url: string;
  /** If set, each POST carries `X-Cobrowse-Signature: sha256=<hex HMAC of the body>`. */
  secret?: string;
  /** Per-request timeout; default 2 s. */
  timeoutMs?: number;
  /** Requests in flight at once; past it events are dropped (and counted); default 64. */
  maxInFlight?: number;
}

export type WebhookEvent =
  | { event: 'session.created'; session: string; mode: string }
  | { event: 'agent.joined'; session: string; agent: { id: string | null; name: string } }
  | { event: 'session.ended'; session: string; by: string };

export class Webhook {
  readonly url: string;
  #inFlight = 0;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly options: WebhookOptions,
    private readonly report: (result: 'ok' | 'failed' | 'dropped', detail?: string) => void,
  ) {
    const url = new URL(options.url); // a TypeError for a malformed URL, at start
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('webhook.url must be http(s)');
    this.url = url.href;
  }

  post(event: WebhookEvent): void {
    if (this.#inFlight >= (this.options.maxInFlight ?? 64)) return this.report('dropped');
    const body = JSON.stringify({ ...event, time: new Date().toISOString() });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'cobrowse-relay' };
    if (this.options.secret) {
      headers['x-cobrowse-signature'] = `sha256=${createHmac('sha256', this.options.secret).update(body).digest('hex')}`;
    }
    this.#inFlight++;
    const done = fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000) })
      .then(async (res) => {
        await res.body?.cancel(); // the answer is not read; free the connection
        this.report(res.ok ? 'ok' : 'failed', res.ok ? undefined : `HTTP ${res.status}`);
      })
      .catch((err: Error) => this.report('failed', err.name === 'TimeoutError' ? 'timeout' : err.message))
      .finally(() => {
        this.#inFlight--;
        this.#pending.delete(done);
      });
    this.#pending.add(done);
  }

  /** Waits for requests in flight (each ends by its timeout at the latest); used at shutdown. */
  async settle(): Promise<void> {
    await Promise.all(this.#pending);
  }
}
