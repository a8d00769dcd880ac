import { expect } from '@open-wc/testing';
import { emulatedSelector, PseudoMark } from '../../core/dom/pseudo.js';
import { record } from '../../core/dom/recorder.js';
import { Op, type PatchOp } from '../../core/protocol/index.js';
import { canonical, mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';

const PAGE = `<!doctype html><html><head><style>
  p:hover { color: rgb(255, 0, 0); }
  #form:focus-within { background-color: rgb(1, 2, 3); }
  input:focus { background-color: rgb(0, 0, 255); }
  input:focus-visible { outline-color: rgb(9, 9, 9); }
  button:active { color: rgb(0, 128, 0); }
  @media screen { li:hover { color: rgb(4, 5, 6); } }
</style></head><body>
<p id="p">hello <b id="b">world</b></p><ul><li id="li">one</li></ul>
<div id="form"><input id="name"><button id="go">Go</button></div>
<div id="host"></div>
</body></html>`;

const pseudoOps = (frames: Array<{ t: string; ops?: PatchOp[] }>, code: number = Op.Pseudo): PatchOp[] =>
  frames.flatMap((f) => f.ops ?? []).filter((op) => op[0] === code);

function over(target: Element): void {
  target.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, composed: true, relatedTarget: null }));
}

describe('pseudo-classes: selector rewriting', () => {
  it('makes :hover, :active and the :focus family also match their markers', () => {
    expect(emulatedSelector('a:hover')).to.equal('a:is(:hover, [data-cobrowse-hover])');
    expect(emulatedSelector('.x:focus-within > b:focus-visible')).to.equal(
      '.x:is(:focus-within, [data-cobrowse-focus-within]) > b:is(:focus-visible, [data-cobrowse-focus-visible])',
    );
    expect(emulatedSelector('a:hover:active')).to.equal('a:is(:hover, [data-cobrowse-hover]):is(:active, [data-cobrowse-active])');
    expect(emulatedSelector(':host(:focus)')).to.equal(':host(:is(:focus, [data-cobrowse-focus]))');
  });

  it('leaves strings, escaped class names, other pseudo-classes and pseudo-elements alone', () => {
    for (const selector of ['[title=":hover"]', '.hover\\:underline', 'a:hovered', 'a:focusable', 'a::hover', 'a:visited']) {
      expect(emulatedSelector(selector), selector).to.equal(selector);
    }
    expect(emulatedSelector('.md\\:hover\\:x:hover')).to.equal('.md\\:hover\\:x:is(:hover, [data-cobrowse-hover])');
  });
});

describe("pseudo-classes: the customer's hover, focus and active on the mirror", () => {
  it('shows hover on the element and its ancestors, in <style> and @media rules', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const m = mirror.document;
    expect(getComputedStyle(m.getElementById('p')!).color).to.equal('rgb(0, 0, 0)');
    over(doc.getElementById('b')!);
    await settle(doc.defaultView!);
    expect(getComputedStyle(m.getElementById('p')!).color, 'ancestor of the hovered element').to.equal('rgb(255, 0, 0)');
    expect(m.getElementById('b')!.hasAttribute(PseudoMark.hover)).to.equal(true);
    over(doc.getElementById('li')!);
    await settle(doc.defaultView!);
    expect(getComputedStyle(m.getElementById('p')!).color, 'no longer hovered').to.equal('rgb(0, 0, 0)');
    expect(getComputedStyle(m.getElementById('li')!).color).to.equal('rgb(4, 5, 6)');
    // Markers and rewritten rules are the mirror's own: the tree still compares equal.
    expect(canonical(m)).to.equal(canonical(doc));
    expect(pseudoOps(frames)).to.have.length(2);
    rec.stop();
  });

  it('shows focus, focus-within and active', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const m = mirror.document;
    (doc.getElementById('name') as HTMLInputElement).focus();
    await settle(doc.defaultView!);
    expect(getComputedStyle(m.getElementById('name')!).backgroundColor).to.equal('rgb(0, 0, 255)');
    expect(getComputedStyle(m.getElementById('form')!).backgroundColor).to.equal('rgb(1, 2, 3)');
    const go = doc.getElementById('go')!;
    go.dispatchEvent(new MouseEvent('mousedown', { bubbles: true, composed: true, button: 0 }));
    await settle(doc.defaultView!);
    expect(getComputedStyle(m.getElementById('go')!).color).to.equal('rgb(0, 128, 0)');
    go.dispatchEvent(new MouseEvent('mouseup', { bubbles: true, composed: true, button: 0 }));
    (doc.getElementById('name') as HTMLInputElement).blur();
    await settle(doc.defaultView!);
    expect(getComputedStyle(m.getElementById('go')!).color).to.equal('rgb(0, 0, 0)');
    expect(getComputedStyle(m.getElementById('name')!).backgroundColor).not.to.equal('rgb(0, 0, 255)');
    expect(getComputedStyle(m.getElementById('form')!).backgroundColor).to.equal('rgba(0, 0, 0, 0)');
    expect(
      m.querySelectorAll(
        Object.values(PseudoMark)
          .map((name) => `[${name}]`)
          .join(','),
      ),
    ).to.have.length(0);
    rec.stop();
  });

  it('reaches into open shadow roots and adopted sheets, and marks the host', async () => {
    const { doc } = await sourceFrame(PAGE);
    const win = doc.defaultView as Window & typeof globalThis;
    const host = doc.getElementById('host')!;
    const root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<style>i:hover { color: rgb(7, 7, 7); }</style><i id="inner">in</i><input id="field">';
    const sheet = new win.CSSStyleSheet();
    sheet.replaceSync(':host(:focus-within) { color: rgb(8, 8, 8); } input:focus { color: rgb(9, 0, 9); }');
    root.adoptedStyleSheets = [sheet];
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const mirrorRoot = mirror.document.getElementById('host')!.shadowRoot!;
    over(root.getElementById('inner')!);
    await settle(win);
    expect(getComputedStyle(mirrorRoot.getElementById('inner')!).color).to.equal('rgb(7, 7, 7)');
    expect(mirror.document.getElementById('host')!.hasAttribute(PseudoMark.hover)).to.equal(true);
    (root.getElementById('field') as HTMLInputElement).focus();
    await settle(win);
    expect(getComputedStyle(mirrorRoot.getElementById('field')!).color).to.equal('rgb(9, 0, 9)');
    expect(getComputedStyle(mirror.document.getElementById('host')!).color).to.equal('rgb(8, 8, 8)');
    expect(mirror.document.getElementById('host')!.hasAttribute(PseudoMark.focus)).to.equal(true);
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    rec.stop();
  });

  it('sends a state once per frame and only when it changes, and again after a snapshot', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    for (let i = 0; i < 20; i++) over(doc.getElementById(i % 2 ? 'b' : 'li')!);
    over(doc.getElementById('b')!);
    await settle(doc.defaultView!);
    over(doc.getElementById('b')!);
    await settle(doc.defaultView!);
    expect(pseudoOps(frames)).to.have.length(1);
    rec.snapshot();
    expect(pseudoOps(frames)).to.have.length(2);
    expect(getComputedStyle(mirror.document.getElementById('p')!).color).to.equal('rgb(255, 0, 0)');
    // The hovered element moves: it has a new ID, so the mirror is told again.
    doc.getElementById('li')!.append(doc.getElementById('b')!);
    await settle(doc.defaultView!);
    expect(pseudoOps(frames)).to.have.length(3);
    expect(getComputedStyle(mirror.document.getElementById('li')!).color).to.equal('rgb(4, 5, 6)');
    rec.stop();
  });

  it('follows focus into a same-origin iframe', async () => {
    const { doc } = await sourceFrame('<!doctype html><body><iframe id="f"></iframe></body>');
    const inner = (doc.getElementById('f') as HTMLIFrameElement).contentDocument!;
    inner.open();
    inner.write('<!doctype html><style>input:focus { color: rgb(3, 3, 3); }</style><input id="x">');
    inner.close();
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    (inner.getElementById('x') as HTMLInputElement).focus();
    await settle(doc.defaultView!);
    const mirrorFrameDoc = (mirror.document.getElementById('f') as HTMLIFrameElement).contentDocument!;
    expect(getComputedStyle(mirrorFrameDoc.getElementById('x')!).color).to.equal('rgb(3, 3, 3)');
    expect(mirror.document.getElementById('f')!.hasAttribute(PseudoMark.focus)).to.equal(true);
    rec.stop();
  });
});

describe('pseudo-classes: validation', () => {
  it('refuses malformed pseudo ops', async () => {
    const { checkFrame, FORWARDED } = await import('../../core/protocol/index.js');
    const patch = (op: unknown) => () => checkFrame({ t: 'patch', s: 1, ops: [op] }, FORWARDED.customer);
    expect(patch([Op.Pseudo, 3, null, 4, true])).not.to.throw();
    for (const bad of [
      [Op.Pseudo, 3, null, null],
      [Op.Pseudo, '3', null, null, false],
      [Op.Pseudo, 3, null, null, 1],
      [Op.Pseudo, -1, null, null, false],
    ]) {
      expect(patch(bad), JSON.stringify(bad)).to.throw();
    }
  });
});

describe('pseudo-classes: linked stylesheets', () => {
  it("sends a linked sheet's :hover rules, which the mirror uses when it cannot read the sheet itself", async () => {
    const css = encodeURIComponent(
      'p:hover { color: rgb(255, 0, 0); } @media screen { b:focus { color: rgb(0, 0, 9); } } i { color: rgb(1, 1, 1); }',
    );
    const { doc } = await sourceFrame(
      `<!doctype html><head><link id="l" rel="stylesheet" href="data:text/css,${css}"></head><body><p id="p">x <b id="b" tabindex="0">y</b></p></body>`,
    );
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const sent = pseudoOps(frames, Op.PseudoRules);
    expect(sent).to.have.length(1);
    expect(sent[0]![2]).to.contain('p:hover').and.contain('@media screen').and.not.contain('rgb(1, 1, 1)');
    over(doc.getElementById('p')!);
    await settle(doc.defaultView!);
    expect(getComputedStyle(mirror.document.getElementById('p')!).color).to.equal('rgb(255, 0, 0)');
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    rec.stop();
  });

  it("adopts the rules in a sheet of its own for a sheet it cannot read, kept through the page's own adoptions", async () => {
    const { mirror, sink } = mirrorFrame();
    const { doc } = await sourceFrame(
      '<!doctype html><head><link id="l" rel="stylesheet" href="http://127.0.0.1:9/unreachable.css"></head><body><p id="p">x</p></body>',
    );
    const rec = record({ emit: sink, doc });
    const linkId = mirror.idOfNode(mirror.document.getElementById('l')!)!;
    const pId = mirror.idOfNode(mirror.document.getElementById('p')!)!;
    sink({
      t: 'patch',
      ops: [
        [Op.PseudoRules, linkId, 'p:hover { color: rgb(0, 99, 0); }'],
        [Op.Pseudo, pId, null, null, false],
      ],
    });
    const p = mirror.document.getElementById('p')!;
    expect(getComputedStyle(p).color).to.equal('rgb(0, 99, 0)');
    // The page adopts a sheet of its own: the mirror's stays.
    const win = doc.defaultView as Window & typeof globalThis;
    const own = new win.CSSStyleSheet();
    own.replaceSync('p { margin: 3px; }');
    doc.adoptedStyleSheets = [own];
    await settle(win);
    expect(getComputedStyle(p).margin).to.equal('3px');
    expect(getComputedStyle(p).color).to.equal('rgb(0, 99, 0)');
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    rec.stop();
  });
});
