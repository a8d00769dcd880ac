/** The wire protocol's validation: good frames pass, everything else is a ProtocolError with the right code. */
import { expect } from '@open-wc/testing';
import {
  ErrorCode,
  FORWARDED,
  MAX_TREE_DEPTH,
  Mode,
  PROTOCOL_VERSION,
  ProtocolError,
  checkFrame,
  isSerializedNode,
  isSessionCode,
  normalizeSessionCode,
  parseAgentFrame,
  parseCustomerFrame,
  parseFrame,
  parseFrameForAgent,
  parseFrameForCustomer,
} from '../../core/protocol/index.js';

const CODE = '123456789';
const ALL = new Set([
  'create',
  'resume',
  'join',
  'end',
  'created',
  'resumed',
  'joined',
  'peer',
  'ended',
  'error',
  'snapshot',
  'patch',
  'request-snapshot',
]);

/** Runs `fn` and returns the ProtocolError it throws; fails on anything else (a RangeError above all). */
function refused(fn: () => unknown, why = ''): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof ProtocolError)) {
    expect.fail(`${why ? why + ': ' : ''}expected a ProtocolError, got ${caught === undefined ? 'no error' : String(caught)}`);
  }
  return caught as ProtocolError;
}

const expectCode = (fn: () => unknown, code: ErrorCode, why = ''): void => {
  expect(refused(fn, why).code, why).to.equal(code);
};

const doc = (children: unknown[] = []) => [9, 1, children];
const html = [
  1,
  2,
  'html',
  ['lang', 'en'],
  [
    [
      1,
      3,
      'body',
      [],
      [
        [3, 4, 'hi'],
        [8, 5, ''],
        [1, 6, 'input', ['type', 'text'], [], { value: 'x' }],
        [1, 7, 'svg', [], [], { ns: 's' }],
      ],
    ],
  ],
];
const snapshot = (over: Record<string, unknown> = {}) => ({
  t: 'snapshot',
  s: 1,
  url: 'https://a.example/',
  title: 'T',
  viewport: [800, 600],
  doc: doc([[10, 8, 'html', '', ''], html]),
  ...over,
});
const patch = (...ops: unknown[]) => ({ t: 'patch', s: 2, ops });

/** A chain of `depth` nested elements under a document, as JSON text, built without recursion. */
function deepDocumentText(depth: number): string {
  const parts: string[] = ['[9,1,['];
  for (let i = 0; i < depth; i++) parts.push(`[1,${i + 2},"div",[],[`);
  for (let i = 0; i < depth; i++) parts.push(']]');
  parts.push(']]');
  return parts.join('');
}
const deepSnapshotText = (depth: number): string =>
  `{"t":"snapshot","s":1,"url":"u","title":"t","viewport":[1,1],"doc":${deepDocumentText(depth)}}`;

describe('protocol: validation', () => {
  it('accepts good frames from each side', () => {
    const customer = [
      { t: 'create', v: PROTOCOL_VERSION, mode: Mode.Full },
      { t: 'create', v: PROTOCOL_VERSION, mode: Mode.Partial },
      { t: 'create', v: PROTOCOL_VERSION, mode: Mode.None },
      { t: 'resume', v: PROTOCOL_VERSION, code: CODE, token: 'tok' },
      { t: 'end' },
      snapshot(),
      patch(
        [0, 3, null, [3, 9, 'new']],
        [0, 3, 4, [1, 10, 'b', [], [[3, 11, 'x']]]],
        [1, 4],
        [2, 3, 'class', 'a'],
        [2, 3, 'class', null],
        [3, 4, 'text'],
        [4, 6, 'typed'],
        [5, 6, true],
        [6, 1, 0, 120.5],
        [7, 1024, 768],
      ),
      patch(),
    ];
    for (const frame of customer) {
      expect(parseCustomerFrame(JSON.stringify(frame)), frame.t).to.deep.equal(frame);
      expect(checkFrame(frame, FORWARDED.customer.has(frame.t) ? FORWARDED.customer : ALL)).to.equal(frame);
    }
    const agent = [
      { t: 'join', v: PROTOCOL_VERSION, code: CODE },
      { t: 'join', v: PROTOCOL_VERSION, code: CODE, name: 'Ada' },
      { t: 'join', v: PROTOCOL_VERSION, code: CODE, token: 'x'.repeat(43), at: 1_764_331_234_567 },
      { t: 'end' },
      { t: 'request-snapshot' },
    ];
    for (const frame of agent) expect(parseAgentFrame(JSON.stringify(frame)), frame.t).to.deep.equal(frame);
    const toCustomer = [
      { t: 'created', code: CODE, token: 'tok', mode: Mode.Full },
      { t: 'resumed', code: CODE, mode: Mode.None, agent: null, seq: 0 },
      { t: 'resumed', code: CODE, mode: Mode.None, agent: 'Ada', seq: 7, token: 'tok' },
      { t: 'peer', role: 'agent', status: 'online', name: 'Ada' },
      { t: 'ended', by: 'expired' },
      { t: 'error', code: ErrorCode.NotFound, message: 'gone' },
      { t: 'request-snapshot' },
    ];
    for (const frame of toCustomer) expect(parseFrameForCustomer(JSON.stringify(frame)), frame.t).to.deep.equal(frame);
    const toAgent = [
      { t: 'joined', code: CODE, mode: Mode.Partial, online: false, token: 'tok' },
      { t: 'peer', role: 'customer', status: 'offline' },
      { t: 'ended', by: 'customer' },
      snapshot(),
      patch([1, 2]),
    ];
    for (const frame of toAgent) expect(parseFrameForAgent(JSON.stringify(frame)), frame.t).to.deep.equal(frame);
  });

  it('refuses text that is not JSON', () => {
    for (const text of ['', 'not json', '{"t":"end"', "{'t':'end'}", '{"t":"end"}}', 'undefined', 'NaN']) {
      expectCode(() => parseFrame(text, ALL), ErrorCode.BadFrame, JSON.stringify(text));
    }
  });

  it('refuses JSON that is not an object', () => {
    for (const text of ['null', '42', '"end"', 'true', '[]', '[{"t":"end"}]']) {
      expectCode(() => parseFrame(text, ALL), ErrorCode.BadFrame, text);
      expectCode(() => parseCustomerFrame(text), ErrorCode.BadFrame, text);
    }
    for (const value of [null, undefined, 42, 'end', [], () => 0]) {
      expectCode(() => checkFrame(value, ALL), ErrorCode.BadFrame, String(value));
    }
  });

  it('refuses a missing or non-string t', () => {
    for (const text of ['{}', '{"type":"end"}', '{"t":null}', '{"t":1}', '{"t":["end"]}', '{"t":{"end":1}}']) {
      expectCode(() => parseFrame(text, ALL), ErrorCode.BadFrame, text);
    }
  });

  it('refuses unknown types, including names on Object.prototype', () => {
    for (const t of ['nope', 'END', 'snapshot ', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(10_000)]) {
      const error = refused(() => parseFrame(JSON.stringify({ t }), ALL));
      expect(error.code, t.slice(0, 20)).to.equal(ErrorCode.BadFrame);
      expect(error.message.length, 'the message quotes a bounded part of t').to.be.lessThan(200);
    }
  });

  it('refuses a known type the sender may not send', () => {
    const notFromCustomer = [
      { t: 'join', v: 1, code: CODE },
      { t: 'request-snapshot' },
      { t: 'created', code: CODE, token: 't', mode: Mode.Full },
      { t: 'error', code: 'x', message: 'y' },
      { t: 'peer', role: 'agent', status: 'online' },
    ];
    for (const frame of notFromCustomer) expectCode(() => parseCustomerFrame(JSON.stringify(frame)), ErrorCode.NotAllowed, frame.t);
    const notFromAgent = [
      snapshot(),
      patch(),
      { t: 'create', v: 1, mode: Mode.Full },
      { t: 'resume', v: 1, code: CODE, token: 't' },
      { t: 'joined', code: CODE, mode: Mode.Full, online: true },
      { t: 'ended', by: 'relay' },
    ];
    for (const frame of notFromAgent) expectCode(() => parseAgentFrame(JSON.stringify(frame)), ErrorCode.NotAllowed, frame.t);
    expectCode(() => parseFrameForCustomer(JSON.stringify(snapshot())), ErrorCode.NotAllowed, 'snapshot to the customer');
    expectCode(
      () => parseFrameForAgent(JSON.stringify({ t: 'created', code: CODE, token: 't', mode: Mode.Full })),
      ErrorCode.NotAllowed,
      'created to the agent',
    );
    expectCode(
      () => checkFrame({ t: 'create', v: 1, mode: Mode.Full }, FORWARDED.customer),
      ErrorCode.NotAllowed,
      'create is not forwarded',
    );
    // The role is checked before the shape: a malformed frame of a forbidden type is "not allowed".
    expectCode(() => parseAgentFrame('{"t":"snapshot"}'), ErrorCode.NotAllowed, 'malformed and forbidden');
  });

  it('refuses malformed session codes, modes and fields', () => {
    const bad: Array<[string, Record<string, unknown>, (text: string) => unknown]> = [
      ['create without v', { t: 'create', mode: Mode.Full }, parseCustomerFrame],
      ['create with v as a string', { t: 'create', v: '1', mode: Mode.Full }, parseCustomerFrame],
      ['create with a bad mode', { t: 'create', v: 1, mode: 'god-mode' }, parseCustomerFrame],
      ['create with a mode in the wrong case', { t: 'create', v: 1, mode: 'FULL-CONTROL' }, parseCustomerFrame],
      ['create without mode', { t: 'create', v: 1 }, parseCustomerFrame],
      ['join with 8 digits', { t: 'join', v: 1, code: '12345678' }, parseAgentFrame],
      ['join with 10 digits', { t: 'join', v: 1, code: '1234567890' }, parseAgentFrame],
      ['join with letters', { t: 'join', v: 1, code: '12345678a' }, parseAgentFrame],
      ['join with spaces', { t: 'join', v: 1, code: '123 456 789' }, parseAgentFrame],
      ['join with a dash', { t: 'join', v: 1, code: '123-456-789' }, parseAgentFrame],
      ['join with a trailing newline', { t: 'join', v: 1, code: '123456789\n' }, parseAgentFrame],
      ['join with non-ASCII digits', { t: 'join', v: 1, code: '١٢٣٤٥٦٧٨٩' }, parseAgentFrame],
      ['join with a number', { t: 'join', v: 1, code: 123456789 }, parseAgentFrame],
      ['join with `at` as a string', { t: 'join', v: 1, code: '123456789', at: '1' }, parseAgentFrame],
      ['resume with `at` not finite', { t: 'resume', v: 1, code: '123456789', token: 'x', at: null }, parseCustomerFrame],
      ['join without code', { t: 'join', v: 1 }, parseAgentFrame],
      ['join with a long name', { t: 'join', v: 1, code: CODE, name: 'x'.repeat(101) }, parseAgentFrame],
      ['join with a name that is not a string', { t: 'join', v: 1, code: CODE, name: 7 }, parseAgentFrame],
      ['resume with a long token', { t: 'resume', v: 1, code: CODE, token: 'x'.repeat(257) }, parseCustomerFrame],
      ['resume without token', { t: 'resume', v: 1, code: CODE }, parseCustomerFrame],
      ['resume with a bad code', { t: 'resume', v: 1, code: '1234567890', token: 't' }, parseCustomerFrame],
      ['snapshot without doc', snapshot({ doc: undefined }), parseCustomerFrame],
      ['snapshot whose doc is an element', snapshot({ doc: html }), parseCustomerFrame],
      ['snapshot with one viewport number', snapshot({ viewport: [800] }), parseCustomerFrame],
      ['snapshot with a string viewport', snapshot({ viewport: ['800', '600'] }), parseCustomerFrame],
      ['snapshot without url', snapshot({ url: undefined }), parseCustomerFrame],
      ['snapshot with a numeric title', snapshot({ title: 5 }), parseCustomerFrame],
      ['patch without ops', { t: 'patch' }, parseCustomerFrame],
      ['patch with ops as an object', { t: 'patch', ops: { 0: [1, 2] } }, parseCustomerFrame],
    ];
    for (const [why, frame, parse] of bad) expectCode(() => parse(JSON.stringify(frame)), ErrorCode.BadFrame, why);
    // Values JSON cannot carry, through checkFrame.
    expectCode(() => checkFrame(snapshot({ viewport: [NaN, 600] }), ALL), ErrorCode.BadFrame, 'NaN viewport');
    expectCode(() => checkFrame(snapshot({ viewport: [Infinity, 600] }), ALL), ErrorCode.BadFrame, 'infinite viewport');
    expectCode(() => checkFrame({ t: 'create', v: NaN, mode: Mode.Full }, ALL), ErrorCode.BadFrame, 'NaN version');
    expectCode(() => checkFrame({ t: 'ended', by: 'nobody' }, ALL), ErrorCode.BadFrame, 'ended by nobody');
    expectCode(() => checkFrame({ t: 'peer', role: 'relay', status: 'online' }, ALL), ErrorCode.BadFrame, 'peer role');
    expectCode(() => checkFrame({ t: 'joined', code: CODE, mode: Mode.Full, online: 'yes' }, ALL), ErrorCode.BadFrame, 'joined online');
  });

  it('refuses bad op tuples', () => {
    const text = (id: number) => [3, id, 't'];
    const badOps: Array<[string, unknown]> = [
      ['not an array', { op: 0 }],
      ['empty', []],
      ['unknown op', [8, 1]],
      ['op as a string', ['0', 1, null, text(2)]],
      ['add without node', [0, 1, null]],
      ['add with a bad node', [0, 1, null, 'node']],
      ['add with a negative parent', [0, -1, null, text(2)]],
      ['add with a fractional parent', [0, 1.5, null, text(2)]],
      ['add with an unsafe parent id', [0, 2 ** 53, null, text(2)]],
      ['add with next a string', [0, 1, '3', text(2)]],
      ['add with a node without id', [0, 1, null, [3, null, 't']]],
      ['add with an element with odd attributes', [0, 1, null, [1, 2, 'p', ['class'], []]]],
      ['add with an element with a numeric attribute', [0, 1, null, [1, 2, 'p', ['class', 1], []]]],
      ['add with an element with an empty tag', [0, 1, null, [1, 2, '', [], []]]],
      ['add with an element without children', [0, 1, null, [1, 2, 'p', []]]],
      ['add with a bad child deep down', [0, 1, null, [1, 2, 'p', [], [[1, 3, 'b', [], [[3, 4, 7]]]]]]],
      ['add with an element whose extra is an array', [0, 1, null, [1, 2, 'p', [], [], []]]],
      ['add with an unknown node kind', [0, 1, null, [4, 2, 'cdata']]],
      ['add with a bad doctype', [0, 1, null, [10, 2, 'html', null, '']]],
      ['remove without id', [1]],
      ['remove with a string id', [1, '2']],
      ['attr with a numeric name', [2, 1, 5, 'v']],
      ['attr with a numeric value', [2, 1, 'a', 5]],
      ['attr without value', [2, 1, 'a']],
      ['text with a number', [3, 1, 5]],
      ['value with null', [4, 1, null]],
      ['checked with a string', [5, 1, 'true']],
      ['checked with 1', [5, 1, 1]],
      ['scroll with a string', [6, 1, '0', 0]],
      ['scroll without y', [6, 1, 0]],
      ['viewport with a string', [7, '800', 600]],
    ];
    for (const [why, op] of badOps) {
      expectCode(() => parseCustomerFrame(JSON.stringify(patch(op))), ErrorCode.BadFrame, why);
      // One bad op spoils a batch of good ones.
      expectCode(() => parseCustomerFrame(JSON.stringify(patch([1, 2], op, [1, 3]))), ErrorCode.BadFrame, why);
    }
    expectCode(() => checkFrame(patch([6, 1, NaN, 0]), ALL), ErrorCode.BadFrame, 'NaN scroll');
    expectCode(() => checkFrame(patch([7, 800, Infinity]), ALL), ErrorCode.BadFrame, 'infinite viewport');
  });

  it('refuses element extras of the wrong shape', () => {
    const extras: unknown[] = [{ ns: 'x' }, { ns: 1 }, { value: 5 }, { value: ['a'] }, { checked: 'yes' }, { selected: 1 }];
    for (const extra of extras) {
      const op = [0, 1, null, [1, 2, 'input', [], [], extra]];
      expectCode(() => parseCustomerFrame(JSON.stringify(patch(op))), ErrorCode.BadFrame, JSON.stringify(extra));
    }
  });

  it(`accepts a tree MAX_TREE_DEPTH (${MAX_TREE_DEPTH}) deep and refuses one deeper, built iteratively`, () => {
    expect(MAX_TREE_DEPTH).to.equal(4096);
    expect(parseCustomerFrame(deepSnapshotText(MAX_TREE_DEPTH)).t).to.equal('snapshot');
    expectCode(() => parseCustomerFrame(deepSnapshotText(MAX_TREE_DEPTH + 1)), ErrorCode.BadFrame, 'one too deep');
    expectCode(() => parseCustomerFrame(deepSnapshotText(MAX_TREE_DEPTH * 3)), ErrorCode.BadFrame, 'far too deep');
    // And in an Add op: the document is the root there too, so depth is counted the same way.
    const addText = (depth: number) => `{"t":"patch","s":2,"ops":[[0,1,null,${deepDocumentText(depth)}]]}`;
    expect(parseCustomerFrame(addText(MAX_TREE_DEPTH)).t).to.equal('patch');
    expectCode(() => parseCustomerFrame(addText(MAX_TREE_DEPTH + 1)), ErrorCode.BadFrame, 'deep add');
  });

  it('survives 100,000-deep nesting with a ProtocolError or false, never a RangeError', () => {
    const DEPTH = 100_000;
    // A deep tree, through every entry point.
    const treeText = deepDocumentText(DEPTH);
    expectCode(() => parseCustomerFrame(deepSnapshotText(DEPTH)), ErrorCode.BadFrame, 'deep snapshot');
    expectCode(() => parseFrameForAgent(deepSnapshotText(DEPTH)), ErrorCode.BadFrame, 'deep snapshot to the agent');
    expectCode(() => parseCustomerFrame(`{"t":"patch","s":2,"ops":[[0,1,null,${treeText}]]}`), ErrorCode.BadFrame, 'deep add');
    const tree = JSON.parse(treeText);
    expect(isSerializedNode(tree)).to.equal(false);
    expectCode(
      () => checkFrame({ t: 'snapshot', s: 1, url: 'u', title: 't', viewport: [1, 1], doc: tree }, ALL),
      ErrorCode.BadFrame,
      'parsed deep tree',
    );
    // Bare nested arrays wherever a frame holds one.
    const arrays = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
    const places = [
      `{"t":"snapshot","url":"u","title":"t","viewport":[1,1],"doc":${arrays}}`,
      `{"t":"snapshot","url":"u","title":"t","viewport":${arrays},"doc":[9,1,[]]}`,
      `{"t":"patch","s":2,"ops":${arrays}}`,
      `{"t":"patch","s":2,"ops":[[0,1,null,${arrays}]]}`,
      `{"t":"patch","s":2,"ops":[[0,1,null,[1,2,"p",${arrays},[]]]]}`,
      `{"t":"patch","s":2,"ops":[[0,1,null,[1,2,"p",[],[${arrays}]]]]}`,
      `{"t":"create","v":${arrays},"mode":"full-control"}`,
      `{"t":${arrays}}`,
      arrays,
    ];
    for (const text of places) expectCode(() => parseCustomerFrame(text), ErrorCode.BadFrame, text.slice(0, 60));
    // Deep objects too, and deep data in fields that are not checked: no error either way, no RangeError.
    const objects = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
    expectCode(
      () => parseCustomerFrame(`{"t":"snapshot","url":${objects},"title":"t","viewport":[1,1],"doc":[9,1,[]]}`),
      ErrorCode.BadFrame,
      'deep url',
    );
    expect(() => parseAgentFrame(`{"t":"end","extra":${objects}}`)).to.not.throw();
    expect(() => parseAgentFrame(`{"t":"end","extra":${arrays}}`)).to.not.throw();
    expect(isSerializedNode(JSON.parse(arrays))).to.equal(false);
  });

  it('normalizes what a person types into a session code', () => {
    expect(normalizeSessionCode('123 456-789')).to.equal('123456789');
    expect(normalizeSessionCode('123456789')).to.equal('123456789');
    expect(normalizeSessionCode(' 123 456 789 ')).to.equal('123456789');
    expect(normalizeSessionCode('123-456-789')).to.equal('123456789');
    expect(normalizeSessionCode('123\t456\n789')).to.equal('123456789');
    expect(normalizeSessionCode('12345678')).to.equal(null);
    expect(normalizeSessionCode('1234567890')).to.equal(null);
    expect(normalizeSessionCode('123 456 78a')).to.equal(null);
    expect(normalizeSessionCode('123.456.789')).to.equal(null);
    expect(normalizeSessionCode('')).to.equal(null);
    expect(isSessionCode('123456789')).to.equal(true);
    expect(isSessionCode(123456789)).to.equal(false);
    expect(isSessionCode('12345678a')).to.equal(false);
  });

  it('makes ProtocolError a real Error with a code and a name', () => {
    const error = refused(() => parseFrame('{', ALL));
    expect(error).to.be.instanceOf(Error);
    expect(error.name).to.equal('ProtocolError');
    expect(error.code).to.equal(ErrorCode.BadFrame);
    expect(error.message).to.be.a('string').and.not.equal('');
  });
});
