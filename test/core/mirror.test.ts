/**
 * The mirror never runs the customer's code. Frames here are forged by hand, as a hostile
 * customer page could send them (bypassing the serializer): each payload tries to set
 * `__pwned` on the agent's window.
 */
import { expect } from '@open-wc/testing';
import { MIRROR_SANDBOX, Mirror } from '../../core/dom/mirror.js';
import { record } from '../../core/dom/recorder.js';
import {
  FORWARDED,
  Op,
  checkFrame,
  type PatchFrame,
  type PatchOp,
  type SerializedElement,
  type SerializedNode,
  type SerializedText,
  type SnapshotFrame,
} from '../../core/protocol/index.js';
import { mirrorFrame, sourceFrame } from '../helpers/dom.js';
import { until } from '../helpers/wait.js';

type Pwnable = Window & { __pwned?: unknown; __probe?: unknown };
const win = window as Pwnable;

/** Payloads name their vector, with a regex literal so no quote can break the markup they sit in. */
let vector = 0;
const TOP = (label = `v${++vector}`): string => `window.top.__pwned=/${label}/.source`;
const PARENT = (label = `v${++vector}`): string => `parent.__pwned=/${label}/.source`;

// ─── Forging frames ───────────────────────────────────────────────────────────

let nextId = 1;
function el(tag: string, attrs: string[] = [], children: SerializedNode[] = [], extra?: SerializedElement[5]): SerializedElement {
  const id = nextId++;
  return extra ? [1, id, tag, attrs, children, extra] : [1, id, tag, attrs, children];
}
const svg = (tag: string, attrs: string[] = [], children: SerializedNode[] = []) => el(tag, attrs, children, { ns: 's' });
const math = (tag: string, attrs: string[] = [], children: SerializedNode[] = []) => el(tag, attrs, children, { ns: 'm' });
const txt = (text: string): SerializedText => [3, nextId++, text];

/** A hostile page: every vector as it could appear in a snapshot. */
function hostileSnapshot() {
  nextId = 1;
  vector = 0;
  const docId = nextId++;
  const target = el('div', ['id', 'target'], [txt('target')]);
  const link = el('a', ['id', 'link'], [txt('link')]);
  const frame = el('iframe', ['id', 'frame']);
  const meta = el('meta', ['id', 'meta', 'content', `0;url=javascript:${PARENT()}`]);
  const styleText = txt('p { color: red }');
  const style = el('style', ['id', 'style'], [styleText]);
  const field = el('input', ['id', 'field']);
  const script = el('script', ['id', 'script'], [txt(TOP())]);
  const head = el(
    'head',
    [],
    [
      el('title', [], [txt('hostile')]),
      meta,
      el('meta', ['http-equiv', 'refresh', 'content', `0;url=javascript:${PARENT()}`]),
      el('meta', ['HTTP-EQUIV', 'Refresh', 'content', '0;url=/test/fixtures/LICENSE-rrweb']),
      el('base', ['href', `javascript:${PARENT()}//`]),
      el('link', ['rel', 'import', 'href', `data:text/html,<script>${PARENT()}</script>`]),
      el('link', ['rel', 'stylesheet', 'href', `javascript:${PARENT()}`]),
      el('style', [], [txt(`@import url("javascript:${PARENT()}"); body { background: url("javascript:${PARENT()}") }`)]),
      el('style', ['onload', TOP()], [txt('a{}')]),
      el('script', ['src', `data:text/javascript,${TOP()}`]),
      style,
    ],
  );
  const vectors: SerializedNode[] = [
    target,
    link,
    frame,
    field,
    script,
    el('script', [], [txt(`${TOP()}; document.title = 'pwned'`)]),
    svg('svg', ['onload', TOP()]),
    el('img', ['src', 'x', 'onerror', TOP()]),
    el('img', ['src', 'x', 'ONERROR', TOP()]),
    el('img', ['srcset', `javascript:${TOP()}`, 'src', `javascript:${TOP()}`]),
    el('a', ['href', `javascript:${TOP()}`], [txt('a1')]),
    el('a', ['href', `   \t\n javascript:${TOP()}`], [txt('a2')]),
    el('a', ['href', `java\tscr\nipt:${TOP()}`], [txt('a3')]),
    el('a', ['href', `JaVaScRiPt:${TOP()}`], [txt('a4')]),
    el('a', ['href', `\u0001\u001fjavascript:${TOP()}`], [txt('a5')]),
    el('a', ['href', `data:text/html,<script>${PARENT()}</script>`], [txt('a6')]),
    el('map', ['name', 'm'], [el('area', ['shape', 'default', 'href', `javascript:${TOP()}`])]),
    el('iframe', ['srcdoc', `<script>${PARENT()}</script>`]),
    el('iframe', ['src', `javascript:${PARENT()}`]),
    el('iframe', ['SRC', `javascript:${PARENT()}`]),
    // Upper-case tags: the mirror decides by the element the DOM makes of them.
    el('IFRAME', ['src', `javascript:${PARENT()}`]),
    el('SCRIPT', [], [txt(TOP())]),
    el('LINK', ['rel', 'preload', 'as', 'script', 'href', `data:text/javascript,${PARENT()}`]),
    el('iframe', ['src', `data:text/html,<script>${PARENT()}</script>`]),
    el('object', ['data', `data:text/html,<script>${PARENT()}</script>`, 'type', 'text/html']),
    el('embed', ['src', `javascript:${PARENT()}`]),
    el('embed', ['src', `data:text/html,<script>${PARENT()}</script>`, 'type', 'text/html']),
    el('portal', ['src', `javascript:${PARENT()}`]),
    el('form', ['action', `javascript:${TOP()}`], [el('input', ['type', 'submit'])]),
    el('button', ['formaction', `javascript:${TOP()}`], [txt('b')]),
    el('input', ['type', 'image', 'src', 'x', 'formaction', `javascript:${TOP()}`]),
    svg(
      'svg',
      [],
      [
        svg('a', ['xlink:href', `javascript:${PARENT()}`], [svg('text', ['y', '10'], [txt('xlink')])]),
        svg('a', ['XLINK:HREF', `javascript:${PARENT()}`, 'href', ` javascript:${PARENT()}`], [svg('text', ['y', '20'], [txt('href')])]),
        svg('use', [
          'href',
          `data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='${PARENT()}'/></svg>#x`,
        ]),
        svg('use', [
          'xlink:href',
          `data:image/svg+xml;base64,${btoa(`<svg id="x" xmlns="http://www.w3.org/2000/svg" onload="${PARENT()}"/>`)}#x`,
        ]),
        svg('image', ['href', `javascript:${PARENT()}`]),
        svg('script', [], [txt(PARENT())]),
        svg('SCRIPT', ['href', `data:text/javascript,${PARENT()}`]),
        svg('animate', ['onbegin', PARENT(), 'attributeName', 'x', 'dur', '1s']),
        // Animations that turn a harmless link into a javascript: one once the document runs.
        svg(
          'a',
          ['id', 'set-href'],
          [svg('set', ['attributeName', 'href', 'to', `javascript:${PARENT('svg-set-href')}`]), svg('text', ['y', '30'], [txt('set')])],
        ),
        svg(
          'a',
          ['id', 'set-xlink'],
          [
            svg('set', ['attributeName', 'xlink:href', 'to', `javascript:${PARENT('svg-set-xlink-href')}`]),
            svg('text', ['y', '40'], [txt('set')]),
          ],
        ),
        svg(
          'a',
          ['id', 'animate-values'],
          [
            svg('animate', [
              'attributeName',
              'href',
              'values',
              `javascript:${PARENT('svg-animate-values-href')}`,
              'dur',
              '10s',
              'fill',
              'freeze',
            ]),
            svg('text', ['y', '50'], [txt('animate')]),
          ],
        ),
        svg('foreignObject', [], [el('iframe', ['srcdoc', `<script>${PARENT()}</script>`])]),
      ],
    ),
    math(
      'math',
      [],
      [math('maction', ['actiontype', 'statusline', 'xlink:href', `javascript:${PARENT()}`], [math('mtext', [], [txt('maction')])])],
    ),
    el('details', ['open', '', 'ontoggle', TOP()], [el('summary', [], [txt('s')])]),
    el('input', ['autofocus', '', 'onfocus', TOP()]),
    el('video', [], [el('source', ['src', 'x', 'onerror', TOP()])]),
    el('marquee', ['onstart', TOP()], [txt('m')]),
    el('template', [], [el('script', [], [txt(TOP())]), el('img', ['src', 'x', 'onerror', TOP()])]),
    el('noscript', [], [el('img', ['src', 'x', 'onerror', TOP()])]),
  ];
  const body = el('body', ['onload', TOP(), 'onpageshow', TOP()], vectors);
  const html = el('html', [], [head, body]);
  const frameJson: SnapshotFrame = {
    t: 'snapshot',
    s: 1,
    url: 'https://customer.example/',
    title: 'hostile',
    viewport: [800, 600],
    doc: [9, docId, [[10, nextId++, 'html', '', ''], html]],
  };
  const ids = {
    head: head[1],
    body: body[1],
    target: target[1],
    link: link[1],
    frame: frame[1],
    meta: meta[1],
    style: style[1],
    styleText: styleText[1],
    field: field[1],
    script: script[1],
  };
  return { frame: frameJson, ids };
}

/** Ops an attacker sends after the snapshot, against nodes the mirror has. */
function hostilePatch(ids: ReturnType<typeof hostileSnapshot>['ids']): PatchFrame {
  const ops: PatchOp[] = [
    [Op.Attr, ids.target, 'onclick', TOP()],
    [Op.Attr, ids.target, 'OnMouseOver', TOP()],
    [Op.Attr, ids.link, 'href', `javascript:${TOP()}`],
    [Op.Attr, ids.link, 'href', ` \n JAVASCRIPT:${TOP()}`],
    [Op.Attr, ids.link, 'xlink:href', `javascript:${TOP()}`],
    [Op.Attr, ids.frame, 'srcdoc', `<script>${PARENT()}</script>`],
    [Op.Attr, ids.frame, 'src', `javascript:${PARENT()}`],
    [Op.Attr, ids.meta, 'http-equiv', 'refresh'],
    [Op.Add, ids.body, null, el('script', [], [txt(TOP())])],
    [Op.Add, ids.body, ids.target, el('img', ['src', 'x', 'onerror', TOP()])],
    [Op.Add, ids.body, null, el('iframe', ['srcdoc', `<script>${PARENT()}</script>`])],
    [Op.Add, ids.body, null, el('object', ['data', `data:text/html,<script>${PARENT()}</script>`])],
    [Op.Add, ids.body, null, el('template', [], [el('script', [], [txt(TOP())])])],
    [Op.Add, ids.body, null, svg('svg', ['onload', TOP()])],
    [Op.Add, ids.head, null, el('base', ['href', `javascript:${PARENT()}//`])],
    [Op.Add, ids.head, null, el('meta', ['http-equiv', 'refresh', 'content', `0;url=javascript:${PARENT()}`])],
    // Into the stand-in of a script: text must not become code there either.
    [Op.Add, ids.script, null, txt(TOP())],
    [Op.Add, ids.script, null, el('img', ['src', 'x', 'onerror', TOP()])],
    [Op.Text, ids.styleText, `@import url("javascript:${PARENT()}");`],
    [Op.Value, ids.field, `<script>${TOP()}</script>`],
  ];
  return { t: 'patch', s: 2, ops };
}

/** Sends a forged frame through JSON and the relay's own schema check, as the wire would. */
function overTheWire<T extends SnapshotFrame | PatchFrame>(frame: T): T {
  return checkFrame(JSON.parse(JSON.stringify(frame)), FORWARDED.customer) as T;
}

// ─── Mirrors and checks ───────────────────────────────────────────────────────

interface Setup {
  mirror: Mirror;
  iframe: HTMLIFrameElement;
}

/** The right way: the sandbox is on the iframe before it gets a document. */
function sandboxedMirror(): Setup {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', MIRROR_SANDBOX);
  iframe.style.cssText = 'width:800px;height:600px;border:0';
  document.body.append(iframe);
  return { mirror: new Mirror(iframe), iframe };
}

/** As test/helpers/dom.ts does: attached first, sandbox set by the Mirror constructor. */
function lateSandboxedMirror(): Setup {
  const iframe = document.createElement('iframe');
  iframe.style.cssText = 'width:800px;height:600px;border:0';
  document.body.append(iframe);
  return { mirror: new Mirror(iframe), iframe };
}

const SVG_NS = 'http://www.w3.org/2000/svg';
let markers = 0;

/**
 * The marker after which a payload that was going to run would have run: allowed effects of the kinds
 * the payloads wait for, started after them, and watched from this window (the mirror runs no script).
 * The mirror document has loaded (load handlers ran; a meta refresh counts from there), an image has
 * failed to load from a same-origin URL, as the payloads' src="x" ones do (their onerror came first),
 * an SVG <set> has applied (animations have begun: onbegin, and a <set> or <animate> writing a link),
 * and two rendering updates have passed since (autofocus, ontoggle, marquee start).
 */
async function markerArrived(doc: Document): Promise<void> {
  await until(() => doc.readyState === 'complete', 'the mirror document loaded');
  const img = doc.createElement('img');
  const failed = new Promise((resolve) => img.addEventListener('error', resolve, { once: true }));
  img.src = `x?marker=${++markers}`;
  const svgRoot = doc.createElementNS(SVG_NS, 'svg');
  const rect = svgRoot.appendChild(doc.createElementNS(SVG_NS, 'rect')) as SVGRectElement;
  const set = rect.appendChild(doc.createElementNS(SVG_NS, 'set'));
  set.setAttribute('attributeName', 'width');
  set.setAttribute('to', '7');
  doc.body.append(img, svgRoot);
  await failed;
  await until(() => rect.width.animVal.value === 7, 'the marker SVG animation applied');
  for (let frame = 0; frame < 2; frame++) await new Promise((resolve) => doc.defaultView!.requestAnimationFrame(resolve));
  img.remove();
  svgRoot.remove();
}

const URL_ATTRIBUTES = new Set([
  'src',
  'href',
  'xlink:href',
  'action',
  'formaction',
  'poster',
  'background',
  'data',
  'cite',
  'ping',
  'srcset',
  'lowsrc',
  'dynsrc',
  'codebase',
  'manifest',
  'to',
  'from',
  'values',
  'by',
]);

/** Every element of a document, including what lives inside <template> contents. */
function allElements(root: Document | DocumentFragment): Element[] {
  const out: Element[] = [];
  for (const e of Array.from(root.querySelectorAll('*'))) {
    out.push(e);
    if (e.localName === 'template' && e.namespaceURI === 'http://www.w3.org/1999/xhtml')
      out.push(...allElements((e as HTMLTemplateElement).content));
  }
  return out;
}

function problems(doc: Document): string[] {
  const found: string[] = [];
  for (const e of allElements(doc)) {
    const where = `<${e.localName}${e.id ? '#' + e.id : ''}>`;
    if (/^(script|object|embed|base|frame|frameset|applet|portal)$/.test(e.localName)) found.push(`${where} element`);
    for (const a of Array.from(e.attributes)) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${where} ${a.name}`);
      if (name === 'srcdoc' || name === 'http-equiv') found.push(`${where} ${a.name}`);
      if (e.localName === 'iframe' && name === 'src') found.push(`${where} src`);
      // eslint-disable-next-line no-control-regex -- browsers skip control characters inside a scheme, so the check must too
      const squashed = a.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      if (URL_ATTRIBUTES.has(name) && /^(javascript|vbscript):|^data:(text\/html|image\/svg)/.test(squashed))
        found.push(`${where} ${a.name}=${a.value.slice(0, 30)}`);
    }
  }
  return found;
}

/** Clicks what a person could click; a surviving javascript: URL or onclick would run. */
function clickAround(doc: Document): void {
  for (const e of Array.from(doc.querySelectorAll('#target, a, area, summary'))) {
    e.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
    e.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
  }
}

async function assertInert(setup: Setup, hrefAfterFirstApply: string, doc: Document): Promise<void> {
  const { iframe, mirror } = setup;
  await markerArrived(doc);
  clickAround(mirror.document); // again, now that SVG animations have started
  await markerArrived(doc); // what a click would start (a javascript: URL runs in a task of its own) came first
  expect(win.__pwned, 'window.__pwned').to.equal(undefined);
  expect(problems(mirror.document).join('\n'), 'active content in the mirror').to.equal('');
  expect(iframe.getAttribute('sandbox')).to.equal('allow-same-origin');
  // No navigation: the same document object (a navigation replaces it), still the mirror's, same URL.
  // (Load events are no sign: document.close() in applySnapshot fires one.)
  expect(iframe.contentDocument, 'the mirror document was replaced').to.equal(doc);
  expect(iframe.contentWindow!.location.href).to.equal(hrefAfterFirstApply);
  expect(mirror.document.getElementById('target')).to.not.equal(null);
  expect(mirror.document.title).to.equal('hostile');
}

// ─── Tests ────────────────────────────────────────────────────────────────────

describe("mirror: never runs the customer page's code", () => {
  beforeEach(() => {
    delete win.__pwned;
    delete win.__probe;
  });

  it('forges at least 25 attack vectors, all valid frames on the wire', () => {
    const { frame, ids } = hostileSnapshot();
    const patch = hostilePatch(ids);
    const html = frame.doc[2][1] as SerializedElement;
    const [head, body] = html[4] as SerializedElement[];
    expect(head![4].length + body![4].length + patch.ops.length).to.be.greaterThan(60);
    expect(() => overTheWire(frame)).to.not.throw();
    expect(() => overTheWire(patch)).to.not.throw();
  });

  for (const [name, make] of [
    ['in a sandboxed iframe', sandboxedMirror],
    // Here the iframe's document predates its sandbox, so this exercises the mirror's own filtering alone.
    ['with the sandbox set by the Mirror on an attached iframe (filtering alone)', lateSandboxedMirror],
  ] as const) {
    it(`applies a hostile snapshot and patch inertly, ${name}`, async () => {
      const setup = make();
      const initialHref = setup.iframe.contentWindow!.location.href;
      expect(initialHref).to.equal('about:blank');
      const { frame, ids } = hostileSnapshot();
      setup.mirror.applySnapshot(overTheWire(frame));
      const doc = setup.iframe.contentDocument!;
      // document.open() gives the document its opener's URL, which the mirror cuts to the site root; not a navigation.
      const href = setup.iframe.contentWindow!.location.href;
      expect([initialHref, `${location.origin}/`]).to.include(href);
      expect(setup.mirror.applyPatch(overTheWire(hostilePatch(ids)))).to.equal(true);
      clickAround(setup.mirror.document);
      await assertInert(setup, href, doc);
      // A second snapshot over the first one changes nothing either.
      setup.mirror.applySnapshot(overTheWire(hostileSnapshot().frame));
      clickAround(setup.mirror.document);
      await assertInert(setup, href, doc);
      setup.iframe.remove();
    });
  }

  it('really sandboxes an iframe that was attached before the Mirror set its sandbox', async () => {
    // The Mirror sets sandbox on an iframe that lacks it, and its `document` getter trusts the
    // attribute; but sandbox flags only apply to documents created after the attribute is set.
    const { mirror } = lateSandboxedMirror();
    mirror.applySnapshot(overTheWire(hostileSnapshot().frame));
    const probe = mirror.document.createElement('script');
    probe.textContent = 'window.top.__probe = true';
    mirror.document.body.append(probe); // an inline script runs as it is inserted, if at all: nothing to wait for
    expect(win.__probe, 'a script ran inside the mirror document').to.equal(undefined);
    mirror.iframe.remove();
  });

  it('really sandboxes the mirror of test/helpers/dom.ts mirrorFrame()', async () => {
    const { mirror } = mirrorFrame();
    mirror.applySnapshot(overTheWire(hostileSnapshot().frame));
    const img = mirror.document.createElement('img');
    img.setAttribute('onerror', 'window.top.__probe = true');
    // This window's listener, added after the handler, runs after it in the same dispatch.
    const failed = new Promise((resolve) => img.addEventListener('error', resolve, { once: true }));
    img.src = 'data:,not-an-image';
    mirror.document.body.append(img);
    await failed;
    expect(win.__probe, 'an inline handler ran inside the mirror document').to.equal(undefined);
    mirror.iframe.remove();
  });

  it('has scripts blocked in a correctly sandboxed mirror (control)', async () => {
    const { mirror, iframe } = sandboxedMirror();
    mirror.applySnapshot(overTheWire(hostileSnapshot().frame));
    const probe = mirror.document.createElement('script');
    probe.textContent = 'window.top.__probe = true';
    mirror.document.body.append(probe); // an inline script runs as it is inserted, if at all
    expect(win.__probe).to.equal(undefined);
    iframe.remove();
  });

  it('refuses to render when the sandbox was changed or removed', () => {
    const { mirror, iframe } = sandboxedMirror();
    const good = overTheWire(hostileSnapshot().frame);
    mirror.applySnapshot(good);
    for (const sandbox of [
      'allow-same-origin allow-scripts',
      'allow-scripts allow-same-origin',
      'allow-scripts',
      'allow-same-origin allow-top-navigation',
      '',
    ]) {
      iframe.setAttribute('sandbox', sandbox);
      expect(() => mirror.applySnapshot(good), `sandbox="${sandbox}"`).to.throw(/sandbox/);
    }
    iframe.removeAttribute('sandbox');
    expect(() => mirror.applySnapshot(good), 'no sandbox').to.throw(/sandbox/);
    iframe.setAttribute('sandbox', MIRROR_SANDBOX);
    expect(() => mirror.applySnapshot(good)).to.not.throw();
    iframe.remove();
  });

  it('records with-script.html and mirrors no script content', async () => {
    const html = await (await fetch('/test/fixtures/pages/html/with-script.html')).text();
    expect(html).to.include('var a = 1 + 1'); // (the dev server's esbuild prefixes "use strict" and a source map)
    // The dev server injects its own module script into HTML it serves: not part of the page.
    const { doc, frame: source } = await sourceFrame(
      html.replace(/<!-- injected by web-dev-server -->|<script[^>]*__web-dev-server[^>]*><\/script>/g, ''),
    );
    // The page's external script blocks the parser until it fails to load.
    await until(() => doc.readyState === 'complete', 'the page loaded');
    expect(doc.querySelectorAll('script')).to.have.length(2);
    const { mirror, iframe } = sandboxedMirror();
    const sent: string[] = [];
    const rec = record({
      doc,
      emit(frame) {
        const text = JSON.stringify(frame);
        sent.push(text);
        const received = checkFrame({ s: 1, ...JSON.parse(text) }, FORWARDED.customer) as SnapshotFrame | PatchFrame;
        if (received.t === 'snapshot') mirror.applySnapshot(received);
        else mirror.applyPatch(received);
      },
    });
    // The marker: a change after the recording started, so whatever the recorder sends first has arrived.
    doc.body.setAttribute('data-marker', '');
    await until(() => mirror.document.body?.hasAttribute('data-marker'), 'the marker change in the mirror');
    const m = mirror.document;
    expect(m.title).to.equal('with script');
    expect(Array.from(m.querySelectorAll('script')).filter((s) => s.textContent!.trim())).to.have.length(0);
    expect(m.querySelectorAll('script')).to.have.length(0);
    for (const e of allElements(m)) expect(e.textContent, `<${e.localName}>`).to.not.include('1 + 1');
    expect(sent.join('')).to.not.include('1 + 1');
    expect(sent.join('')).to.not.include('sourceMappingURL');
    expect(problems(m).join('\n')).to.equal('');
    expect(win.__pwned).to.equal(undefined);
    rec.stop();
    source.remove();
    iframe.remove();
  });
});
