// Side doors of issue 16 A: a blocked element that is itself a field, canvas or scroller; masked choices;
// URLs that are shown, not fetched; the hand-off token. Each check ends with a marker (a plain change
// that must arrive), so "nothing was sent" is judged after everything before it was.
import { expect } from '@open-wc/testing';
import { Masker, watchPasswords } from '../../core/dom/mask.js';
import { Op } from '../../core/protocol/index.js';
import { record } from '../../core/dom/recorder.js';
import { watchNavigation } from '../../core/handoff.js';
import { mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';
import { until } from '../helpers/wait.js';

const SECRET = `secret${Math.random().toString(36).slice(2)}`;

async function recordPage(html: string, masker?: Masker, canvasFps?: number) {
  const { doc } = await sourceFrame(html);
  const { mirror, sink, frames } = mirrorFrame();
  const rec = record({ emit: sink, doc, masker, ...(canvasFps ? { canvasFps } : {}) });
  const wire = () => JSON.stringify(frames);
  /** A plain change after the others: once the mirror has it, every earlier change was sent. */
  const marker = async (text: string) => {
    doc.body.append(Object.assign(doc.createElement('p'), { className: 'marker', textContent: text }));
    await until(() => [...mirror.document.querySelectorAll('.marker')].some((p) => p.textContent === text), `the marker ${text}`);
  };
  return { doc, mirror, rec, wire, marker, frames };
}

const type = (field: HTMLInputElement | HTMLTextAreaElement, value: string) => {
  field.value = value;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  field.dispatchEvent(new Event('change', { bubbles: true }));
};

describe('privacy side doors', () => {
  it('a blocked field sends no value, no checked state, no input event, by typing or by script', async () => {
    const { doc, rec, wire, marker } = await recordPage(
      `<!doctype html><body><input id="i" data-cobrowse-block><textarea id="t" class="private"></textarea>
      <input id="c" type="checkbox" data-cobrowse-block><select id="s" data-cobrowse-block><option>a</option><option value="${SECRET}-o">b</option></select></body>`,
      new Masker({ block: '.private' }),
    );
    type(doc.getElementById('i') as HTMLInputElement, `${SECRET}-typed`);
    type(doc.getElementById('t') as HTMLTextAreaElement, `${SECRET}-area`);
    (doc.getElementById('i') as HTMLInputElement).value = `${SECRET}-script`; // no event: the value hook
    const box = doc.getElementById('c') as HTMLInputElement;
    box.click();
    const select = doc.getElementById('s') as HTMLSelectElement;
    select.selectedIndex = 1;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await marker('after-fields');
    expect(wire()).not.to.contain(SECRET);
    expect(wire(), 'no checked state of the blocked box').not.to.match(/\[\s*\d+\s*,\s*\d+\s*,\s*true\s*\]/);
    rec.stop();
  });

  it('a blocked scroller sends no scroll position; a blocked canvas no pixels', async () => {
    const { doc, rec, wire, marker, frames } = await recordPage(
      `<!doctype html><body><div id="box" data-cobrowse-block style="height:50px;overflow:auto"><div style="height:500px"></div></div>
      <canvas id="cv" data-cobrowse-block width="20" height="20"></canvas><canvas id="open" width="20" height="20"></canvas></body>`,
      undefined,
      10,
    );
    const paint = (id: string) => {
      const context = (doc.getElementById(id) as HTMLCanvasElement).getContext('2d')!;
      context.fillStyle = 'rgb(255, 0, 0)';
      context.fillRect(0, 0, 20, 20);
    };
    paint('cv');
    paint('open');
    doc.getElementById('box')!.scrollTop = 120;
    // The open canvas's pixels arriving means the capture that would have taken the blocked one ran.
    await until(() => wire().includes('data:image/'), 'the open canvas captured');
    await marker('after-scroll');
    const images = (wire().match(/data:image\//g) ?? []).length;
    expect(images, 'only the open canvas').to.equal(1);
    expect(JSON.stringify(frames)).not.to.contain(',120]');
    rec.stop();
  });

  it('a blocked <style> sends no CSS when its text or rules change; a blocked video no playback state', async () => {
    const { doc, rec, wire, marker, frames } = await recordPage(
      `<!doctype html><body><style id="st" data-cobrowse-block>.a { color: red; }</style><video id="v" data-cobrowse-block></video></body>`,
    );
    const style = doc.getElementById('st') as HTMLStyleElement;
    style.textContent = `.${SECRET}-text { color: blue; }`;
    await marker('after-text');
    style.sheet!.insertRule(`.${SECRET}-rule { color: green; }`);
    doc.getElementById('v')!.dispatchEvent(new Event('pause'));
    await marker('after-rule');
    expect(wire()).not.to.contain(SECRET);
    const ops = frames.flatMap((frame) => (frame.t === 'patch' ? frame.ops : []));
    expect(ops.filter((op) => op[0] === Op.Media || op[0] === Op.StyleText)).to.deep.equal([]);
    rec.stop();
  });

  for (const [label, html, masker] of [
    ['data-cobrowse-mask', '<div data-cobrowse-mask>{}</div>', undefined],
    ['mask=', '<div class="m">{}</div>', new Masker({ mask: '.m' })],
    ['mask-all-inputs', '<div>{}</div>', new Masker({ maskAllInputs: true })],
  ] as const) {
    it(`a masked choice (${label}) does not say what was chosen: checkbox, radio, select`, async () => {
      const fields = `<input id="c" type="checkbox" checked><input id="r1" type="radio" name="r"><input id="r2" type="radio" name="r" checked>
        <select id="s"><option value="${SECRET}-a">${SECRET}-a</option><option value="${SECRET}-b" selected>${SECRET}-b</option></select>`;
      const { doc, mirror, rec, wire, marker } = await recordPage(`<!doctype html><body>${html.replace('{}', fields)}</body>`, masker);
      const state = () =>
        ['c', 'r1', 'r2'].map((id) => (mirror.document.getElementById(id) as HTMLInputElement).checked).join() +
        (mirror.document.getElementById('s') as HTMLSelectElement).selectedIndex;
      const shown = state();
      (doc.getElementById('c') as HTMLInputElement).click();
      (doc.getElementById('r1') as HTMLInputElement).click();
      const select = doc.getElementById('s') as HTMLSelectElement;
      select.selectedIndex = 0;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      await marker(`after-${label}`);
      expect(state(), 'the mirror shows the same state whatever was chosen').to.equal(shown);
      expect(shown).to.equal('false,false,false0');
      expect(wire()).not.to.contain(SECRET);
      expect(wire()).not.to.match(/"(checked|selected)"/);
      rec.stop();
    });
  }

  it('a password shown as text before recording starts stays masked: in an open shadow root and a same-origin iframe', async () => {
    const { doc } = await sourceFrame('<!doctype html><body><div id="host"></div></body>');
    watchPasswords(doc); // as the launcher does when the SDK loads
    const root = doc.getElementById('host')!.attachShadow({ mode: 'open' });
    root.innerHTML = '<input id="pw" type="password">';
    const frame = doc.createElement('iframe');
    frame.srcdoc = '<!doctype html><body><input id="pw" type="password"></body>';
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    doc.body.append(frame);
    await loaded;
    const inFrame = frame.contentDocument!.getElementById('pw') as HTMLInputElement;
    await settle(doc.defaultView!); // the watch has had its records
    // The "show password" toggle, then typing, all before any recorder exists.
    for (const field of [root.getElementById('pw') as HTMLInputElement, inFrame]) {
      field.type = 'text';
      type(field, `${SECRET}-shown`);
    }
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    doc.body.append(Object.assign(doc.createElement('p'), { className: 'marker', textContent: 'after-toggle' }));
    await until(() => mirror.document.querySelector('.marker'), 'the marker');
    expect(JSON.stringify(frames)).not.to.contain(SECRET);
    rec.stop();
  });

  it('links, forms, frames and data-* URLs are sent without query and fragment; assets keep theirs', async () => {
    const { mirror, rec, wire } = await recordPage(`<!doctype html><body>
      <a id="a" href="https://elsewhere.example/reset?token=${SECRET}#${SECRET}">x</a>
      <form id="f" action="/pay?card=${SECRET}"><button formaction="/pay?otp=${SECRET}">go</button></form>
      <iframe id="fr" src="https://widget.example/embed?session=${SECRET}#${SECRET}"></iframe>
      <div id="d" data-next="https://bank.example/next?user=${SECRET}"></div>
      <img id="img" src="/pixel.png?v=2"></body>`);
    expect(wire()).not.to.contain(SECRET);
    expect(mirror.document.getElementById('a')!.getAttribute('href')).to.equal('https://elsewhere.example/reset');
    expect(mirror.document.getElementById('d')!.getAttribute('data-next')).to.equal('https://bank.example/next');
    expect(mirror.document.getElementById('img')!.getAttribute('src')).to.match(/\/pixel\.png\?v=2$/);
    rec.stop();
  });

  it("the hand-off token is never sent: not while a link carries it, not after; the page's link is restored", async () => {
    const { doc, rec, wire, marker } = await recordPage(`<!doctype html><body><a id="a" href="https://b.example/next">next</a></body>`);
    const link = doc.getElementById('a') as HTMLAnchorElement;
    let followed = '';
    link.addEventListener('click', (event) => {
      followed = link.href; // what the browser follows: the token is there
      event.preventDefault();
    });
    const stop = watchNavigation(doc, { classify: () => 'listed', carry: (url) => `${url.href}#cobrowse-handoff=${SECRET}`, left() {} });
    link.click();
    expect(followed).to.contain(SECRET);
    await settle(doc.defaultView!);
    await until(() => link.getAttribute('href') === 'https://b.example/next', 'the link restored');
    await marker('after-click');
    expect(wire()).not.to.contain(SECRET);
    stop();
    rec.stop();
  });
});
