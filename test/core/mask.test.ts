/**
 * Privacy at the source: what is masked in the customer's page never reaches a frame.
 * Every secret below carries one run-unique marker; the tests look for that marker in the
 * JSON of every frame the recorder emits, not only in what the mirror ends up showing.
 */
import { expect } from '@open-wc/testing';
import { MASK, Masker } from '../../core/dom/mask.js';
import { record, type Recording } from '../../core/dom/recorder.js';
import type { PatchContent as PatchFrame, SnapshotContent as SnapshotFrame } from '../../core/protocol/index.js';
import { mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';

const RUN = Math.random().toString(36).slice(2, 10);
/** Must never appear in a frame. */
const SECRET = `SECRET-${RUN}`;
/** Code (handlers, script text): must never appear in a frame either. */
const CODE = `CODE-${RUN}`;
/** An unmasked field's value: must arrive. */
const VISIBLE = `VISIBLE-${RUN}`;
let n = 0;
const secret = (): string => `${SECRET}-${++n}`;

const PAGE = `<!doctype html><html><head><title>checkout</title>
<script>window.__sourceScriptRan = '${CODE}-inline-script';</script></head>
<body onload="window.__x='${CODE}-body-onload'">
<form id="form">
  <input id="pw" type="password" value="${secret()}">
  <input id="cc" autocomplete="cc-number" value="${secret()}">
  <input id="otp" autocomplete="one-time-code" value="${secret()}">
  <input id="csrf" type="hidden" name="csrf_token" value="${secret()}">
  <div id="masked" data-cobrowse-mask>
    <label>Name <input id="m-field" value="${secret()}"></label>
    <textarea id="m-area">${secret()}</textarea>
    <p id="m-text">${secret()} <b id="m-bold">${secret()}</b></p>
  </div>
  <input id="plain" value="${VISIBLE}-attr">
  <div id="wrapper"><input id="w-field" value="before"><span id="w-text">before text</span></div>
  <div class="private"><input id="p-field" value="${secret()}"><span id="p-text">${secret()}</span></div>
  <button id="btn" type="button" onclick="window.__x='${CODE}-onclick'">Pay</button>
  <img id="img" src="data:," onerror="window.__x='${CODE}-onerror'">
</form>
</body></html>`;

interface Harness {
  doc: Document;
  win: Window;
  mirror: Document;
  rec: Recording;
  emitted: string[];
  /** Asserts that no emitted frame so far holds a secret or a piece of code. */
  clean(): void;
  settle(): Promise<void>;
}

/** Records `html` into a mirror; PAGE's `.private` block needs the extra selector, hence the default. */
async function harness(html: string, masker = new Masker({ mask: '.private' }), forbidden: string[] = [SECRET, CODE]): Promise<Harness> {
  const { doc } = await sourceFrame(html);
  const { mirror, sink } = mirrorFrame();
  const emitted: string[] = [];
  const emit = (frame: SnapshotFrame | PatchFrame): void => {
    emitted.push(JSON.stringify(frame));
    sink(frame);
  };
  const rec = record({ emit, doc, masker });
  const win = doc.defaultView!;
  return {
    doc,
    win,
    mirror: mirror.document,
    rec,
    emitted,
    clean() {
      expect(emitted.length, 'the recorder emitted frames').to.be.greaterThan(0);
      emitted.forEach((text, i) => {
        for (const word of forbidden) {
          const at = text.indexOf(word);
          if (at >= 0) expect.fail(`frame ${i} leaks "${word}…": …${text.slice(Math.max(0, at - 120), at + 60)}…`);
        }
      });
    },
    settle: () => settle(win),
  };
}

function type(el: Element, value: string): void {
  (el as HTMLInputElement).value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

const value = (doc: Document, id: string): string => (doc.getElementById(id) as HTMLInputElement).value;
const text = (doc: Document, id: string): string => doc.getElementById(id)!.textContent!;

describe('masking at the source', () => {
  it('masks every sensitive field and masked text in the snapshot; the plain field arrives', async () => {
    const h = await harness(PAGE);
    h.clean();
    for (const id of ['pw', 'cc', 'otp', 'csrf', 'm-field', 'm-area', 'p-field']) {
      expect(value(h.mirror, id), `#${id} in the mirror`).to.equal(MASK);
    }
    expect(h.mirror.getElementById('csrf')!.getAttribute('value')).to.equal(MASK);
    expect(h.mirror.getElementById('pw')!.getAttribute('value')).to.equal(MASK);
    expect(text(h.mirror, 'm-bold')).to.equal(MASK);
    expect(h.mirror.getElementById('m-text')!.firstChild!.textContent).to.equal(MASK);
    expect(text(h.mirror, 'p-text')).to.equal(MASK);
    expect(value(h.mirror, 'plain')).to.equal(`${VISIBLE}-attr`);
    expect(h.emitted.join('')).to.include(`${VISIBLE}-attr`);
    // Unmasked text elsewhere is untouched.
    expect(text(h.mirror, 'w-text')).to.equal('before text');
    h.rec.stop();
  });

  it('masks what is typed, and what is set through the value attribute', async () => {
    const h = await harness(PAGE);
    for (const id of ['pw', 'cc', 'otp', 'csrf', 'm-field', 'm-area', 'p-field']) {
      type(h.doc.getElementById(id)!, secret());
    }
    type(h.doc.getElementById('plain')!, `${VISIBLE}-typed`);
    await h.settle();
    for (const id of ['pw', 'cc', 'otp', 'csrf', 'm-field', 'p-field']) {
      h.doc.getElementById(id)!.setAttribute('value', secret());
    }
    await h.settle();
    h.clean();
    for (const id of ['pw', 'cc', 'otp', 'csrf', 'm-field', 'm-area', 'p-field']) {
      expect(value(h.mirror, id), `#${id} in the mirror`).to.equal(MASK);
    }
    expect(value(h.mirror, 'plain')).to.equal(`${VISIBLE}-typed`);
    expect(h.emitted.slice(1).join('')).to.include(`${VISIBLE}-typed`);
    h.rec.stop();
  });

  it('masks changed, replaced and added text under masked elements, and textarea content', async () => {
    const h = await harness(PAGE);
    (h.doc.getElementById('m-bold')!.firstChild as Text).data = secret();
    h.doc.getElementById('m-text')!.append(secret(), h.doc.createElement('i'));
    h.doc.querySelector('#m-text i')!.textContent = secret();
    h.doc.getElementById('m-area')!.textContent = secret();
    h.doc.getElementById('p-text')!.textContent = secret();
    const added = h.doc.createElement('div');
    added.innerHTML = `<span id="m-new">${secret()}</span><input id="m-new-field" value="${secret()}">`;
    h.doc.getElementById('masked')!.append(added);
    await h.settle();
    h.clean();
    expect(text(h.mirror, 'm-bold')).to.equal(MASK);
    expect(text(h.mirror, 'm-new')).to.equal(MASK);
    expect(h.mirror.querySelector('#m-text i')!.textContent).to.equal(MASK);
    expect(text(h.mirror, 'p-text')).to.equal(MASK);
    expect(value(h.mirror, 'm-new-field')).to.equal(MASK);
    h.rec.stop();
  });

  it('masks a password field added later, from its first frame on', async () => {
    const h = await harness(PAGE);
    const form = h.doc.getElementById('form')!;
    form.insertAdjacentHTML('beforeend', `<input id="pw2" type="password" value="${secret()}">`);
    const pw3 = h.doc.createElement('input');
    pw3.id = 'pw3';
    pw3.type = 'password';
    pw3.value = secret(); // a property only: no attribute, no event
    form.append(pw3);
    await h.settle();
    type(h.doc.getElementById('pw2')!, secret());
    type(pw3, secret());
    await h.settle();
    h.clean();
    expect(value(h.mirror, 'pw2')).to.equal(MASK);
    expect(value(h.mirror, 'pw3')).to.equal(MASK);
    h.rec.stop();
  });

  it('keeps a password masked after a "show password" toggle turns it into a text field', async () => {
    const h = await harness(PAGE);
    const pw = h.doc.getElementById('pw') as HTMLInputElement;
    pw.type = 'text';
    await h.settle();
    type(pw, secret());
    pw.setAttribute('value', secret());
    await h.settle();
    pw.removeAttribute('type'); // and with no type at all
    type(pw, secret());
    await h.settle();
    pw.type = 'password';
    type(pw, secret());
    pw.type = 'text'; // toggled in the same task as typing
    type(pw, secret());
    await h.settle();
    h.clean();
    expect(h.mirror.getElementById('pw')!.getAttribute('type')).to.equal('text');
    expect(value(h.mirror, 'pw')).to.equal(MASK);
    h.rec.stop();
  });

  it('masks a wrapper at once when data-cobrowse-mask is added to it later', async () => {
    const h = await harness(PAGE);
    expect(value(h.mirror, 'w-field')).to.equal('before');
    const wrapper = h.doc.getElementById('wrapper')!;
    wrapper.setAttribute('data-cobrowse-mask', '');
    await h.settle();
    // What was already there is masked now, without any further change on the page.
    expect(value(h.mirror, 'w-field')).to.equal(MASK);
    expect(text(h.mirror, 'w-text')).to.equal(MASK);
    type(h.doc.getElementById('w-field')!, secret());
    (h.doc.getElementById('w-text')!.firstChild as Text).data = secret();
    h.doc.getElementById('w-field')!.setAttribute('value', secret());
    wrapper.insertAdjacentHTML('beforeend', `<em id="w-new">${secret()}</em>`);
    await h.settle();
    // Marked and typed into within one task.
    const other = h.doc.createElement('div');
    other.innerHTML = '<input id="o-field" value="x">';
    h.doc.body.append(other);
    await h.settle();
    other.setAttribute('data-cobrowse-mask', '');
    type(h.doc.getElementById('o-field')!, secret());
    await h.settle();
    h.clean();
    expect(value(h.mirror, 'w-field')).to.equal(MASK);
    expect(text(h.mirror, 'w-text')).to.equal(MASK);
    expect(text(h.mirror, 'w-new')).to.equal(MASK);
    expect(value(h.mirror, 'o-field')).to.equal(MASK);
    h.rec.stop();
  });

  it('masks extra selectors from new Masker({ mask }), including a class added later', async () => {
    const h = await harness(PAGE, new Masker({ mask: '.private, #ssn' }));
    expect(value(h.mirror, 'p-field')).to.equal(MASK);
    h.doc.body.insertAdjacentHTML('beforeend', `<input id="ssn" value="${secret()}"><p id="later">not yet</p>`);
    await h.settle();
    h.doc.getElementById('later')!.classList.add('private');
    await h.settle();
    expect(text(h.mirror, 'later')).to.equal(MASK);
    h.doc.getElementById('later')!.textContent = secret();
    type(h.doc.getElementById('ssn')!, secret());
    await h.settle();
    h.clean();
    expect(value(h.mirror, 'ssn')).to.equal(MASK);
    expect(text(h.mirror, 'later')).to.equal(MASK);
    h.rec.stop();
  });

  it('does not mask .private without the extra selector', async () => {
    const h = await harness(PAGE, new Masker(), [CODE]);
    expect(value(h.mirror, 'p-field')).to.not.equal(MASK);
    expect(text(h.mirror, 'p-text')).to.not.equal(MASK);
    h.rec.stop();
  });

  it('rejects a bad extra selector at once', () => {
    expect(() => new Masker({ mask: '[[nope' })).to.throw();
  });

  it('never sends inline on* handlers or <script> text', async () => {
    const h = await harness(PAGE);
    const btn = h.doc.getElementById('btn')!;
    btn.setAttribute('onmouseover', `window.__x='${CODE}-later'`);
    btn.setAttribute('onclick', `window.__x='${CODE}-changed'`);
    h.doc.body.insertAdjacentHTML(
      'beforeend',
      `<div id="later" onclick="${CODE}-added" ondblclick="${CODE}-added2">x</div>` +
        `<svg><script>${CODE}-svg-script</script><circle onclick="${CODE}-svg" r="1"/></svg>` +
        `<noscript><img src="data:," onerror="${CODE}-noscript"></noscript>`,
    );
    const script = h.doc.createElement('script');
    script.textContent = `window.__y = '${CODE}-new-script';`;
    h.doc.body.append(script);
    const svgScript = h.doc.createElementNS('http://www.w3.org/2000/svg', 'script');
    svgScript.textContent = `${CODE}-new-svg-script`;
    h.doc.querySelector('svg')!.append(svgScript);
    await h.settle();
    h.clean();
    expect((h.win as unknown as { __y: string }).__y, 'the source page runs its own script').to.equal(`${CODE}-new-script`);
    expect(h.mirror.getElementById('later')!.textContent).to.equal('x');
    h.rec.stop();
  });

  it('never sends the text of a script filled after it was inserted', async () => {
    // The common loader pattern: insert an empty <script>, then set its text.
    const h = await harness(PAGE);
    const script = h.doc.createElement('script');
    h.doc.body.append(script);
    await h.settle();
    script.textContent = `window.__z = '${CODE}-filled-later';`;
    await h.settle();
    h.doc.querySelector('head script')!.append(`/* ${CODE}-appended */`);
    await h.settle();
    h.clean();
    h.rec.stop();
  });

  it('never sends an on* attribute set in another case on an SVG element', async () => {
    // Only HTML elements lower-case setAttribute names; the mirror lower-cases before it checks.
    const h = await harness('<!doctype html><body><svg><circle id="c" r="1"/></svg></body>');
    h.doc.getElementById('c')!.setAttribute('ONCLICK', `${CODE}-upper`);
    await h.settle();
    h.clean();
    h.rec.stop();
  });

  it('masks autocomplete tokens in any case and with section/billing prefixes', async () => {
    const h = await harness(`<!doctype html><body>
      <input id="a" autocomplete="billing cc-number" value="${secret()}">
      <input id="b" autocomplete="CC-Number" value="${secret()}">
      <input id="c" autocomplete="section-login one-time-code" value="${secret()}">
      <input id="d" autocomplete="section-x shipping cc-csc" value="${secret()}">
    </body>`);
    for (const id of ['a', 'b', 'c', 'd']) type(h.doc.getElementById(id)!, secret());
    await h.settle();
    const shown = ['a', 'b', 'c', 'd']
      .filter((id) => value(h.mirror, id) !== MASK)
      .map((id) => `autocomplete="${h.doc.getElementById(id)!.getAttribute('autocomplete')}"`);
    expect(shown.join(', '), 'fields shown unmasked').to.equal('');
    h.clean();
    h.rec.stop();
  });

  it('masks option values of a select inside a masked element', async () => {
    const h = await harness(`<!doctype html><body><div data-cobrowse-mask>
      <select id="s"><option value="${secret()}">${secret()}</option><option value="${secret()}" selected>${secret()}</option></select>
    </div></body>`);
    h.clean();
    h.rec.stop();
  });
});
