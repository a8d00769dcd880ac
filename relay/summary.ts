/**
 * The relay's configuration in a few secret-free lines, and the warnings a risky one earns at start.
 */
import type { AgentAuth } from './auth.js';
import type { ResolvedOptions } from './options.js';
import type { OriginPolicy } from './origins.js';
import type { Webhook } from './webhook.js';
import { duration } from './directory/replies.js';

const mib = (bytes: number) => (Number.isFinite(bytes) ? `${+(bytes / 1048576).toFixed(2)} MiB` : 'unlimited');
const count = (n: number, unit: string) => `${Number.isFinite(n) ? n : 'unlimited'} ${unit}`;

export interface SummaryParts {
  auth: AgentAuth | null;
  customerOrigins: OriginPolicy;
  agentOrigins: OriginPolicy;
  webhook: Webhook | null;
  /** The session directory's own line. */
  sessions: string;
}

export function summarize(o: ResolvedOptions, parts: SummaryParts): string[] {
  const { limits } = o;
  const { auth, customerOrigins, agentOrigins, webhook } = parts;
  const metrics = !o.metrics
    ? 'off'
    : `GET /metrics${o.metricsPort !== undefined ? ' on its own port' : ''}${o.metricsToken !== undefined ? ' (bearer token)' : ''}`;
  return [
    `agents: ${auth ? auth.summary : 'NOT AUTHENTICATED: anyone with a session ID may join'}`,
    `customer origins: ${customerOrigins.describe()}; agent origins: ${agentOrigins.describe()}`,
    `per socket: ${count(limits.framesPerSecond, 'frames/s')}, ${mib(limits.bytesPerSecond)}/s, frames up to ${o.maxPayload} B; ` +
      `per IP: ${count(limits.socketsPerIp, 'sockets')}, ${count(o.trustProxy ? Infinity : limits.pendingPerIp, 'connections not upgraded')}, ${count(limits.sessionsPerIp, 'sessions')}, ` +
      `${count(limits.joinFailures, 'failed joins')} per ${duration(limits.joinFailureWindowMs)} (also per agent)`,
    o.assets
      ? `asset proxy: GET ${o.assets.path}, from each session's customer origin${o.assets.origins.length ? ` and ${o.assets.origins.join(', ')}` : ''}; ` +
        `up to ${mib(o.assets.maxBytes)} within ${duration(o.assets.timeoutMs)}, cache ${mib(o.assets.cacheBytes)}`
      : 'asset proxy: off (agents load page assets from their origins themselves)',
    `slow agents: drop patches past ${mib(limits.highWaterBytes)} queued, nothing past ${mib(limits.hardCapBytes)}`,
    `sessions: unjoined TTL ${duration(o.unjoinedTtlMs)}, resume grace ${duration(o.graceMs)}, idle ${duration(o.idleMs)}, heartbeat ${duration(o.heartbeatMs)}`,
    `client IP from: ${o.trustProxy ? 'X-Forwarded-For (last entry)' : 'the socket'}; ` +
      `metrics: ${metrics}; webhook: ${webhook ? `${new URL(webhook.url).origin}/…${o.webhook?.secret ? ' (signed)' : ''}` : 'off'}`,
    parts.sessions,
  ];
}

/** Warns, once at start, of what leaves the relay open. */
export function warnAtStart(o: ResolvedOptions, parts: Omit<SummaryParts, 'webhook' | 'sessions'>): void {
  const { log } = o;
  if (parts.auth?.mode === 'dev') {
    log({ event: 'warning', message: 'DEV MODE: anyone can get an agent token at GET /dev/agent-token. Never expose this relay.' });
  } else if (!parts.auth) {
    log({ event: 'warning', message: 'Agents are not authenticated: anyone with a session ID can join. Configure agentAuth.' });
  }
  if (parts.customerOrigins.open || parts.agentOrigins.open) {
    log({ event: 'warning', message: 'No origin allowlist: pages on any site may use this relay. Configure origins.' });
  }
}
