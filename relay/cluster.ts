/**
 * Scale-out on Redis: what relay nodes share so that a customer on one node and an agent on
 * another make one session. Session records (mode, resume-token hashes, who holds each role,
 * the held agent place, deadlines) live in one Redis hash per session, changed only by small
 * Lua scripts so that two nodes never both win a race (ID uniqueness, one agent, expiry).
 * Frames and presence between nodes travel by pub/sub on one channel per node: the record says
 * where the other party is, so a frame costs one PUBLISH and is delivered once, to that node.
 *
 * Nodes say they are alive every second (a key with a short TTL): a node that stops saying so has
 * died, and the nodes of the other parties treat its parties as gone. When Redis loses what a node
 * wrote (it restarted empty, or the node was cut off long enough to be taken for dead), the node
 * writes back the records of the sessions it holds.
 *
 * Nothing here knows sockets: the relay keeps its own sockets and asks this for the shared state.
 */
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { BusMac } from './bus-mac.js';
import { isDomainRule, type Mode } from '../core/protocol/index.js';
import type { HandoffBinding } from './origins.js';

export interface RedisClusterOptions {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  url: string;
  /** Prefix of every key and channel, so several deployments can share one Redis; default 'cobrowse:'. */
  prefix?: string;
  /**
   * The secret every node of the cluster shares (at least 32 bytes): each message between nodes carries
   * an HMAC-SHA256 under it, and messages without the right one are dropped. Required unless `insecure`.
   */
  secret?: string;
  /** Run without a secret: whoever can PUBLISH on this Redis can send frames to the sessions (the relay warns). Tests and labs only. */
  insecure?: boolean;
}

/** Where a role is held: `<node>:<connection>`, or '' when nobody holds it. */
export type Holder = string;
export const nodeOf = (holder: Holder): string => holder.slice(0, holder.lastIndexOf(':'));

/** A session as Redis has it. */
export interface SessionRecord {
  code: string;
  mode: Mode;
  ip: string;
  tokenHashes: Buffer[];
  agentTokenHash: Buffer | null;
  agentName: string | null;
  seq: number;
  customer: Holder;
  agent: Holder;
  /** An agent joined at least once: the unjoined deadline no longer applies. */
  joined: boolean;
  /** When an unjoined session expires (epoch ms). */
  unjoinedUntil: number;
  /** The Origin of the customer's latest create/resume ('' in Redis: none), and the salt asset grants are signed over. */
  customerOrigin: string | null;
  assetSalt: string;
  /** Who held the role this handshake took (resume: the customer; join: the agent), to tell it it was replaced. */
  previous: Holder;
}

/** What one node tells another about a session. */
export type ClusterEvent =
  | { ev: 'online'; role: 'customer' | 'agent'; holder: Holder; name?: string; resumed?: boolean }
  | { ev: 'offline'; role: 'customer' | 'agent'; holder: Holder }
  | { ev: 'ended'; by: string };

/**
 * Failed joins are counted cluster-wide, in a sorted set of failure times per key (an IP, an agent):
 * each key with its limit within `windowMs` (Infinity: not counted). `count`: a miss counts as a failure.
 */
export interface JoinGuard {
  keys: Array<[key: string, max: number]>;
  windowMs: number;
  now: number;
  count: boolean;
}

const ROLES = new Set(['customer', 'agent']);
const ENDED_BY = new Set(['customer', 'agent', 'expired', 'relay']);
const isText = (x: unknown, max: number) => typeof x === 'string' && x.length <= max;

/** Whether a parsed bus message is an event this node could have been sent, field by field. */
function isClusterEvent(x: unknown): x is ClusterEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  if (e.ev === 'ended') return ENDED_BY.has(e.by as string);
  if ((e.ev !== 'online' && e.ev !== 'offline') || !ROLES.has(e.role as string) || !isText(e.holder, 64)) return false;
  return (e.name === undefined || isText(e.name, 100)) && (e.resumed === undefined || e.resumed === true);
}

/** How a frame is admitted towards a slow agent (see relay.ts admitToAgent), in one byte on the bus. */
const KIND_BYTE: Record<string, number> = { snapshot: 0x73, patch: 0x70, 'snapshot-part': 0x71, pointer: 0x6f };
const BYTE_KIND: Record<number, string> = { 0x73: 'snapshot', 0x70: 'patch', 0x71: 'snapshot-part', 0x6f: 'pointer' };
const FRAME = 0x46; // 'F'
const EVENT = 0x45; // 'E'
const CODE_LENGTH = 9;

/** A node that has not said it is alive for this long is dead. */
export const ALIVE_MS = 5_000;
/**
 * After Redis comes back, how long the nodes have to write back their sessions: meanwhile a
 * missing record may just not be written back yet, so it means "try again", not "no such session".
 */
const SETTLE_MS = 5_000;
const BEAT_MS = 1_000;

export interface ClusterHandlers {
  /** A frame for this node's `role` party of session `code`; `raw` is the frame's original text. */
  frame(code: string, role: 'customer' | 'agent', kind: string, raw: Buffer): void;
  event(code: string, event: ClusterEvent): void;
  /** Redis became reachable (true) or not (false). */
  health(up: boolean): void;
  /** Redis no longer has what this node wrote (it restarted empty, or took this node for dead): write it back. */
  lost(): void;
  /** A message on this node's channel was dropped: its MAC was missing or wrong, or it did not parse. */
  rejected(reason: 'mac' | 'invalid'): void;
}

// ─── Lua: every change that two nodes could race on is one script ───────────────────────────
//
// Scripts that change who holds a role also PUBLISH the news to the nodes concerned (never to the
// calling node, which acts itself): inside the script, so the events of one session are in the
// same order as its changes — an "offline" can never overtake the "online" that followed it.
// The last three ARGV of those scripts: this node, the channel prefix, the event message.

/** Publishes `msg` (default: the last ARGV) to the nodes of the given holders (`node:conn`), each once, except this node. */
const TELL = `
local function tell(holders, msg)
  local n = #ARGV
  msg = msg or ARGV[n]
  local seen = {}
  for _, h in ipairs(holders) do
    local node = h and string.match(h, '^(.*):[^:]*$')
    if node and node ~= ARGV[n - 2] and not seen[node] then
      seen[node] = true
      redis.call('PUBLISH', ARGV[n - 1] .. node, msg)
    end
  end
end
`;

/**
 * KEYS[1] session, KEYS[2] its IP's live sessions (a sorted set of session keys by expiry); ARGV
 * mode, ip, tokenHash, unjoinedUntil, ttl, holder, now, max sessions per IP ('' unlimited), customer origin, asset salt.
 * 1 created, 0 the ID is taken, -1 the IP has `max` live sessions.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
if ARGV[8] ~= '' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[8]) then return -1 end
redis.call('HSET', KEYS[1], 'm', ARGV[1], 'ip', ARGV[2], 'tok', ARGV[3], 'ah', '', 'an', '', 'seq', 0,
  'c', ARGV[6], 'a', '', 'ca', 0, 'aa', 0, 'j', 0, 'u', ARGV[4], 'ipk', KEYS[2], 'o', ARGV[9], 'g', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[7] + ARGV[5], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1`;

/** Deletes the session's record and its entry among its IP's live sessions. */
const DELETE = `
local function delete(k)
  local ipk = redis.call('HGET', k, 'ipk')
  if ipk then redis.call('ZREM', ipk, k) end
  return redis.call('DEL', k)
end
`;

/**
 * KEYS[1]; ARGV tokenHash ('' after a hand-off: no check), holder, ttl, at ('' unknown), origin, +tell. The
 * record, nil, or 'stale' (a connection older than the one holding the role: see ResumeFrame's
 * `at`). Tells the agent and a replaced customer.
 */
const RESUME = `${TELL}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] ~= '' and not string.find(' ' .. redis.call('HGET', KEYS[1], 'tok') .. ' ', ' ' .. ARGV[1] .. ' ', 1, true) then return false end
local at = tonumber(ARGV[4])
if at and at < tonumber(redis.call('HGET', KEYS[1], 'cat') or '0') then return 'stale' end
local prev = redis.call('HGET', KEYS[1], 'c')
redis.call('HSET', KEYS[1], 'c', ARGV[2], 'ca', 0, 'cat', at or 0, 'o', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
tell({prev, redis.call('HGET', KEYS[1], 'a')})
local r = redis.call('HGETALL', KEYS[1])
table.insert(r, 'prev') table.insert(r, prev)
return r`;

/**
 * KEYS[1] session, KEYS[2..] failed-join keys; ARGV reclaimHash ('' none), newHash, name, holder, ttl,
 * at ('' unknown), the event if a reclaim, the keys' failure limits (space-separated, '' unlimited),
 * window, now, a unique member, '1' to count a miss as a failure, +tell. The lockout is checked and a
 * miss counted in this one step, so parallel guesses on any nodes cannot all pass one check. The
 * record, 'taken', 'stale' (as RESUME's), 'limited <ms to wait>', or nil. Tells the customer and a replaced agent.
 */
const JOIN = `${TELL}
local limits, window, now = {}, tonumber(ARGV[9]), tonumber(ARGV[10])
for m in string.gmatch(ARGV[8], '%S+') do table.insert(limits, tonumber(m)) end
local wait = 0
for i, max in ipairs(limits) do
  local k = KEYS[i + 1]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
  local n = redis.call('ZCARD', k)
  if n >= max then wait = math.max(wait, tonumber(redis.call('ZRANGE', k, n - max, n - max, 'WITHSCORES')[2]) + window - now) end
end
if wait > 0 then return 'limited ' .. wait end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[12] == '1' then
    for i, max in ipairs(limits) do
      local k = KEYS[i + 1]
      redis.call('ZADD', k, now, ARGV[11])
      redis.call('ZREMRANGEBYRANK', k, 0, -(max + 1)) -- only the last max failures matter
      redis.call('PEXPIRE', k, window)
    end
  end
  return false
end
local ah = redis.call('HGET', KEYS[1], 'ah')
local reclaim = ARGV[1] ~= '' and ah == ARGV[1]
if ah ~= '' and not reclaim then return 'taken' end
local at = tonumber(ARGV[6])
if reclaim and at and at < tonumber(redis.call('HGET', KEYS[1], 'aat') or '0') then return 'stale' end
local prev = redis.call('HGET', KEYS[1], 'a')
if not reclaim then redis.call('HSET', KEYS[1], 'ah', ARGV[2]) end
redis.call('HSET', KEYS[1], 'an', ARGV[3], 'a', ARGV[4], 'aa', 0, 'j', 1, 'aat', at or 0)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
tell({prev, redis.call('HGET', KEYS[1], 'c')}, reclaim and ARGV[7] or nil)
local r = redis.call('HGETALL', KEYS[1])
table.insert(r, 'prev') table.insert(r, prev)
return r`;

/** KEYS[1]; ARGV field ('c' or 'a'), other field, holder, now, +tell. The role goes away only if this connection still holds it; tells the other party. */
const OFFLINE = `${TELL}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], '', ARGV[1] .. 'a', ARGV[4])
tell({redis.call('HGET', KEYS[1], ARGV[2])})
return 1`;

/** KEYS[1]; ARGV holder, +tell. An agent leaving on purpose frees its place at once; tells the customer. */
const LEAVE = `${TELL}
if redis.call('HGET', KEYS[1], 'a') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'a', '', 'ah', '', 'an', '')
tell({redis.call('HGET', KEYS[1], 'c')})
return 1`;

/**
 * KEYS[1]; ARGV why, now, graceMs, +tell. A deadline armed on some node fired: it acts only if it
 * still applies (the party may have come back on another node meanwhile). 'ended' (both parties'
 * nodes told), 'released', 'kept' or 'gone'.
 */
const EXPIRE = `${TELL}${DELETE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local h = redis.call('HMGET', KEYS[1], 'c', 'a', 'ca', 'aa', 'j', 'ah')
local now, grace = tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[1] == 'unjoined' then
  if h[5] == '1' then return 'kept' end
elseif ARGV[1] == 'grace' then
  if h[1] ~= '' or now - tonumber(h[3]) < grace then return 'kept' end
else
  if h[2] ~= '' or h[6] == '' or now - tonumber(h[4]) < grace then return 'kept' end
  redis.call('HSET', KEYS[1], 'ah', '', 'an', '')
  return 'released'
end
delete(KEYS[1])
tell({h[1], h[2]})
return 'ended'`;

/** KEYS[1]; ARGV +tell. Deletes the record and tells both parties' nodes; 0 if it was gone. */
const END = `${TELL}${DELETE}
local h = redis.call('HMGET', KEYS[1], 'c', 'a')
if delete(KEYS[1]) == 0 then return 0 end
tell({h[1], h[2]})
return 1`;

/**
 * KEYS[1] session, KEYS[2] the liveness key of a node taken for dead; ARGV field ('c' or 'a'), other
 * field, that node, now, +tell. If the node is still silent (checked here, atomically: a node that
 * said it is alive since must keep its party), the role it held is vacant since now — as is one
 * nobody holds with no time set, after a restore; tells the other party's node. Returns who holds
 * the role now ('' vacant), or nil if the record is gone.
 */
const ORPHAN = `${TELL}
local h = redis.call('HGET', KEYS[1], ARGV[1])
if not h then return false end
local vacant = h == '' and redis.call('HGET', KEYS[1], ARGV[1] .. 'a') == '0'
if not vacant and (string.match(h, '^(.*):[^:]*$') ~= ARGV[3] or redis.call('EXISTS', KEYS[2]) == 1) then return h end
redis.call('HSET', KEYS[1], ARGV[1], '', ARGV[1] .. 'a', ARGV[4])
tell({redis.call('HGET', KEYS[1], ARGV[2])})
return ''`;

/**
 * KEYS[1], KEYS[2] as CREATE's; ARGV mode, ip, tokens (space-separated), agent hash, agent name, seq, joined, unjoinedUntil,
 * ttl, customer holder, agent holder ('' where not here), customer-online event, agent-online
 * event, customer origin, asset salt, +tell. The record as this node knows it, written back: created if gone, else merged; each
 * role held here is taken again unless another connection holds it now (those roles are returned:
 * this node's sockets for them are stale). Taking back a role that was vacated tells the other party.
 */
const RESTORE = `${TELL}
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then
  redis.call('HSET', k, 'm', ARGV[1], 'ip', ARGV[2], 'tok', ARGV[3], 'ah', ARGV[4], 'an', ARGV[5], 'seq', ARGV[6],
    'c', '', 'a', '', 'ca', 0, 'aa', 0, 'j', ARGV[7], 'u', ARGV[8], 'ipk', KEYS[2], 'o', ARGV[14], 'g', ARGV[15])
  redis.call('ZADD', KEYS[2], 'GT', redis.call('TIME')[1] * 1000 + ARGV[9], k)
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
else
  if tonumber(redis.call('HGET', k, 'seq')) < tonumber(ARGV[6]) then redis.call('HSET', k, 'seq', ARGV[6]) end
  if redis.call('HGET', k, 'ah') == '' and ARGV[4] ~= '' then redis.call('HSET', k, 'ah', ARGV[4], 'an', ARGV[5]) end
  if not redis.call('HGET', k, 'g') then redis.call('HSET', k, 'o', ARGV[14], 'g', ARGV[15]) end
end
redis.call('PEXPIRE', k, ARGV[9])
local replaced = {}
for i, f in ipairs({'c', 'a'}) do
  local mine = ARGV[9 + i]
  if mine ~= '' then
    local h = redis.call('HGET', k, f)
    if h == '' then
      local vacated = redis.call('HGET', k, f .. 'a') ~= '0'
      redis.call('HSET', k, f, mine, f .. 'a', 0)
      if vacated then tell({redis.call('HGET', k, f == 'c' and 'a' or 'c')}, ARGV[11 + i]) end
    elseif h ~= mine then
      table.insert(replaced, f)
    end
  end
end
return replaced`;

/** KEYS[1]; ARGV hash, max. One more resume token (a hand-off's), the oldest dropped past max. */
const ADD_TOKEN = `
local t = redis.call('HGET', KEYS[1], 'tok')
if not t then return 0 end
local list = {}
for w in string.gmatch(t, '%S+') do table.insert(list, w) end
table.insert(list, ARGV[1])
while #list > tonumber(ARGV[2]) do table.remove(list, 1) end
redis.call('HSET', KEYS[1], 'tok', table.concat(list, ' '))
return 1`;

/** KEYS[1]; ARGV seq. Raises the stored sequence number; never recreates an ended session. */
const SEQ = `
local s = redis.call('HGET', KEYS[1], 'seq')
if s and tonumber(s) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'seq', ARGV[1]) end
return 0`;

interface Scripts {
  cbCreate(key: string, ...args: (string | number)[]): Promise<number>;
  cbResume(key: string, ...args: (string | number)[]): Promise<string[] | 'stale' | null>;
  cbJoin(keyCount: number, ...keysAndArgs: (string | number)[]): Promise<string[] | 'taken' | 'stale' | `limited ${number}` | null>;
  cbOffline(key: string, ...args: (string | number)[]): Promise<number>;
  cbLeave(key: string, ...args: string[]): Promise<number>;
  cbExpire(key: string, ...args: (string | number)[]): Promise<string>;
  cbEnd(key: string, ...args: string[]): Promise<number>;
  cbAddToken(key: string, hash: string, max: number): Promise<number>;
  cbSeq(key: string, seq: number): Promise<number>;
  cbOrphan(key: string, ...args: (string | number)[]): Promise<string | null>;
  cbRestore(key: string, ...args: (string | number)[]): Promise<string[]>;
}

const b64 = (hash: Buffer) => hash.toString('base64');

function parseRecord(code: string, flat: string[]): SessionRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return {
    code,
    mode: h.m as Mode,
    ip: h.ip ?? 'unknown',
    tokenHashes: (h.tok ?? '')
      .split(' ')
      .filter(Boolean)
      .map((t) => Buffer.from(t, 'base64')),
    agentTokenHash: h.ah ? Buffer.from(h.ah, 'base64') : null,
    agentName: h.an || null,
    seq: Number(h.seq) || 0,
    customer: h.c ?? '',
    agent: h.a ?? '',
    joined: h.j === '1',
    unjoinedUntil: Number(h.u) || 0,
    customerOrigin: h.o || null,
    assetSalt: h.g ?? '',
    previous: h.prev || '',
  };
}

/** The clients' behaviour while Redis is away: fail fast (the relay refuses and says so), reconnect for ever. */
const CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  // A connection that stalls without closing (a dropped route) must not hold a handshake for ever.
  commandTimeout: 3_000,
  retryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
  lazyConnect: false,
  // Commands issued in one tick (a burst of frames to publish) go out in one write.
  enableAutoPipelining: true,
};

/** Raised while Redis cannot be reached: the relay answers `unavailable` (close 1013), never a local-only session. */
export class ClusterUnavailable extends Error {
  override name = 'ClusterUnavailable';
}

export class RedisCluster {
  /** This node's random id; holders and channels are named after it. */
  readonly node = randomBytes(6).toString('base64url');
  readonly url: URL;
  readonly #prefix: string;
  readonly #redis: Redis & Scripts;
  readonly #sub: Redis;
  readonly #channel: string;
  /** Seals and checks messages between nodes; null without a cluster secret. */
  readonly #mac: BusMac | null;
  #up = false;
  /** Since when (epoch ms) Redis has been reachable: a node is judged dead only after a whole ALIVE_MS of it. */
  #upSince = 0;
  #everUp = false;
  /** Redis came back (not: this node's first connection) less than SETTLE_MS ago. */
  #cameBack = false;
  #subscribed = false;
  #closed = false;
  /**
   * Sequence numbers waiting to be written, by code: once a second (at 10,000 frames/s one write each would
   * double Redis's work). A page that resumes with a number that lagged renumbers after the agent (Outbox.ack).
   */
  readonly #seqs = new Map<string, number>();
  readonly #flush: NodeJS.Timeout;
  readonly #beat: NodeJS.Timeout;

  constructor(
    options: RedisClusterOptions,
    private readonly handlers: ClusterHandlers,
  ) {
    this.url = new URL(options.url); // a TypeError for a malformed URL, at start
    if (this.url.protocol !== 'redis:' && this.url.protocol !== 'rediss:') throw new TypeError('redis must be a redis:// or rediss:// URL');
    this.#prefix = options.prefix ?? 'cobrowse:';
    if (options.secret !== undefined && Buffer.byteLength(options.secret) < 32)
      throw new TypeError('redis.secret must be at least 32 bytes');
    // A Redis others can write to would otherwise be a way into every session: no secret is a choice made out loud.
    if (options.secret === undefined && !options.insecure)
      throw new TypeError(
        'redis.secret is required (--cluster-secret or COBROWSE_CLUSTER_SECRET, at least 32 bytes): without it anyone who can PUBLISH on this Redis can send frames to its sessions. To run without one, set redis.insecure (--insecure-cluster)',
      );
    this.#mac = options.secret === undefined ? null : new BusMac(options.secret);
    this.#channel = `${this.#prefix}node:${this.node}`;
    this.#redis = new Redis(options.url, CLIENT_OPTIONS) as Redis & Scripts;
    for (const [name, lua] of Object.entries({
      cbCreate: CREATE,
      cbResume: RESUME,
      cbJoin: JOIN,
      cbOffline: OFFLINE,
      cbLeave: LEAVE,
      cbExpire: EXPIRE,
      cbEnd: END,
      cbAddToken: ADD_TOKEN,
      cbSeq: SEQ,
      cbOrphan: ORPHAN,
      cbRestore: RESTORE,
    })) {
      // cbJoin takes its number of keys first (one per failed-join key).
      const numberOfKeys = name === 'cbJoin' ? undefined : ['cbCreate', 'cbRestore', 'cbOrphan'].includes(name) ? 2 : 1;
      this.#redis.defineCommand(name, { numberOfKeys, lua });
    }
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after every reconnect.
    this.#sub = new Redis(options.url, {
      ...CLIENT_OPTIONS,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    this.#sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#receive(message));
    this.#sub.subscribe(this.#channel).then(
      () => {
        this.#subscribed = true;
        this.#check();
      },
      () => {},
    );
    for (const client of [this.#redis, this.#sub]) {
      client.on('ready', () => this.#check());
      client.on('close', () => this.#check());
      client.on('end', () => this.#check());
      client.on('error', () => {}); // reported once as health(false), not per retry
    }
    this.#flush = setInterval(() => this.#flushSeqs(), 1_000);
    this.#flush.unref();
    this.#beat = setInterval(() => this.#sayAlive(), BEAT_MS);
    this.#beat.unref();
  }

  /** Renews this node's liveness key; finding it gone means Redis lost what this node wrote. */
  #sayAlive() {
    if (!this.#up) return;
    this.#redis.set(this.#aliveKey(this.node), '1', 'PX', ALIVE_MS, 'GET').then(
      (previous) => previous === null && this.handlers.lost(),
      () => this.#check(),
    );
  }

  /** Which of `nodes` have died (none while Redis has not been reachable long enough to tell). */
  async deadNodes(nodes: string[]): Promise<Set<string>> {
    const dead = new Set<string>();
    if (!nodes.length || !this.#up || Date.now() - this.#upSince < ALIVE_MS) return dead;
    const pipeline = this.#redis.pipeline();
    for (const node of nodes) pipeline.exists(this.#aliveKey(node));
    const results = await this.#run(() => pipeline.exec());
    nodes.forEach((node, i) => {
      const [err, exists] = results![i]!;
      if (!err && exists === 0) dead.add(node);
    });
    return dead;
  }

  /** Both connections are up: records can be read and frames can cross. */
  get up(): boolean {
    return this.#up;
  }

  /** Redis came back moments ago: the nodes may still be writing back their sessions (see SETTLE_MS). */
  get settling(): boolean {
    return this.#cameBack && Date.now() - this.#upSince < SETTLE_MS;
  }

  /** The URL without its password, for the start-up summary. */
  get describe(): string {
    const url = new URL(this.url.href);
    if (url.password) url.password = '***';
    return `${url.href} (node ${this.node}, key prefix "${this.#prefix}")`;
  }

  /** Resolves once Redis is reachable, or after `ms` (then `up` stays false until it is). */
  ready(ms: number): Promise<boolean> {
    if (this.#up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#up), ms);
      const poll = setInterval(() => {
        if (!this.#up) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(true);
      }, 20);
      timer.unref();
    });
  }

  #check() {
    const up = !this.#closed && this.#redis.status === 'ready' && this.#sub.status === 'ready' && this.#subscribed;
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      this.#upSince = Date.now();
      this.#cameBack = this.#everUp;
      this.#everUp = true;
    }
    this.handlers.health(up);
    if (up) this.#sayAlive();
  }

  #key(code: string) {
    return `${this.#prefix}s:${code}`;
  }

  /** Present while the node renews it (see ALIVE_MS). */
  #aliveKey(node: string) {
    return `${this.#prefix}alive:${node}`;
  }

  /** The sorted set of an IP's live sessions, for the sessions-per-IP limit cluster-wide. */
  #ipKey(ip: string) {
    return `${this.#prefix}ip:${ip}`;
  }

  /** Runs a command, turning "Redis is away" into ClusterUnavailable. */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (!this.#up) throw new ClusterUnavailable('Redis is unreachable');
    try {
      return await command();
    } catch (err) {
      this.#check();
      throw new ClusterUnavailable(`Redis: ${(err as Error).message}`);
    }
  }

  // ─── Records ──────────────────────────────────────────────────────────────────────────────

  /**
   * Creates a record under a fresh ID (`newCode` is retried until one is free); returns the ID, or
   * null when the IP already has `maxPerIp` live sessions on the cluster.
   */
  async create(
    newCode: () => string,
    r: {
      mode: Mode;
      ip: string;
      tokenHash: Buffer;
      unjoinedUntil: number;
      ttlMs: number;
      holder: Holder;
      maxPerIp: number;
      customerOrigin: string | null;
      assetSalt: string;
    },
  ): Promise<string | null> {
    const max = Number.isFinite(r.maxPerIp) ? r.maxPerIp : '';
    for (;;) {
      const code = newCode();
      const created = await this.#run(() =>
        this.#redis.cbCreate(
          this.#key(code),
          this.#ipKey(r.ip),
          r.mode,
          r.ip,
          b64(r.tokenHash),
          r.unjoinedUntil,
          r.ttlMs,
          r.holder,
          Date.now(),
          max,
          r.customerOrigin ?? '',
          r.assetSalt,
        ),
      );
      if (created === 1) return code;
      if (created === -1) return null;
    }
  }

  /** An event message, as the scripts publish it (sealed when there is a secret). */
  #event(code: string, event: ClusterEvent): string {
    const body = `E${code}${JSON.stringify(event)}`;
    return this.#mac ? this.#mac.seal(body) : body;
  }

  /** The last ARGV of scripts that tell other nodes: this node, the channel prefix, the message. */
  #tell(code: string, event: ClusterEvent): string[] {
    return [this.node, `${this.#prefix}node:`, this.#event(code, event)];
  }

  /**
   * Takes the customer's role for `holder` if the token fits (null token: a redeemed hand-off) and
   * the connection is not older than the one holding it (`at`); tells the agent's node.
   */
  async resume(
    code: string,
    tokenHash: Buffer | null,
    holder: Holder,
    ttlMs: number,
    at: number | undefined,
    origin: string | null,
  ): Promise<SessionRecord | 'stale' | null> {
    const tell = this.#tell(code, { ev: 'online', role: 'customer', holder });
    const flat = await this.#run(() =>
      this.#redis.cbResume(this.#key(code), tokenHash ? b64(tokenHash) : '', holder, ttlMs, at ?? '', origin ?? '', ...tell),
    );
    return flat === 'stale' || flat === null ? flat : parseRecord(code, flat);
  }

  /**
   * Binds the agent's place to `holder` unless another agent holds it; `reclaimHash` is the hash of
   * the token the agent came back with. Refuses while any of `guard`'s keys is locked out (the ms
   * to wait), and counts a miss against them if `guard.count`, atomically. Tells the customer's node.
   */
  async join(
    code: string,
    reclaimHash: Buffer | null,
    newHash: Buffer,
    name: string,
    holder: Holder,
    ttlMs: number,
    at: number | undefined,
    guard: JoinGuard,
  ): Promise<SessionRecord | 'taken' | 'stale' | { retryAfterMs: number } | null> {
    // Whether this is a reclaim is only known inside the script: it picks one of the two events.
    const reclaimed = this.#event(code, { ev: 'online', role: 'agent', holder, name, resumed: true });
    const tell = this.#tell(code, { ev: 'online', role: 'agent', holder, name });
    const limited = guard.keys.filter(([, max]) => Number.isFinite(max));
    const flat = await this.#run(() =>
      this.#redis.cbJoin(
        1 + limited.length,
        this.#key(code),
        ...limited.map(([key]) => `${this.#prefix}jf:${key}`),
        reclaimHash ? b64(reclaimHash) : '',
        b64(newHash),
        name,
        holder,
        ttlMs,
        at ?? '',
        reclaimed,
        limited.map(([, max]) => max).join(' '),
        guard.windowMs,
        guard.now,
        `${guard.now}:${randomBytes(6).toString('base64url')}`,
        guard.count ? '1' : '0',
        ...tell,
      ),
    );
    if (typeof flat === 'string' && flat.startsWith('limited ')) return { retryAfterMs: Number(flat.slice(8)) };
    return flat === 'taken' || flat === 'stale' || flat === null ? flat : parseRecord(code, flat as string[]);
  }

  /** The connection `holder` closed: its role is vacant (if it still held it) since now; tells the other party's node. */
  offline(code: string, role: 'customer' | 'agent', holder: Holder): Promise<number> {
    const tell = this.#tell(code, { ev: 'offline', role, holder });
    const [field, other] = role === 'customer' ? ['c', 'a'] : ['a', 'c'];
    return this.#run(() => this.#redis.cbOffline(this.#key(code), field, other, holder, Date.now(), ...tell));
  }

  leave(code: string, holder: Holder): Promise<number> {
    return this.#run(() => this.#redis.cbLeave(this.#key(code), holder, ...this.#tell(code, { ev: 'offline', role: 'agent', holder })));
  }

  /** A deadline fired: see EXPIRE. */
  expire(code: string, why: 'unjoined' | 'grace' | 'agent', graceMs: number): Promise<'ended' | 'released' | 'kept' | 'gone'> {
    // Timers may fire a little early; grace is compared with that much slack.
    const tell = this.#tell(code, { ev: 'ended', by: 'expired' });
    return this.#run(() => this.#redis.cbExpire(this.#key(code), why, Date.now(), graceMs - 100, ...tell)) as Promise<
      'ended' | 'released' | 'kept' | 'gone'
    >;
  }

  /** Deletes the record and tells the parties' nodes; false if it was gone already. */
  async end(code: string, by: string): Promise<boolean> {
    return (await this.#run(() => this.#redis.cbEnd(this.#key(code), ...this.#tell(code, { ev: 'ended', by })))) === 1;
  }

  /** `role`'s holder was on `deadNode`: see ORPHAN. The holder now ('' vacant), or null if the record is gone. */
  orphan(code: string, role: 'customer' | 'agent', deadNode: string): Promise<string | null> {
    const tell = this.#tell(code, { ev: 'offline', role, holder: `${deadNode}:0` });
    const [field, other] = role === 'customer' ? ['c', 'a'] : ['a', 'c'];
    return this.#run(() => this.#redis.cbOrphan(this.#key(code), this.#aliveKey(deadNode), field, other, deadNode, Date.now(), ...tell));
  }

  /** Writes back a session this node holds (see RESTORE); returns the roles another connection holds now. */
  async restore(
    r: Omit<SessionRecord, 'customer' | 'agent' | 'previous'> & { customer: Holder; agent: Holder },
    ttlMs: number,
  ): Promise<Array<'customer' | 'agent'>> {
    const online = (role: 'customer' | 'agent', holder: Holder) =>
      holder
        ? this.#event(r.code, { ev: 'online', role, holder, ...(role === 'agent' ? { name: r.agentName ?? 'Agent', resumed: true } : {}) })
        : '';
    const replaced = await this.#run(() =>
      this.#redis.cbRestore(
        this.#key(r.code),
        this.#ipKey(r.ip),
        r.mode,
        r.ip,
        r.tokenHashes.map(b64).join(' '),
        r.agentTokenHash ? b64(r.agentTokenHash) : '',
        r.agentName ?? '',
        r.seq,
        r.joined ? 1 : 0,
        r.unjoinedUntil,
        ttlMs,
        r.customer,
        r.agent,
        online('customer', r.customer),
        online('agent', r.agent),
        r.customerOrigin ?? '',
        r.assetSalt,
        this.node,
        `${this.#prefix}node:`,
        '',
      ),
    );
    return replaced.map((field) => (field === 'c' ? 'customer' : 'agent'));
  }

  /** What the asset proxy needs of a session (any node's): its customer origin and grant salt; null once it ended. */
  async assetSession(code: string): Promise<{ origin: string | null; salt: string } | null> {
    const [origin, salt] = await this.#run(() => this.#redis.hmget(this.#key(code), 'o', 'g'));
    return salt ? { origin: origin || null, salt } : null;
  }

  /** Which connection holds a role of the session now ('' or null: none, or no record). */
  async currentHolder(code: string, role: 'customer' | 'agent'): Promise<Holder | null> {
    return this.#run(() => this.#redis.hget(this.#key(code), role === 'customer' ? 'c' : 'a'));
  }

  /** A random key all nodes share, made by the first that asks (SET NX): for asset grants when there is no cluster secret. */
  async sharedKey(name: string): Promise<Buffer> {
    const key = `${this.#prefix}key:${name}`;
    await this.#run(() => this.#redis.set(key, randomBytes(32).toString('base64'), 'NX'));
    const value = await this.#run(() => this.#redis.get(key));
    if (!value) throw new ClusterUnavailable('the shared key vanished');
    return Buffer.from(value, 'base64');
  }

  addToken(code: string, hash: Buffer, max: number): Promise<number> {
    return this.#run(() => this.#redis.cbAddToken(this.#key(code), b64(hash), max));
  }

  /** Remembers the customer's latest sequence number; written in batches. */
  saveSeq(code: string, seq: number): void {
    this.#seqs.set(code, seq);
  }

  #flushSeqs() {
    if (!this.#seqs.size || !this.#up) return;
    const pipeline = this.#redis.pipeline() as unknown as Scripts & { exec(): Promise<unknown> };
    // Queued on the pipeline (its promise is the exec's below), not sent one by one.
    for (const [code, seq] of this.#seqs) void pipeline.cbSeq(this.#key(code), seq);
    this.#seqs.clear();
    pipeline.exec().catch(() => {}); // lost with Redis: the agent's ack carries the number too
  }

  /** Keeps records of sessions still in use, and their places among their IP's live sessions, from expiring in Redis. */
  touch(sessions: Iterable<{ code: string; ip: string }>, ttlMs: number): void {
    if (!this.#up) return;
    const pipeline = this.#redis.pipeline();
    const until = Date.now() + ttlMs;
    let n = 0;
    for (const { code, ip } of sessions) {
      pipeline.pexpire(this.#key(code), ttlMs);
      pipeline.zadd(this.#ipKey(ip), 'XX', until, this.#key(code));
      pipeline.pexpire(this.#ipKey(ip), ttlMs);
      n++;
    }
    if (n) pipeline.exec().catch(() => {});
  }

  // ─── Hand-offs ────────────────────────────────────────────────────────────────────────────

  async issueHandoff(hash: string, code: string, ttlMs: number, binding: HandoffBinding | null): Promise<void> {
    await this.#run(() => this.#redis.set(`${this.#prefix}h:${hash}`, JSON.stringify({ code, binding }), 'PX', ttlMs));
  }

  /** The session a hand-off token opens, and where, once (GETDEL: two nodes cannot both redeem it). */
  async redeemHandoff(hash: string): Promise<{ code: string; binding: HandoffBinding | null } | null> {
    const value = await this.#run(() => this.#redis.getdel(`${this.#prefix}h:${hash}`));
    if (value === null) return null;
    if (!value.startsWith('{')) return { code: value, binding: null }; // issued by a relay before bindings
    try {
      const { code, binding } = JSON.parse(value) as { code: string; binding: HandoffBinding | null };
      const valid = !binding || (typeof binding.origin === 'string' && Array.isArray(binding.rules) && binding.rules.every(isDomainRule));
      return typeof code === 'string' && valid ? { code, binding: binding ?? null } : null;
    } catch {
      return null; // not ours: nothing opens
    }
  }

  // ─── The bus: frames and events to one node ───────────────────────────────────────────────

  /** Sends a frame's original bytes to the node holding `role` of session `code`. */
  sendFrame(node: string, code: string, role: 'customer' | 'agent', kind: string, raw: Buffer): void {
    const head = Buffer.allocUnsafe(3 + CODE_LENGTH);
    head[0] = FRAME;
    head[1] = role === 'agent' ? 0x61 : 0x63;
    head[2] = KIND_BYTE[kind] ?? 0x78;
    head.write(code, 3, 'latin1');
    const message = Buffer.concat([head, raw]);
    this.#publish(node, this.#mac ? this.#mac.seal(message) : message);
  }

  #publish(node: string, message: Buffer) {
    if (!this.#up) return;
    // Lost with Redis: the stream's numbering (Outbox/Inbox) recovers frames, and events are re-learned at the next handshake.
    this.#redis.publish(`${this.#prefix}node:${node}`, message).catch(() => this.#check());
  }

  #receive(sealed: Buffer) {
    const message = this.#mac ? this.#mac.open(sealed) : sealed;
    if (!message) return this.handlers.rejected('mac');
    try {
      const head = message[0] === FRAME ? 3 : 1;
      const code = message.toString('latin1', head, head + CODE_LENGTH);
      if (!/^\d{9}$/.test(code)) return this.handlers.rejected('invalid');
      if (message[0] === FRAME) {
        const role = message[1] === 0x61 ? 'agent' : 'customer';
        this.handlers.frame(code, role, BYTE_KIND[message[2]!] ?? 'other', message.subarray(3 + CODE_LENGTH));
      } else if (message[0] === EVENT) {
        const event: unknown = JSON.parse(message.toString('utf8', 1 + CODE_LENGTH));
        if (!isClusterEvent(event)) return this.handlers.rejected('invalid');
        this.handlers.event(code, event);
      } else this.handlers.rejected('invalid');
    } catch {
      this.handlers.rejected('invalid'); // a malformed message must not stop the node
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#flush);
    clearInterval(this.#beat);
    this.#flushSeqs();
    // QUIT only where connected: on a client still trying to connect it would wait for Redis for ever.
    const quit = (client: Redis) => (client.status === 'ready' ? client.quit() : Promise.resolve());
    await Promise.race([
      Promise.allSettled([quit(this.#redis), quit(this.#sub)]),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
    this.#redis.disconnect();
    this.#sub.disconnect();
    this.#check();
  }
}
