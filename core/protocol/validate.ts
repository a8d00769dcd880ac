/**
 * Schema checks of the session frames, used by the relay and by both peers; the frames that
 * carry page content are checked in validate-content.ts. Hand-written rather than a schema
 * library: this part ships in the customer's bundle, so every byte counts.
 */
import { Action, FORWARDED, HighlightKind, ErrorCode, Mode, type AgentFrame, type Frame, type RelayFrame } from './frames.js';
import { isDomainRule, MAX_DOMAIN_RULES } from './origins.js';

/** A refused frame, with the reason a peer is told. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const MODES = new Set<string>(Object.values(Mode));
export const isString = (x: unknown): x is string => typeof x === 'string';
export const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
export const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A session ID: exactly nine digits. */
export const isSessionCode = (x: unknown): x is string => isString(x) && /^\d{9}$/.test(x);

/** Turns what a person typed ("123 456-789") into a session ID, or null. */
export function normalizeSessionCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return isSessionCode(digits) ? digits : null;
}

export type Check = (f: Record<string, unknown>) => boolean;
export type Checks = Partial<Record<Frame['t'], Check>>;

/** Frame types whose checks live in validate-content.ts: known here, so refused as "not allowed", not "unknown". */
const CONTENT_TYPES = new Set(['snapshot', 'patch', 'chunk', 'platform']);

/** Checks of the frames the customer's page receives: all of the checks it ships. */
const TO_CUSTOMER_CHECKS: Checks = {
  'handoff-token': (f) => isShortString(f.token, 64) && isId(f.ttl),
  created: (f) => isSessionCode(f.code) && isString(f.token) && MODES.has(f.mode as string),
  resumed: (f) =>
    isSessionCode(f.code) &&
    MODES.has(f.mode as string) &&
    (f.agent === null || isString(f.agent)) &&
    isId(f.seq) &&
    (f.token === undefined || isShortString(f.token, 256)),
  peer: (f) =>
    (f.role === 'customer' || f.role === 'agent') &&
    (f.status === 'online' || f.status === 'offline') &&
    (f.name === undefined || isString(f.name)) &&
    (f.resumed === undefined || typeof f.resumed === 'boolean'),
  ended: (f) => ['customer', 'agent', 'expired', 'relay'].includes(f.by as string),
  error: (f) =>
    isString(f.code) && isString(f.message) && (f.retryAfter === undefined || (isFiniteNumber(f.retryAfter) && f.retryAfter >= 0)),
  'request-snapshot': () => true,
  ack: (f) => isId(f.s),
  pointer: (f) => isFiniteNumber(f.x) && isFiniteNumber(f.y) && (f.click === undefined || typeof f.click === 'boolean'),
  ping: (f) => isId(f.n),
  highlight: (f) =>
    isId(f.id) &&
    KINDS.has(f.kind as string) &&
    isId(f.target) &&
    isFiniteNumber(f.ttl) &&
    f.ttl > 0 &&
    f.ttl <= 3_600_000 &&
    Array.isArray(f.points) &&
    f.points.length >= 2 &&
    f.points.length <= 4000 &&
    f.points.length % 2 === 0 &&
    f.points.every(isFiniteNumber),
  'highlight-clear': (f) => f.id === undefined || isId(f.id),
  control: (f) => isId(f.n) && isControl(f),
};

/** Absent, or a proxy path on the relay's host (no scheme, no other host) and an opaque grant. */
function isAssetGrant(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { path, grant } = value as Record<string, unknown>;
  return isShortString(path, 256) && /^\/(?!\/)[\w\-./]*$/.test(path) && isShortString(grant, 512) && /^[\w\-.]+$/.test(grant);
}

/** Checks of every session frame (the relay and the agent's page need them all). */
export const SESSION_CHECKS: Checks = {
  ...TO_CUSTOMER_CHECKS,
  create: (f) => isFiniteNumber(f.v) && MODES.has(f.mode as string),
  resume: (f) =>
    isFiniteNumber(f.v) &&
    (f.at === undefined || isFiniteNumber(f.at)) &&
    (f.handoff === undefined ? isSessionCode(f.code) && isShortString(f.token, 256) : isShortString(f.handoff, 64) && f.code === undefined),
  handoff: (f) =>
    f.domains === undefined || (Array.isArray(f.domains) && f.domains.length <= MAX_DOMAIN_RULES && f.domains.every(isDomainRule)),
  join: (f) =>
    isFiniteNumber(f.v) &&
    (f.at === undefined || isFiniteNumber(f.at)) &&
    isSessionCode(f.code) &&
    (f.name === undefined || (isString(f.name) && f.name.length <= 100)) &&
    (f.token === undefined || (isString(f.token) && f.token.length <= 256)),
  leave: () => true,
  end: () => true,
  joined: (f) =>
    isSessionCode(f.code) && MODES.has(f.mode as string) && typeof f.online === 'boolean' && isString(f.token) && isAssetGrant(f.assets),
  sharing: (f) => typeof f.paused === 'boolean' && (f.left === undefined || typeof f.left === 'boolean'),
  pong: (f) => isId(f.n),
  'control-result': (f) =>
    isId(f.n) && typeof f.ok === 'boolean' && (f.reason === undefined || (isString(f.reason) && f.reason.length <= 200)),
};

const ACTIONS = new Set<string>(Object.values(Action));
const KINDS = new Set<string>(Object.values(HighlightKind));
export const isShortString = (x: unknown, max: number): x is string => isString(x) && x.length <= max;
export const isPair = (x: unknown): boolean => Array.isArray(x) && x.length === 2 && x.every(isFiniteNumber);

/** Each action carries exactly what it needs. */
function isControl(f: Record<string, unknown>): boolean {
  if (!ACTIONS.has(f.a as string)) return false;
  switch (f.a) {
    case Action.Click:
      return isId(f.id) && isFiniteNumber(f.x) && isFiniteNumber(f.y);
    case Action.Input:
    case Action.Select:
      return isId(f.id) && isString(f.value) && f.value.length <= 100_000;
    case Action.Check:
      return isId(f.id) && typeof f.checked === 'boolean';
    case Action.Scroll:
      return isId(f.id) && isFiniteNumber(f.x) && isFiniteNumber(f.y);
    case Action.Navigate:
      return isString(f.url) && f.url.length <= 4096;
    case Action.History:
      return f.delta === -1 || f.delta === 1;
    default:
      return true; // reload
  }
}

export const FROM_CUSTOMER = new Set(['create', 'resume', 'handoff', 'end', ...FORWARDED.customer]);
export const FROM_AGENT = new Set(['join', 'leave', 'end', ...FORWARDED.agent]);
const TO_CUSTOMER = new Set(['created', 'resumed', 'handoff-token', 'peer', 'ended', 'error', ...FORWARDED.agent]);
export const TO_AGENT = new Set(['joined', 'peer', 'ended', 'error', ...FORWARDED.customer]);

/** Parses and checks one frame whose type must be in `allowed`, with these checks; throws ProtocolError. */
export function parseWith(text: string, allowed: ReadonlySet<string>, checks: Checks): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError(ErrorCode.BadFrame, 'Frame is not valid JSON');
  }
  return checkWith(value, allowed, checks);
}

/** Checks an already parsed frame; throws ProtocolError. */
export function checkWith(value: unknown, allowed: ReadonlySet<string>, checks: Checks): Frame {
  if (!isRecord(value) || !isString(value.t)) {
    throw new ProtocolError(ErrorCode.BadFrame, 'Frame must be an object with a string "t"');
  }
  const check = Object.hasOwn(checks, value.t) ? checks[value.t as Frame['t']] : undefined;
  if (!check && !CONTENT_TYPES.has(value.t)) {
    throw new ProtocolError(ErrorCode.BadFrame, `Unknown frame type "${value.t.slice(0, 40)}"`);
  }
  if (!allowed.has(value.t)) {
    throw new ProtocolError(ErrorCode.NotAllowed, `Frame type "${value.t}" is not allowed here`);
  }
  if (!check?.(value)) {
    throw new ProtocolError(ErrorCode.BadFrame, `Malformed "${value.t}" frame`);
  }
  return value as unknown as Frame;
}

/** Frames the customer's page accepts from the relay (none carries page content, so no tree checks ship to it). */
export const parseFrameForCustomer = (text: string) => parseWith(text, TO_CUSTOMER, TO_CUSTOMER_CHECKS) as RelayFrame | AgentFrame;
