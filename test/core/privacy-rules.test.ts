import { expect } from '@open-wc/testing';
import { Masker, MASK } from '../../core/dom/mask.js';
import { record } from '../../core/dom/recorder.js';
import { mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';

const SECRET = `SECRET-${Math.random().toString(36).slice(2)}`;

async function recordPage(html: string, masker?: Masker) {
  const { doc } = await sourceFrame(html);
  const { mirror, sink, frames } = mirrorFrame();
  const rec = record({ emit: sink, doc, masker });
  const wire = () => JSON.stringify(frames);
  return { doc, mirror, rec, wire };
}

describe('privacy rules', () => {
  it('blocks an element: a same-size placeholder, nothing inside or on it sent, also for later changes', async () => {
    const { doc, mirror, rec, wire } = await recordPage(
      `<!doctype html><body>
      <section id="b" data-cobrowse-block title="${SECRET}" data-id="${SECRET}" style="width:200px;height:50px;background:url(${SECRET}.png)">
        <a href="/${SECRET}">${SECRET}</a><img src="${SECRET}.png" srcset="${SECRET}.png 2x" aria-label="${SECRET}"></section>
      <div class="private" style="width:30px;height:10px">${SECRET}</div></body>`,
      new Masker({ block: '.private' }),
    );
    const placeholder = mirror.document.getElementById('b');
    expect(placeholder, 'the id is not sent either').to.equal(null);
    const blocked = mirror.document.querySelectorAll('[data-cobrowse-blocked]');
    expect(blocked).to.have.length(2);
    expect(blocked[0]!.getBoundingClientRect().width).to.equal(200);
    expect(blocked[0]!.getBoundingClientRect().height).to.equal(50);
    doc.getElementById('b')!.append(Object.assign(doc.createElement('p'), { textContent: SECRET }));
    doc.getElementById('b')!.setAttribute('title', `${SECRET}-2`);
    await settle(doc.defaultView!);
    expect(wire()).not.to.contain(SECRET);
    rec.stop();
  });

  it('masks text-bearing attributes under a masked element, and keeps white space', async () => {
    const { mirror, rec, wire } = await recordPage(`<!doctype html><body><div data-cobrowse-mask>
      <input id="i" placeholder="${SECRET}" aria-label="${SECRET}" data-user="${SECRET}" title="${SECRET}">
      <img alt="${SECRET}"> <span>${SECRET}</span></div></body>`);
    expect(wire()).not.to.contain(SECRET);
    expect(mirror.document.getElementById('i')!.getAttribute('placeholder')).to.equal(MASK);
    rec.stop();
  });

  it('masks every field in mask-all-inputs mode, except under data-cobrowse-unmask (never a password)', async () => {
    const { doc, mirror, rec, wire } = await recordPage(
      `<!doctype html><body>
      <input id="a" value="${SECRET}-a"><textarea id="t">${SECRET}-t</textarea>
      <select id="s"><option value="${SECRET}-o">${SECRET}-o</option></select>
      <div data-cobrowse-unmask><input id="ok" value="visible"><input id="pw" type="password" value="${SECRET}-pw"></div></body>`,
      new Masker({ maskAllInputs: true }),
    );
    (doc.getElementById('a') as HTMLInputElement).value = `${SECRET}-typed`;
    doc.getElementById('a')!.dispatchEvent(new Event('input', { bubbles: true }));
    await settle(doc.defaultView!);
    expect(wire()).not.to.contain(SECRET);
    expect((mirror.document.getElementById('ok') as HTMLInputElement).value).to.equal('visible');
    rec.stop();
  });

  it('a partial configuration never unmasks the defaults', async () => {
    const { rec, wire } = await recordPage(
      `<!doctype html><body>
      <input type="password" value="${SECRET}-1"><input autocomplete="cc-number" value="${SECRET}-2">
      <input type="hidden" value="${SECRET}-3"><input autocomplete="cc-exp-month" value="${SECRET}-4"></body>`,
      new Masker({ mask: '.foo', block: '.bar' }),
    );
    expect(wire()).not.to.contain(SECRET);
    rec.stop();
  });

  it('can preserve the length of masked values when the site opts in', async () => {
    const { mirror, rec } = await recordPage(
      '<!doctype html><body><input id="p" type="password" value="abcd"></body>',
      new Masker({ preserveLength: true }),
    );
    expect((mirror.document.getElementById('p') as HTMLInputElement).value).to.equal('****');
    rec.stop();
  });

  it('leaves the query string and fragment out of the page URL unless the site opts in', async () => {
    const frames: Array<{ url?: string }> = [];
    const { doc } = await sourceFrame('<!doctype html><body></body>', { written: true }); // a URL that can take a query
    doc.defaultView!.history.replaceState(null, '', '?token=abc#frag');
    record({ emit: (f) => frames.push(f as never), doc }).stop();
    expect(frames[0]!.url).not.to.contain('token');
    record({ emit: (f) => frames.push(f as never), doc, masker: new Masker({ shareUrlQuery: true }) }).stop();
    expect(frames[1]!.url).to.contain('?token=abc#frag');
  });
});
