/**
 * Checks of the frames that carry page content (snapshots, patches, platform details). Only
 * the relay and the agent's page receive them, so the customer's bundle does not ship them.
 */
import {
  CHUNK_CHARS,
  NodeKind,
  Op,
  type AgentFrame,
  type CustomerFrame,
  type Frame,
  type PatchOp,
  type RelayFrame,
  type SerializedNode,
} from './frames.js';
import {
  FROM_AGENT,
  FROM_CUSTOMER,
  SESSION_CHECKS,
  TO_AGENT,
  isFiniteNumber,
  isId,
  isPair,
  isRecord,
  isShortString,
  isString,
  checkWith,
  parseWith,
  type Checks,
} from './validate.js';

/** A frame is cut into at most this many chunks (64 MiB of JSON text). */
export const MAX_CHUNKS = 512;

/** Deeper trees are refused rather than risk a stack overflow in a peer. */
export const MAX_TREE_DEPTH = 4096;

function isStringPairs(x: unknown): x is string[] {
  return Array.isArray(x) && x.length % 2 === 0 && x.every(isString);
}

function isElementExtra(x: unknown): boolean {
  if (!isRecord(x)) return false;
  const { ns, value, checked, selected, shadow, css, doc, xo, modal, media, sprite } = x;
  return (
    (ns === undefined || ns === 's' || ns === 'm') &&
    (value === undefined || isString(value)) &&
    (checked === undefined || typeof checked === 'boolean') &&
    (selected === undefined || typeof selected === 'boolean') &&
    (shadow === undefined || (Array.isArray(shadow) && shadow[0] === NodeKind.ShadowRoot)) &&
    (css === undefined || isString(css)) &&
    (doc === undefined || (Array.isArray(doc) && doc[0] === NodeKind.Document)) &&
    (xo === undefined || xo === 1) &&
    (modal === undefined || modal === 1) &&
    (media === undefined || (Array.isArray(media) && typeof media[0] === 'boolean' && isFiniteNumber(media[1]))) &&
    (sprite === undefined || (Array.isArray(sprite) && sprite[0] === NodeKind.Element))
  );
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
        if (extra?.sprite) stack.push([extra.sprite, depth + 1]);
        break;
      }
      case NodeKind.ShadowRoot:
      case NodeKind.Document: {
        // Both hold children and the IDs of their adopted sheets (a document's come after its quirks flag).
        const adopted = node[0] === NodeKind.ShadowRoot ? node[3] : node[4];
        if (!Array.isArray(node[2]) || !isIdList(adopted)) return false;
        for (const child of node[2]) stack.push([child, depth + 1]);
        break;
      }
      case NodeKind.Text:
      case NodeKind.Comment:
        if (!isString(node[2])) return false;
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

const isIdOrNull = (x: unknown): boolean => x === null || isId(x);

/** Style diff names and values: values are one row per element (`count` of them) or one row for all. */
function isStyleDiff(names: unknown, values: unknown, count: number): boolean {
  if (!Array.isArray(names) || !names.length || !names.every((name) => isString(name) && name.length > 0)) return false;
  if (!Array.isArray(values) || (values.length !== names.length && values.length !== names.length * count)) return false;
  return values.every((value) => value === null || isString(value));
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
    case Op.PseudoRules:
      return isId(op[1]) && isString(op[2]);
    case Op.Adopted:
      return isId(op[1]) && Array.isArray(op[2]) && op[2].every(isId);
    case Op.Media:
      return isId(op[1]) && typeof op[2] === 'boolean' && isFiniteNumber(op[3]);
    case Op.Canvas:
      return isId(op[1]) && isString(op[2]) && op[2].startsWith('data:image/');
    case Op.Pseudo:
      return isIdOrNull(op[1]) && isIdOrNull(op[2]) && isIdOrNull(op[3]) && typeof op[4] === 'boolean';
    case Op.StyleDiff:
      return (
        (isId(op[1]) || (Array.isArray(op[1]) && op[1].length > 0 && op[1].every(isId))) &&
        isStyleDiff(op[2], op[3], typeof op[1] === 'number' ? 1 : op[1].length)
      );
    default:
      return false;
  }
}

function isHints(x: unknown): boolean {
  if (!isRecord(x)) return false;
  const { brands, platform, platformVersion, mobile } = x;
  return (
    Array.isArray(brands) &&
    brands.length <= 16 &&
    brands.every((b) => Array.isArray(b) && b.length === 2 && isShortString(b[0], 64) && isShortString(b[1], 64)) &&
    isShortString(platform, 64) &&
    isShortString(platformVersion, 64) &&
    typeof mobile === 'boolean'
  );
}

/** Checks of every frame type. */
export const ALL_CHECKS: Checks = {
  ...SESSION_CHECKS,
  snapshot: (f) =>
    isId(f.s) &&
    isString(f.url) &&
    isString(f.title) &&
    Array.isArray(f.viewport) &&
    f.viewport.length === 2 &&
    f.viewport.every(isFiniteNumber) &&
    Array.isArray(f.doc) &&
    f.doc[0] === NodeKind.Document &&
    isSerializedNode(f.doc) &&
    (f.sheets === undefined || (Array.isArray(f.sheets) && f.sheets.every((s) => Array.isArray(s) && isId(s[0]) && isString(s[1])))),
  patch: (f) => isId(f.s) && Array.isArray(f.ops) && f.ops.every(isPatchOp),
  chunk: (f) =>
    isId(f.s) &&
    (f.of === 'snapshot' || f.of === 'patch') &&
    isId(f.n) &&
    f.n >= 2 &&
    f.n <= MAX_CHUNKS &&
    isId(f.i) &&
    f.i < f.n &&
    isString(f.d) &&
    f.d.length <= CHUNK_CHARS,
  platform: (f) =>
    isShortString(f.ua, 1024) &&
    isPair(f.screen) &&
    isPair(f.viewport) &&
    isFiniteNumber(f.dpr) &&
    isShortString(f.language, 64) &&
    isShortString(f.timeZone, 64) &&
    (f.hints === undefined || isHints(f.hints)),
};

/** Parses and checks one frame of any type, which must be in `allowed`; throws ProtocolError. */
export const parseFrame = (text: string, allowed: ReadonlySet<string>): Frame => parseWith(text, allowed, ALL_CHECKS);
/** Checks an already parsed frame of any type; throws ProtocolError. */
export const checkFrame = (value: unknown, allowed: ReadonlySet<string>): Frame => checkWith(value, allowed, ALL_CHECKS);

/** Frames a customer may send to the relay. */
export const parseCustomerFrame = (text: string) => parseFrame(text, FROM_CUSTOMER) as CustomerFrame;
/** Frames an agent may send to the relay. */
export const parseAgentFrame = (text: string) => parseFrame(text, FROM_AGENT) as AgentFrame;
/** Frames the agent's page accepts from the relay. */
export const parseFrameForAgent = (text: string) => parseFrame(text, TO_AGENT) as RelayFrame | CustomerFrame;
