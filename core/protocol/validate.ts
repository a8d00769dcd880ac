/**
 * Schema checks for every frame, used by the relay and by both peers. Hand-written
 * rather than a schema library: it ships in the customer's bundle, so every byte counts.
 */
import {
  Action,
  FORWARDED,
  HighlightKind,
  ErrorCode,
  Mode,
  NodeKind,
  Op,
  type AgentFrame,
  type CustomerFrame,
  type Frame,
  type PatchOp,
  type RelayFrame,
  type SerializedNode,
} from './frames.js';

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

/** Deeper trees are refused rather than risk a stack overflow in a peer. */
export const MAX_TREE_DEPTH = 4096;

const MODES = new Set<string>(Object.values(Mode));
const isString = (x: unknown): x is string => typeof x === 'string';
const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** A session ID: exactly nine digits. */
export const isSessionCode = (x: unknown): x is string => isString(x) && /^\d{9}$/.test(x);

/** Turns what a person typed ("123 456-789") into a session ID, or null. */
export function normalizeSessionCode(input: string): string | null {
  const digits = input.replace(/[\s-]/g, '');
  return isSessionCode(digits) ? digits : null;
}

function isStringPairs(x: unknown): x is string[] {
  return Array.isArray(x) && x.length % 2 === 0 && x.every(isString);
}

function isElementExtra(x: unknown): boolean {
  if (!isRecord(x)) return false;
  const { ns, value, checked, selected, shadow, css, doc, xo, modal, media } = x;
  return (ns === undefined || ns === 's' || ns === 'm') &&
    (value === undefined || isString(value)) &&
    (checked === undefined || typeof checked === 'boolean') &&
    (selected === undefined || typeof selected === 'boolean') &&
    (shadow === undefined || (Array.isArray(shadow) && shadow[0] === NodeKind.ShadowRoot)) &&
    (css === undefined || isString(css)) &&
    (doc === undefined || (Array.isArray(doc) && doc[0] === NodeKind.Document)) &&
    (xo === undefined || xo === 1) &&
    (modal === undefined || modal === 1) &&
    (media === undefined || (Array.isArray(media) && typeof media[0] === 'boolean' && isFiniteNumber(media[1])));
}

const isIdList = (x: unknown): boolean => x === undefined || (Array.isArray(x) && x.every(isId));

/** Checks a serialized subtree, iteratively so a deep tree cannot overflow the stack. */
export function isSerializedNode(root: unknown): root is SerializedNode {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!Array.isArray(node) || !isId(node[1]) || depth > MAX_TREE_DEPTH) return false;
    switch (node[0]) {
      case NodeKind.Element: {
        const [, , tag, attrs, children, extra] = node;
        if (!isString(tag) || !tag || !isStringPairs(attrs) || !Array.isArray(children)) return false;
        if (extra !== undefined && !isElementExtra(extra)) return false;
        for (const child of children) stack.push([child, depth + 1]);
        // Shadow roots and iframe documents are checked like any subtree (shape checked above).
        if (extra?.shadow) stack.push([extra.shadow, depth + 1]);
        if (extra?.doc) stack.push([extra.doc, depth + 1]);
        break;
      }
      case NodeKind.ShadowRoot:
        if (!Array.isArray(node[2]) || !isIdList(node[3])) return false;
        for (const child of node[2]) stack.push([child, depth + 1]);
        break;
      case NodeKind.Text:
      case NodeKind.Comment:
        if (!isString(node[2])) return false;
        break;
      case NodeKind.Document:
        if (!Array.isArray(node[2]) || !isIdList(node[4])) return false;
        for (const child of node[2]) stack.push([child, depth + 1]);
        break;
      case NodeKind.Doctype:
        if (!isString(node[2]) || !isString(node[3]) || !isString(node[4])) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isPatchOp(op: unknown): op is PatchOp {
  if (!Array.isArray(op)) return false;
  switch (op[0]) {
    case Op.Add:
      return isId(op[1]) && (op[2] === null || isId(op[2])) && isSerializedNode(op[3]);
    case Op.Remove:
      return isId(op[1]);
    case Op.Attr:
      return (isId(op[1]) || (Array.isArray(op[1]) && op[1].every(isId))) && isString(op[2]) && (op[3] === null || isString(op[3]));
    case Op.Text:
    case Op.Value:
      return isId(op[1]) && isString(op[2]);
    case Op.Checked:
      return isId(op[1]) && typeof op[2] === 'boolean';
    case Op.Scroll:
      return isId(op[1]) && isFiniteNumber(op[2]) && isFiniteNumber(op[3]);
    case Op.Viewport:
      return isFiniteNumber(op[1]) && isFiniteNumber(op[2]);
    case Op.Sheet:
    case Op.StyleText:
      return isId(op[1]) && isString(op[2]);
    case Op.Adopted:
      return isId(op[1]) && Array.isArray(op[2]) && op[2].every(isId);
    case Op.Media:
      return isId(op[1]) && typeof op[2] === 'boolean' && isFiniteNumber(op[3]);
    case Op.Canvas:
      return isId(op[1]) && isString(op[2]) && op[2].startsWith('data:image/');
    default:
      return false;
  }
}

type Check = (f: Record<string, unknown>) => boolean;

const CHECKS: Record<Frame['t'], Check> = {
  create: (f) => isFiniteNumber(f.v) && MODES.has(f.mode as string),
  resume: (f) => isFiniteNumber(f.v) && isSessionCode(f.code) && isString(f.token) && f.token.length <= 256,
  join: (f) => isFiniteNumber(f.v) && isSessionCode(f.code) && (f.name === undefined || (isString(f.name) && f.name.length <= 100)),
  end: () => true,
  created: (f) => isSessionCode(f.code) && isString(f.token) && MODES.has(f.mode as string),
  resumed: (f) => isSessionCode(f.code) && MODES.has(f.mode as string) && (f.agent === null || isString(f.agent)),
  joined: (f) => isSessionCode(f.code) && MODES.has(f.mode as string) && typeof f.online === 'boolean',
  peer: (f) => (f.role === 'customer' || f.role === 'agent') && (f.status === 'online' || f.status === 'offline') && (f.name === undefined || isString(f.name)),
  ended: (f) => ['customer', 'agent', 'expired', 'relay'].includes(f.by as string),
  error: (f) => isString(f.code) && isString(f.message),
  snapshot: (f) =>
    isString(f.url) && isString(f.title) &&
    Array.isArray(f.viewport) && f.viewport.length === 2 && f.viewport.every(isFiniteNumber) &&
    Array.isArray(f.doc) && f.doc[0] === NodeKind.Document && isSerializedNode(f.doc) &&
    (f.sheets === undefined || (Array.isArray(f.sheets) && f.sheets.every((s) => Array.isArray(s) && isId(s[0]) && isString(s[1])))),
  patch: (f) => Array.isArray(f.ops) && f.ops.every(isPatchOp),
  'request-snapshot': () => true,
  pointer: (f) => isFiniteNumber(f.x) && isFiniteNumber(f.y) && (f.click === undefined || typeof f.click === 'boolean'),
  sharing: (f) => typeof f.paused === 'boolean',
  ping: (f) => isId(f.n),
  pong: (f) => isId(f.n),
  highlight: (f) =>
    isId(f.id) && KINDS.has(f.kind as string) && isId(f.target) && isFiniteNumber(f.ttl) && f.ttl > 0 && f.ttl <= 3_600_000 &&
    Array.isArray(f.points) && f.points.length >= 2 && f.points.length <= 4000 && f.points.length % 2 === 0 && f.points.every(isFiniteNumber),
  'highlight-clear': (f) => f.id === undefined || isId(f.id),
  platform: (f) =>
    isShortString(f.ua, 1024) && isPair(f.screen) && isPair(f.viewport) && isFiniteNumber(f.dpr) &&
    isShortString(f.language, 64) && isShortString(f.timeZone, 64) && (f.hints === undefined || isHints(f.hints)),
  control: (f) => isId(f.n) && isControl(f),
  'control-result': (f) => isId(f.n) && typeof f.ok === 'boolean' && (f.reason === undefined || (isString(f.reason) && f.reason.length <= 200)),
};

const ACTIONS = new Set<string>(Object.values(Action));
const KINDS = new Set<string>(Object.values(HighlightKind));
const isShortString = (x: unknown, max: number): x is string => isString(x) && x.length <= max;
const isPair = (x: unknown): boolean => Array.isArray(x) && x.length === 2 && x.every(isFiniteNumber);

function isHints(x: unknown): boolean {
  if (!isRecord(x)) return false;
  const { brands, platform, platformVersion, mobile } = x;
  return Array.isArray(brands) && brands.length <= 16 &&
    brands.every((b) => Array.isArray(b) && b.length === 2 && isShortString(b[0], 64) && isShortString(b[1], 64)) &&
    isShortString(platform, 64) && isShortString(platformVersion, 64) && typeof mobile === 'boolean';
}

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

const FROM_CUSTOMER = new Set(['create', 'resume', 'end', ...FORWARDED.customer]);
const FROM_AGENT = new Set(['join', 'end', ...FORWARDED.agent]);
const TO_CUSTOMER = new Set(['created', 'resumed', 'peer', 'ended', 'error', ...FORWARDED.agent]);
const TO_AGENT = new Set(['joined', 'peer', 'ended', 'error', ...FORWARDED.customer]);

/** Parses and checks one frame whose type must be in `allowed`; throws ProtocolError. */
export function parseFrame(text: string, allowed: ReadonlySet<string>): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError(ErrorCode.BadFrame, 'Frame is not valid JSON');
  }
  return checkFrame(value, allowed);
}

/** Checks an already parsed frame; throws ProtocolError. */
export function checkFrame(value: unknown, allowed: ReadonlySet<string>): Frame {
  if (!isRecord(value) || !isString(value.t)) {
    throw new ProtocolError(ErrorCode.BadFrame, 'Frame must be an object with a string "t"');
  }
  if (!Object.hasOwn(CHECKS, value.t)) {
    throw new ProtocolError(ErrorCode.BadFrame, `Unknown frame type "${value.t.slice(0, 40)}"`);
  }
  if (!allowed.has(value.t)) {
    throw new ProtocolError(ErrorCode.NotAllowed, `Frame type "${value.t}" is not allowed here`);
  }
  if (!CHECKS[value.t as Frame['t']](value)) {
    throw new ProtocolError(ErrorCode.BadFrame, `Malformed "${value.t}" frame`);
  }
  return value as unknown as Frame;
}

/** Frames a customer may send to the relay. */
export const parseCustomerFrame = (text: string) => parseFrame(text, FROM_CUSTOMER) as CustomerFrame;
/** Frames an agent may send to the relay. */
export const parseAgentFrame = (text: string) => parseFrame(text, FROM_AGENT) as AgentFrame;
/** Frames the customer's page accepts from the relay. */
export const parseFrameForCustomer = (text: string) => parseFrame(text, TO_CUSTOMER) as RelayFrame | AgentFrame;
/** Frames the agent's page accepts from the relay. */
export const parseFrameForAgent = (text: string) => parseFrame(text, TO_AGENT) as RelayFrame | CustomerFrame;
