/**
 * The session directory of several relays on one Redis: the same rules as MemoryDirectory, run by
 * the Lua scripts of cluster.ts against one shared record per session. This relay keeps a copy of
 * each session it has a party or a deadline of; its deadlines ask the record whether they still
 * apply (a party may be back on another node). News from other nodes — a party came, went or was
 * replaced, the session ended — arrives by the bus and is passed on as DirectoryEvents; so are
 * frames for the parties here. When Redis loses what this node wrote, the node writes it back.
 */
import type { EndedBy, Mode, PeerFrame, Role } from '../../core/protocol/index.js';
import type { Clock, ClockTimer } from '../clock.js';
import {
  ClusterUnavailable,
  RedisCluster,
  nodeOf,
  type ClusterEvent,
  type Holder,
  type RedisClusterOptions,
  type SessionRecord,
} from '../cluster.js';
import { mayRedeem, type HandoffBinding } from '../origins.js';
import { Deadline, maskCode, type Party, type Refusal, type Session, type SessionDirectory } from './directory.js';
import type * as Directory from './directory.js';
import { Deadlines, graceOf, hold, type Held } from './held.js';
import { MAX_RESUME_TOKENS } from './memory.js';
import { hashToken, newCode, newToken } from './tokens.js';

/** How often this node checks that the nodes holding its sessions' other parties are alive. */
const WATCH_MS = 1_000;
/** How soon a deadline Redis could not judge (away, or not written back yet) is asked again. */
const RETRY_MS = 1_000;

export interface RedisDirectoryOptions {
  redis: RedisClusterOptions;
  clock: Clock;
  log: (entry: Record<string, unknown>) => void;
  unjoinedTtlMs: number;
  graceMs: number;
  idleMs: number;
  /** Live sessions per creating IP, cluster-wide (Infinity: no limit). */
  sessionsPerIp: number;
  /** Failed joins per key within `joinFailureWindowMs`, cluster-wide. */
  joinFailures: number;
  joinFailureWindowMs: number;
  /** How often records in use here are kept from expiring in Redis. */
  touchMs: number;
}

export class RedisDirectory<P extends Party> implements SessionDirectory<P> {
  readonly #known = new Map<string, Held<P>>();
  readonly #cluster: RedisCluster;
  readonly #options: RedisDirectoryOptions;
  readonly #clock: Clock;
  readonly #deadlines: Deadlines<P>;
  readonly #events: Directory.DirectoryEvents<P>;
  /** A record outlives its last frame by the idle timeout and a grace period; nodes holding a party keep it fresh. */
  readonly #recordTtlMs: number;
  /** Departures Redis did not hear of (it was away): told again once it is back. */
  readonly #offlineLater: Array<[code: string, role: Role, holder: Holder]> = [];
  readonly #timers: ClockTimer[];
  #watching = false;

  constructor(options: RedisDirectoryOptions, events: Directory.DirectoryEvents<P>) {
    this.#events = events;
    this.#options = options;
    this.#clock = options.clock;
    this.#recordTtlMs = Math.max(options.idleMs, options.unjoinedTtlMs) + options.graceMs;
    this.#deadlines = new Deadlines(this.#clock, (session, why) => this.#expire(session, why));
    this.#cluster = new RedisCluster(options.redis, {
      frame: (code, role, kind, raw) => events.frame(code, role, kind, raw),
      event: (code, event) => this.#onEvent(code, event),
      health: (up) => this.#onHealth(up),
      lost: () => this.#restoreAll('node-key-lost'),
      rejected: (reason) => events.rejected(reason),
    });
    if (!options.redis.secret) {
      options.log({
        event: 'warning',
        message:
          "Insecure cluster (no secret): anyone who can PUBLISH on this Redis can send frames to this node's parties. Configure redis.secret (--cluster-secret).",
      });
    }
    const log = (err: unknown) => this.#logError(err);
    this.#timers = [
      this.#clock.setInterval(() => void this.#watchNodes().catch(log), WATCH_MS),
      // Records of sessions in use here must not expire in Redis under them.
      this.#clock.setInterval(() => this.#cluster.touch(this.#inUse(), this.#recordTtlMs), options.touchMs),
    ];
    for (const timer of this.#timers) timer.unref();
  }

  get size(): number {
    return this.#known.size;
  }

  get up(): boolean {
    return this.#cluster.up;
  }

  get describe(): string {
    const signed = this.#options.redis.secret ? 'signed (HMAC-SHA256)' : 'NOT signed';
    return `sessions shared on Redis ${this.#cluster.describe}; every limit per IP but sockets counted cluster-wide; bus messages ${signed}`;
  }

  health(): Record<string, string> {
    return { redis: this.#cluster.up ? 'up' : 'down', node: this.#cluster.node };
  }

  ready(timeoutMs: number): Promise<boolean> {
    return this.#cluster.ready(timeoutMs);
  }

  /** Without a cluster secret, a random key all nodes share (asset grants are signed with it). */
  async sharedKey(name: string): Promise<Buffer> {
    try {
      return await this.#cluster.sharedKey(name);
    } catch (err) {
      this.#logError(err);
      throw err;
    }
  }

  find(code: string): Session<P> | undefined {
    return this.#known.get(code);
  }

  values(): IterableIterator<Session<P>> {
    return this.#known.values();
  }

  create(customer: P, request: { mode: Mode; ip: string; origin: string | undefined }): Promise<Directory.Created<P> | Refusal> {
    return this.#attempt(async () => {
      const token = newToken();
      const tokenHash = await hashToken(token);
      const assetSalt = newToken();
      const customerOrigin = request.origin ?? null;
      const code = await this.#cluster.create(() => this.#freshCode(), {
        mode: request.mode,
        ip: request.ip,
        tokenHash,
        unjoinedUntil: this.#clock.now() + this.#options.unjoinedTtlMs,
        ttlMs: this.#recordTtlMs,
        holder: this.#holder(customer),
        maxPerIp: this.#options.sessionsPerIp,
        customerOrigin,
        assetSalt,
      });
      if (code === null) return 'too-many-sessions';
      const fields = { code, mode: request.mode, ip: request.ip, tokenHashes: [tokenHash], agentTokenHash: null };
      const session = this.#add({ ...fields, agentName: null, seq: 0, customerOrigin, assetSalt });
      session.customer = customer;
      this.#deadlines.arm(session, Deadline.Unjoined, this.#options.unjoinedTtlMs);
      return { session, token };
    });
  }

  resume(customer: P, request: Directory.ResumeRequest): Promise<Directory.Resumed<P> | Refusal> {
    return this.#attempt(async () => {
      const handoff = 'handoff' in request;
      const redeemed = handoff ? await this.#cluster.redeemHandoff(await hashToken(request.handoff)) : null;
      const code = !handoff ? request.code : redeemed && mayRedeem(redeemed.binding, request.origin) ? redeemed.code : null;
      const tokenHash = handoff ? null : await hashToken(request.token);
      const holder = this.#holder(customer);
      const origin = request.origin ?? null;
      const record = code && (await this.#cluster.resume(code, tokenHash, holder, this.#recordTtlMs, request.at, origin));
      if (record === 'stale') return 'stale';
      if (!record) {
        if (!handoff && this.#cluster.settling) return 'unavailable'; // its record may not be written back yet
        return handoff ? 'handoff-spent' : 'not-found';
      }
      const session = this.#adopt(record);
      const previous = session.customer;
      session.customer = customer;
      this.#deadlines.disarm(session, Deadline.Grace);
      if (!handoff) return { session, previous };
      // The new domain keeps its own resume token, for its own reloads.
      const token = newToken();
      try {
        await this.#cluster.addToken(session.code, await hashToken(token), MAX_RESUME_TOKENS);
      } catch (err) {
        this.depart(session, 'customer', customer); // refused after all: the place is vacant again
        throw err;
      }
      return { session, previous, token };
    });
  }

  join(agent: P, request: Directory.JoinRequest): Promise<Directory.Joined<P> | Refusal | Directory.Locked> {
    return this.#attempt(async () => {
      const offered = request.token === undefined ? null : await hashToken(request.token);
      const token = newToken();
      // The lockout is checked, and a miss counted, inside the join script: one atomic step cluster-wide.
      const guard = {
        keys: request.failureKeys.map((key): [string, number] => [key, this.#options.joinFailures]),
        windowMs: this.#options.joinFailureWindowMs,
        now: this.#clock.now(),
        count: !this.#cluster.settling, // a missing record may just not be written back yet
      };
      const holder = this.#holder(agent);
      const ttl = this.#recordTtlMs;
      const record = await this.#cluster.join(request.code, offered, await hashToken(token), request.name, holder, ttl, request.at, guard);
      if (record === 'stale' || record === 'taken') return record === 'stale' ? 'stale' : 'taken';
      if (record !== null && 'retryAfterMs' in record) return record;
      if (record === null) return !guard.count || this.#cluster.settling ? 'unavailable' : 'not-found';
      const reclaim = offered !== null && record.agentTokenHash === offered;
      const session = this.#adopt(record);
      const previous = session.agent;
      session.agent = agent;
      session.agentName = request.name;
      this.#deadlines.disarm(session, Deadline.Unjoined);
      this.#deadlines.disarm(session, Deadline.AgentGrace);
      return { session, previous, token: reclaim ? request.token! : token, reclaim };
    });
  }

  depart(session: Session<P>, role: Role, party: P): boolean {
    const held = session[role] === party;
    if (held) {
      session[role] = null;
      this.#deadlines.arm(session as Held<P>, graceOf(role), this.#options.graceMs);
    }
    // The place is vacant from now on (unless another connection took it), and the other party's node hears it.
    this.#goOffline(session.code, role, this.#holder(party));
    return held;
  }

  leave(session: Session<P>, agent: P): void {
    if (session.agent === agent) session.agent = null;
    this.#release(session as Held<P>);
    this.#cluster.leave(session.code, this.#holder(agent)).catch((err: unknown) => this.#logError(err));
    this.#forgetIfUnused(session as Held<P>);
  }

  async issueHandoff(session: Session<P>, binding: HandoffBinding | null, ttlMs: number): Promise<string | null> {
    const token = newToken(); // redeemed on whichever node the next domain reaches
    try {
      await this.#cluster.issueHandoff(await hashToken(token), session.code, ttlMs, binding);
      return token;
    } catch (err) {
      this.#logError(err);
      return null;
    }
  }

  end(session: Session<P>, by: EndedBy): void {
    // The script deletes the record and tells the other parties' nodes.
    this.#cluster.end(session.code, by).catch((err: unknown) => this.#logError(err));
    this.#forget(session as Held<P>);
  }

  saveSeq(session: Session<P>): void {
    this.#cluster.saveSeq(session.code, session.seq);
  }

  sendElsewhere(session: Session<P>, role: Role, kind: string, raw: Buffer): boolean {
    const node = session.remote[role];
    if (!node) return false;
    this.#cluster.sendFrame(node, session.code, role, kind, raw); // that node applies the slow-agent rules
    return true;
  }

  assetSession(code: string): Promise<{ origin: string | null; salt: string } | null> {
    return this.#cluster.assetSession(code); // the session may live on another node only
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) this.#clock.clear(timer);
    for (const session of [...this.#known.values()]) this.#forget(session);
    await this.#cluster.close();
  }

  // ─── This node's copies of the records ──────────────────────────────────────────────────

  #holder(party: P): Holder {
    return `${this.#cluster.node}:${party.serial}`;
  }

  /** The node of a holder, unless it is this one (or nobody). */
  #remoteNode(holder: Holder): string | null {
    return holder && nodeOf(holder) !== this.#cluster.node ? nodeOf(holder) : null;
  }

  /** A different ID than any this relay holds, for the cluster to try. */
  #freshCode(): string {
    let code: string;
    do code = newCode();
    while (this.#known.has(code));
    return code;
  }

  #add(fields: Parameters<typeof hold>[0]): Held<P> {
    const session = hold<P>(fields, this.#clock.monotonic());
    this.#known.set(session.code, session);
    return session;
  }

  /** A party arrived here: this relay's copy of the session, with what the record says. */
  #adopt(record: SessionRecord): Held<P> {
    const known = this.#known.get(record.code);
    const session = known ?? this.#add(record);
    if (known) {
      // The record is the truth for what any node may have changed.
      known.tokenHashes.splice(0, known.tokenHashes.length, ...record.tokenHashes);
      known.agentTokenHash = record.agentTokenHash;
      known.agentName = record.agentName;
      known.seq = Math.max(known.seq, record.seq);
      known.customerOrigin = record.customerOrigin;
    }
    session.remote.customer = this.#remoteNode(record.customer);
    session.remote.agent = this.#remoteNode(record.agent);
    // An unjoined session keeps its deadline wherever its customer goes.
    if (!record.joined && !session.timers.unjoined) {
      this.#deadlines.arm(session, Deadline.Unjoined, Math.max(1, record.unjoinedUntil - this.#clock.now()));
    }
    return session;
  }

  #inUse(): Held<P>[] {
    return [...this.#known.values()].filter((session) => session.customer || session.agent);
  }

  #forget(session: Held<P>): void {
    this.#deadlines.disarmAll(session);
    if (this.#known.get(session.code) === session) this.#known.delete(session.code);
  }

  /** A session with no party and no deadline here lives on in Redis and on other nodes only. */
  #forgetIfUnused(session: Held<P>): void {
    if (session.customer || session.agent || this.#deadlines.armed(session)) return;
    this.#forget(session);
  }

  /** The agent's place is free again (it left, or did not come back in time). */
  #release(session: Held<P>): void {
    this.#deadlines.disarm(session, Deadline.AgentGrace);
    session.agentTokenHash = null;
    session.agentName = null;
  }

  /** Closes this relay's party of a role another connection took (elsewhere). */
  #replace(session: Held<P>, role: Role): void {
    const previous = session[role];
    if (!previous) return;
    session[role] = null;
    this.#events.replaced(previous);
  }

  /** The session is over here: its parties here hear it from the relay. */
  #ended(session: Held<P>, by: EndedBy, expired: Deadline | null): void {
    this.#forget(session);
    this.#events.ended(session, by, expired);
  }

  #logError(err: unknown): void {
    this.#options.log({ event: 'redis-error', error: err instanceof ClusterUnavailable ? err.message : String(err) });
  }

  /** Runs a handshake against Redis: refused as unavailable while Redis is away (logged if it went away meanwhile). */
  async #attempt<T>(handshake: () => Promise<T | Refusal>): Promise<T | Refusal> {
    if (!this.#cluster.up) return 'unavailable';
    try {
      return await handshake();
    } catch (err) {
      if (!(err instanceof ClusterUnavailable)) throw err;
      this.#logError(err);
      return 'unavailable';
    }
  }

  // ─── Deadlines, news from other nodes, and Redis's moods ────────────────────────────────

  /** A deadline fired here: the record decides whether it still applies (a party may be back on another node). */
  #expire(session: Held<P>, why: Deadline): void {
    this.#cluster.expire(session.code, why, this.#options.graceMs).then(
      (result) => {
        if (result === 'gone' && this.#cluster.settling) return this.#deadlines.arm(session, why, RETRY_MS); // not written back yet
        if (result === 'released') {
          this.#release(session);
          this.#events.released(session);
        } else if (result === 'ended' || result === 'gone') this.#ended(session, 'expired', result === 'ended' ? why : null);
        this.#forgetIfUnused(session);
      },
      () => this.#deadlines.arm(session, why, RETRY_MS), // Redis is away: ask again shortly
    );
  }

  /** News from another node about a session with a party here. */
  #onEvent(code: string, event: ClusterEvent): void {
    const session = this.#known.get(code);
    if (!session) return;
    if (event.ev === 'ended') return this.#ended(session, event.by as EndedBy, null);
    if (event.ev === 'online') {
      this.#replace(session, event.role);
      session.remote[event.role] = nodeOf(event.holder);
      // Its deadlines are the other node's business now.
      this.#deadlines.disarm(session, graceOf(event.role));
      this.#deadlines.disarm(session, Deadline.Unjoined);
      if (event.role === 'agent') session.agentName = event.name ?? session.agentName;
      const peer: PeerFrame =
        event.role === 'agent'
          ? { t: 'peer', role: 'agent', status: 'online', name: event.name ?? 'Agent', ...(event.resumed ? { resumed: true } : {}) }
          : { t: 'peer', role: 'customer', status: 'online' };
      this.#events.peer(session, peer);
    } else {
      if (session.remote[event.role] === nodeOf(event.holder)) session.remote[event.role] = null;
      this.#events.peer(session, { t: 'peer', role: event.role, status: 'offline' });
    }
    this.#forgetIfUnused(session);
  }

  #onHealth(up: boolean): void {
    this.#options.log({
      event: up ? 'redis-up' : 'redis-down',
      ...(up ? {} : { message: 'Redis is unreachable: new sessions are refused until it is back' }),
    });
    if (!up) return;
    for (const [code, role, holder] of this.#offlineLater.splice(0)) this.#goOffline(code, role, holder);
    this.#restoreAll('redis-back'); // it may have restarted empty, or lost writes while away
  }

  /**
   * Marks a departed party's place vacant in the record. Redis may be away just then: the record
   * would name a socket that is gone, and no grace period would ever end it; so it is tried again
   * once Redis is back.
   */
  #goOffline(code: string, role: Role, holder: Holder): void {
    this.#cluster.offline(code, role, holder).catch((err: unknown) => {
      this.#logError(err);
      if (this.#offlineLater.length < 100_000) this.#offlineLater.push([code, role, holder]);
    });
  }

  /** Redis lost what this node wrote (it restarted empty, or took this node for dead): write back the sessions held here. */
  #restoreAll(why: string): void {
    const sessions = [...this.#known.values()];
    if (!sessions.length) return;
    this.#options.log({ event: 'redis-restore', why, sessions: sessions.length });
    const writes = sessions.map((session) => {
      const record = {
        code: session.code,
        mode: session.mode,
        ip: session.ip,
        tokenHashes: session.tokenHashes,
        agentTokenHash: session.agentTokenHash,
        agentName: session.agentName,
        seq: session.seq,
        joined: !session.timers.unjoined,
        unjoinedUntil: this.#clock.now() + this.#options.unjoinedTtlMs,
        customer: session.customer ? this.#holder(session.customer) : '',
        agent: session.agent ? this.#holder(session.agent) : '',
        customerOrigin: session.customerOrigin,
        assetSalt: session.assetSalt,
      };
      return this.#cluster.restore(record, this.#recordTtlMs).then(
        // Another connection holds the role now: the socket here is stale, as if replaced.
        (roles) => roles.forEach((role) => this.#replace(session, role)),
        (err: unknown) => this.#logError(err),
      );
    });
    // Parties may resume on any node from here on.
    void Promise.all(writes).then(() => this.#options.log({ event: 'redis-restored', why, sessions: sessions.length }));
  }

  /** The other parties of sessions here, on nodes that died: gone, as if their sockets had closed (their grace period starts). */
  async #watchNodes(): Promise<void> {
    if (this.#watching) return; // the last check still waits for Redis (a stalled connection): one at a time
    this.#watching = true;
    try {
      const nodes = new Set<string>();
      for (const session of this.#known.values()) {
        if (session.remote.customer) nodes.add(session.remote.customer);
        if (session.remote.agent) nodes.add(session.remote.agent);
      }
      const dead = await this.#cluster.deadNodes([...nodes]);
      if (!dead.size) return;
      this.#options.log({ event: 'nodes-dead', nodes: [...dead] });
      const orphans = [];
      for (const session of [...this.#known.values()]) {
        for (const role of ['customer', 'agent'] as const) {
          const node = session.remote[role];
          if (node && dead.has(node)) orphans.push(this.#orphan(session, role, node));
        }
      }
      await Promise.all(orphans);
    } finally {
      this.#watching = false;
    }
  }

  async #orphan(session: Held<P>, role: Role, node: string): Promise<void> {
    const holder = await this.#cluster.orphan(session.code, role, node);
    if (this.#known.get(session.code) !== session) return;
    if (holder === null) {
      // Ended on the dead node before it could say so (or, Redis just back, not written back yet).
      if (!this.#cluster.settling) this.#ended(session, 'expired', null);
      return;
    }
    session.remote[role] = this.#remoteNode(holder);
    if (holder !== '') return; // back already, on another node
    this.#events.peer(session, { t: 'peer', role, status: 'offline' });
    this.#deadlines.arm(session, graceOf(role), this.#options.graceMs);
    this.#options.log({ event: 'peer-offline', role, session: maskCode(session.code), why: 'node-dead' });
  }
}
