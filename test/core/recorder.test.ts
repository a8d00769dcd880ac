import { expect } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import { Op } from '../../core/protocol/index.js';
import { canonical, mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';

const PAGE = `<!doctype html><html><head><title>t</title><style>p{color:red}</style></head>
<body><main id="root"><p class="a">hello <b>world</b></p><ul><li>one</li><li>two</li></ul>
<svg width="20" height="20"><circle cx="10" cy="10" r="5" fill="blue"/></svg>
<form><input id="name" value="x"><input type="checkbox" id="c"><textarea id="t">note</textarea>
<select id="s"><option>a</option><option>b</option></select></form></main></body></html>`;

describe('recorder → mirror round trip', () => {
  it('mirrors the initial snapshot exactly', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    expect(mirror.document.compatMode).to.equal('CSS1Compat');
    expect(mirror.document.querySelector('circle')!.namespaceURI).to.equal('http://www.w3.org/2000/svg');
    rec.stop();
  });

  it('keeps quirks mode when the page has no doctype (and the mirror loads through the proxy)', async () => {
    const { doc } = await sourceFrame('<html><body><p>quirky</p></body></html>', { written: true });
    const { mirror, sink } = mirrorFrame({ assets: { proxy: 'http://127.0.0.1:9/asset', grant: 'g' } });
    record({ emit: sink, doc }).stop();
    expect(doc.compatMode).to.equal('BackCompat');
    expect(mirror.document.compatMode).to.equal('BackCompat');
  });

  it('follows the hard mutation orders', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const root = doc.getElementById('root')!;
    const ul = doc.querySelector('ul')!;
    // Inserted before a sibling added in the same batch.
    const x = doc.createElement('li');
    const y = doc.createElement('li');
    ul.append(y);
    ul.insertBefore(x, y);
    // Moved between parents, and an ancestor of an added node removed.
    root.querySelector('p')!.append(ul.firstElementChild!);
    const wrapper = doc.createElement('div');
    wrapper.append(doc.createElement('span'));
    root.append(wrapper);
    wrapper.remove();
    // Added then removed in one batch costs nothing; the last attribute value wins.
    const ghost = doc.createElement('em');
    root.append(ghost);
    ghost.remove();
    for (let i = 0; i < 5; i++) ul.setAttribute('data-n', String(i));
    await settle(doc.defaultView!);
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    rec.stop();
  });

  it('sends form state: value, checked, selected', async () => {
    const { doc } = await sourceFrame(PAGE);
    const { mirror, sink } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const name = doc.getElementById('name') as HTMLInputElement;
    name.value = 'Ada';
    name.dispatchEvent(new Event('input', { bubbles: true }));
    const box = doc.getElementById('c') as HTMLInputElement;
    box.click();
    const select = doc.getElementById('s') as HTMLSelectElement;
    select.selectedIndex = 1;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await settle(doc.defaultView!);
    const m = mirror.document;
    expect((m.getElementById('name') as HTMLInputElement).value).to.equal('Ada');
    expect((m.getElementById('c') as HTMLInputElement).checked).to.equal(true);
    expect((m.getElementById('s') as HTMLSelectElement).selectedIndex).to.equal(1);
    expect(m.getElementById('name')!.getAttribute('autocomplete')).to.equal('off');
    rec.stop();
  });

  it('sends scroll and coalesces many attribute writes into one op', async () => {
    const { doc } = await sourceFrame(PAGE.replace('<main', '<div style="height:3000px"></div><main'));
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    doc.defaultView!.scrollTo(0, 400);
    const p = doc.querySelector('p')!;
    for (let i = 0; i < 50; i++) p.setAttribute('title', `t${i}`);
    await settle(doc.defaultView!);
    await settle(doc.defaultView!);
    const attrOps = frames.flatMap((f) => (f.t === 'patch' ? f.ops : [])).filter((op) => op[0] === Op.Attr);
    expect(attrOps).to.have.length(1);
    expect(mirror.document.defaultView!.scrollY).to.equal(400);
    rec.stop();
  });
});
