/**
 * Prometheus metrics, in a registry per relay (never prom-client's global one), so two
 * relays in one process — tests, or an app running two — do not clash.
 *
 * The hot path only bumps plain numbers; prom-client reads them when /metrics is scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Direction = 'in' | 'out';
/** Who sent (in) or received (out) a frame; `unknown` before a socket's first frame. */
export type Party = 'customer' | 'agent' | 'unknown';
export type DropReason = 'no-peer' | 'backpressure' | 'behind';

const PARTIES = ['customer', 'agent', 'unknown'] as const;
const PARTY_INDEX: Record<Party, number> = { customer: 0, agent: 1, unknown: 2 };
/** Where one (direction, party) pair's [frames, bytes] live in the traffic array. */
const slot = (direction: Direction, party: Party) => (direction === 'in' ? 0 : 6) + PARTY_INDEX[party] * 2;

/** Counts by a label tuple, joined with '|'. */
class Tally {
  readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}

function tallyCounter(registry: Registry, name: string, help: string, labelNames: string[], tally: Tally): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, value] of tally.counts) {
        const values = key.split('|');
        this.inc(Object.fromEntries(labelNames.map((label, i) => [label, values[i]!])), value);
      }
    },
  });
}

/** What the metrics read from the relay at scrape time. */
export interface RelayState {
  sessions(): number;
  /** Open sockets by state: pending (no first frame yet), customer, agent. */
  sockets(): Record<'pending' | 'customer' | 'agent', number>;
}

export class RelayMetrics {
  readonly registry = new Registry();
  /** [frames, bytes] per (direction, party): bumped for every frame, so a typed array, not a Map. */
  readonly #traffic = new Float64Array(12);
  readonly #dropped = new Tally();
  readonly #joinFailures = new Tally();
  readonly #refusals = new Tally();
  readonly #throttled = new Tally();
  readonly #webhook = new Tally();
  readonly #bus = new Tally();
  readonly #assets = new Tally();
  readonly #forward: Histogram;
  readonly #rtt: Histogram<'role'>;

  constructor(state: RelayState) {
    const registry = this.registry;
    new Gauge({
      name: 'cobrowse_sessions',
      help: 'Live sessions, joined or not.',
      registers: [registry],
      collect() {
        this.set(state.sessions());
      },
    });
    new Gauge({
      name: 'cobrowse_sockets',
      help: 'Open WebSockets by state.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        for (const [s, n] of Object.entries(state.sockets())) this.set({ state: s }, n);
      },
    });
    const traffic = this.#traffic;
    for (const [name, help, offset] of [
      ['cobrowse_frames_total', 'Frames received (in) and sent (out), by the role of the peer.', 0],
      ['cobrowse_bytes_total', 'Frame bytes received (in) and sent (out), by the role of the peer.', 1],
    ] as const) {
      new Counter({
        name,
        help,
        labelNames: ['direction', 'role'],
        registers: [registry],
        collect() {
          this.reset();
          for (const direction of ['in', 'out'] as const) {
            for (const role of PARTIES) this.inc({ direction, role }, traffic[slot(direction, role) + offset]!);
          }
        },
      });
    }
    tallyCounter(
      registry,
      'cobrowse_dropped_frames_total',
      'Frames not forwarded: no-peer (other party absent), backpressure (slow agent), behind (agent awaiting a fresh snapshot).',
      ['reason'],
      this.#dropped,
    );
    tallyCounter(registry, 'cobrowse_join_failures_total', 'Refused joins by reason.', ['reason'], this.#joinFailures);
    tallyCounter(
      registry,
      'cobrowse_refusals_total',
      'Refused upgrades (origin, ip-limit, shutting-down) and error frames sent, by reason.',
      ['reason'],
      this.#refusals,
    );
    tallyCounter(
      registry,
      'cobrowse_throttled_total',
      'Times a socket was paused for passing its frame or byte rate.',
      ['role'],
      this.#throttled,
    );
    tallyCounter(
      registry,
      'cobrowse_bus_rejected_total',
      'Messages from other nodes dropped: mac (missing or wrong HMAC), invalid (not a valid frame or event).',
      ['reason'],
      this.#bus,
    );
    tallyCounter(
      registry,
      'cobrowse_asset_requests_total',
      'Asset proxy requests by outcome: ok (fetched), cached, bad-request, forbidden, type, too-large, timeout, upstream, unavailable.',
      ['outcome'],
      this.#assets,
    );
    tallyCounter(registry, 'cobrowse_webhook_total', 'Webhook deliveries by result (ok, failed, dropped).', ['result'], this.#webhook);
    this.#forward = new Histogram({
      name: 'cobrowse_forward_seconds',
      help: 'Time inside the relay per forwarded frame: parse, validate, hand to the socket.',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
      registers: [registry],
    });
    this.#rtt = new Histogram({
      name: 'cobrowse_peer_rtt_seconds',
      help: 'Heartbeat ping-to-pong round trip, by role.',
      labelNames: ['role'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  frame(direction: Direction, party: Party, bytes: number): void {
    const i = slot(direction, party);
    this.#traffic[i]!++;
    this.#traffic[i + 1]! += bytes;
  }

  dropped(reason: DropReason): void {
    this.#dropped.add(reason);
  }

  joinFailed(reason: string): void {
    this.#joinFailures.add(reason);
  }

  refused(reason: string): void {
    this.#refusals.add(reason);
  }

  throttled(party: Party): void {
    this.#throttled.add(party);
  }

  webhook(result: 'ok' | 'failed' | 'dropped'): void {
    this.#webhook.add(result);
  }

  busRejected(reason: 'mac' | 'invalid'): void {
    this.#bus.add(reason);
  }

  asset(outcome: string): void {
    this.#assets.add(outcome);
  }

  forwarded(seconds: number): void {
    this.#forward.observe(seconds);
  }

  rtt(role: 'customer' | 'agent', seconds: number): void {
    this.#rtt.observe({ role }, seconds);
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
