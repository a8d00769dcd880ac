import { expect, waitUntil } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import { Op } from '../../core/protocol/index.js';
import { canonical, mirrorFrame, settle, sourceFrame } from '../helpers/dom.js';

/** Records `html`, runs `change` on the source, and checks the mirror equals the source after each step. */
async function roundTrip(html: string, ...changes: Array<(doc: Document) => void | Promise<void>>) {
  const { doc } = await sourceFrame(html);
  const { mirror, sink, frames } = mirrorFrame();
  const rec = record({ emit: sink, doc });
  expect(canonical(mirror.document), 'snapshot').to.equal(canonical(doc));
  for (const [i, change] of changes.entries()) {
    await change(doc);
    await settle(doc.defaultView!);
    expect(canonical(mirror.document), `after change ${i + 1}`).to.equal(canonical(doc));
  }
  return { doc, mirror, frames, rec };
}

describe('fidelity: shadow DOM, stylesheets, iframes', () => {
  it('mirrors open shadow roots nested to any depth, and changes inside them', async () => {
    const { mirror, rec } = await roundTrip(
      '<!doctype html><body><div id="host"></div></body>',
      (doc) => {
        let host = doc.getElementById('host')!;
        for (let depth = 0; depth < 4; depth++) {
          const root = host.attachShadow({ mode: 'open' });
          root.innerHTML = `<style>p{color:rgb(${depth}, 0, 0)}</style><p>level ${depth}</p><span class="next"></span>`;
          host = root.querySelector('.next')!;
        }
      },
      (doc) => {
        const level2 = doc.getElementById('host')!.shadowRoot!.querySelector('.next')!.shadowRoot!.querySelector('.next')!.shadowRoot!;
        level2.querySelector('p')!.textContent = 'changed deep inside';
        level2.append(doc.createElement('em'));
      },
    );
    const deep = mirror.document
      .getElementById('host')!
      .shadowRoot!.querySelector('.next')!
      .shadowRoot!.querySelector('.next')!.shadowRoot!;
    expect(deep.querySelector('p')!.textContent).to.equal('changed deep inside');
    expect(getComputedStyle(deep.querySelector('p')!).color).to.equal('rgb(2, 0, 0)');
    rec.stop();
  });

  it('moves a subtree into a shadow root', async () => {
    const { rec } = await roundTrip('<!doctype html><body><div id="host"></div><ul id="list"><li>a</li><li>b</li></ul></body>', (doc) => {
      doc.getElementById('host')!.attachShadow({ mode: 'open' }).append(doc.getElementById('list')!);
    });
    rec.stop();
  });

  it('shares one adopted sheet among many shadow roots, sent once, and follows replaceSync', async () => {
    const { doc, frames, mirror, rec } = await roundTrip(
      '<!doctype html><body><div id="box"></div></body>',
      (doc) => {
        const win = doc.defaultView as Window & typeof globalThis;
        const sheet = new win.CSSStyleSheet();
        sheet.replaceSync('b { color: rgb(0, 128, 0); }');
        for (let i = 0; i < 20; i++) {
          const host = doc.createElement('x-card');
          const root = host.attachShadow({ mode: 'open' });
          root.adoptedStyleSheets = [sheet];
          root.innerHTML = `<b>card ${i}</b>`;
          doc.getElementById('box')!.append(host);
        }
        (win as unknown as { sheet: CSSStyleSheet }).sheet = sheet;
      },
      (doc) => (doc.defaultView as unknown as { sheet: CSSStyleSheet }).sheet.replaceSync('b { color: rgb(0, 0, 255); }'),
      (doc) => {
        const win = doc.defaultView as Window & typeof globalThis;
        const page = new win.CSSStyleSheet();
        page.insertRule('body { margin: 3px; }');
        doc.adoptedStyleSheets = [page];
      },
    );
    const json = JSON.stringify(frames);
    expect(json.split('color: rgb(0, 128, 0)').length - 1, 'the shared sheet is sent once').to.equal(1);
    const card = mirror.document.querySelector('x-card')!.shadowRoot!.querySelector('b')!;
    expect(getComputedStyle(card).color).to.equal('rgb(0, 0, 255)');
    expect(getComputedStyle(mirror.document.body).margin).to.equal('3px');
    expect(doc.querySelectorAll('x-card')).to.have.length(20);
    rec.stop();
  });

  it('follows CSSOM edits of <style> elements, including CSS-in-JS style tags filled by insertRule', async () => {
    const { mirror, rec } = await roundTrip(
      '<!doctype html><head><style id="s">p { color: red; }</style><style id="empty"></style></head><body><p>x</p></body>',
      (doc) => {
        const sheet = (doc.getElementById('s') as HTMLStyleElement).sheet!;
        sheet.insertRule('p { font-size: 31px; }', 1);
        sheet.deleteRule(0);
        (doc.getElementById('empty') as HTMLStyleElement).sheet!.insertRule('p { letter-spacing: 2px; }');
      },
      (doc) => {
        doc.getElementById('s')!.textContent = 'p { color: rgb(1, 2, 3); }';
      },
      (doc) => {
        const media = doc.createElement('style');
        media.textContent = '@media screen { p { text-indent: 4px; } }';
        doc.head.append(media);
      },
      (doc) => {
        ((doc.head.lastElementChild as HTMLStyleElement).sheet!.cssRules[0] as CSSMediaRule).insertRule('p { word-spacing: 5px; }');
      },
    );
    const p = mirror.document.querySelector('p')!;
    expect(getComputedStyle(p).letterSpacing).to.equal('2px');
    expect(getComputedStyle(p).color).to.equal('rgb(1, 2, 3)');
    expect(getComputedStyle(p).wordSpacing).to.equal('5px');
    rec.stop();
  });

  it('mirrors same-origin iframes recursively, and their changes', async () => {
    const { mirror, rec } = await roundTrip(
      '<!doctype html><body><iframe id="f" style="width:300px;height:200px"></iframe></body>',
      async (doc) => {
        const inner = (doc.getElementById('f') as HTMLIFrameElement).contentDocument!;
        inner.body.innerHTML = '<h2>inside</h2><iframe id="g"></iframe>';
        (inner.getElementById('g') as HTMLIFrameElement).contentDocument!.body.innerHTML = '<i>deeper</i>';
        // The iframe's content was written after it was recorded: a load or a resend brings it.
        (doc.getElementById('f') as HTMLIFrameElement).dispatchEvent(new Event('load'));
      },
      (doc) => {
        const inner = (doc.getElementById('f') as HTMLIFrameElement).contentDocument!;
        inner.querySelector('h2')!.textContent = 'changed inside';
      },
    );
    const inner = (mirror.document.getElementById('f') as HTMLIFrameElement).contentDocument!;
    expect(inner.querySelector('h2')!.textContent).to.equal('changed inside');
    expect((inner.getElementById('g') as HTMLIFrameElement).contentDocument!.body.textContent).to.equal('deeper');
    rec.stop();
  });

  it('shows a cross-origin iframe as a labelled placeholder of the same size', async () => {
    const { doc } = await sourceFrame('<!doctype html><body><iframe id="x" sandbox style="width:320px;height:140px"></iframe></body>');
    const { mirror, sink } = mirrorFrame();
    // A sandboxed iframe without allow-same-origin is cross-origin to its parent.
    const rec = record({ emit: sink, doc });
    const placeholder = mirror.document.getElementById('x') as HTMLIFrameElement;
    expect(placeholder.getBoundingClientRect().width).to.equal(doc.getElementById('x')!.getBoundingClientRect().width);
    expect(placeholder.contentDocument!.body.textContent).to.contain('not shared');
    rec.stop();
  });
});

describe('fidelity: resources', () => {
  it('makes relative URLs absolute in attributes, srcset, inline styles, <style> and adopted sheets', async () => {
    const { doc } = await sourceFrame(`<!doctype html><head><base href="https://bank.example/app/">
      <style>.hero { background: url("img/hero.png"); } @import 'theme.css';</style></head>
      <body><img src="a.png" srcset="b.png 2x, /c.png 3x"><a href="../help">help</a>
      <div style="background-image: url(bg.png)"></div><form action="submit"></form></body>`);
    const win = doc.defaultView as Window & typeof globalThis;
    const sheet = new win.CSSStyleSheet();
    sheet.replaceSync('p { background: url(dot.svg); }');
    doc.adoptedStyleSheets = [sheet];
    const frames: string[] = [];
    const rec = record({ emit: (f) => frames.push(JSON.stringify(f)), doc });
    const wire = frames.join('');
    for (const url of [
      'https://bank.example/app/a.png',
      'https://bank.example/app/b.png 2x',
      'https://bank.example/c.png 3x',
      'https://bank.example/help',
      'url(bg.png)'.replace('bg.png', 'https://bank.example/app/bg.png'),
      'https://bank.example/app/img/hero.png',
      'https://bank.example/app/theme.css',
      'https://bank.example/app/submit',
      'https://bank.example/app/dot.svg',
    ]) {
      expect(wire, url).to.contain(url);
    }
    rec.stop();
  });
});

describe('fidelity: state that is not in attributes', () => {
  it('shows a modal dialog as modal, and a plain one as plain', async () => {
    const { mirror, rec } = await roundTrip(
      '<!doctype html><body><dialog id="m"><p>modal</p></dialog><dialog id="p"><p>plain</p></dialog></body>',
      (doc) => {
        (doc.getElementById('m') as HTMLDialogElement).showModal();
        (doc.getElementById('p') as HTMLDialogElement).show();
      },
    );
    expect(mirror.document.getElementById('m')!.matches(':modal')).to.equal(true);
    expect(mirror.document.getElementById('p')!.matches(':modal')).to.equal(false);
    expect((mirror.document.getElementById('p') as HTMLDialogElement).open).to.equal(true);
    rec.stop();
  });

  it('follows media play state and time, muted', async () => {
    const { doc } = await sourceFrame('<!doctype html><body><video id="v" muted></video></body>');
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const video = doc.getElementById('v') as HTMLVideoElement;
    video.dispatchEvent(new Event('play')); // no media to load here: the event alone carries the state
    await settle(doc.defaultView!);
    const mediaOps = frames.flatMap((f) => (f.t === 'patch' ? f.ops : [])).filter((op) => op[0] === 11);
    expect(mediaOps).to.have.length(1);
    expect((mirror.document.getElementById('v') as HTMLVideoElement).muted).to.equal(true);
    rec.stop();
  });

  it('sends canvas pixels only when asked to, at a bounded rate', async () => {
    // A second canvas is the marker: it changes while the first does not.
    const { doc } = await sourceFrame(
      '<!doctype html><body><canvas id="c" width="40" height="20"></canvas><canvas id="marker" width="40" height="20"></canvas></body>',
    );
    const paint = (id: string, color: string) => {
      const context = (doc.getElementById(id) as HTMLCanvasElement).getContext('2d')!;
      context.fillStyle = color;
      context.fillRect(0, 0, 40, 20);
    };
    paint('c', 'rgb(255, 0, 0)');
    // Not asked to: a recorder without canvasFps, watched for as long as one with it takes to send its image.
    const off = mirrorFrame();
    const quiet = record({ emit: off.sink, doc });

    const on = mirrorFrame();
    const rec = record({ emit: on.sink, doc, canvasFps: 10 });
    const pixel = (id: string) =>
      Array.from((on.mirror.document.getElementById(id) as HTMLCanvasElement).getContext('2d')!.getImageData(5, 5, 1, 1).data);
    // Red, within lossy WebP's error.
    await waitUntil(
      () => {
        const [r, g, b] = pixel('c');
        return r! > 245 && g! < 10 && b! < 10;
      },
      'the canvas image arrives',
      { timeout: 5000 },
    );
    expect(JSON.stringify(off.frames), 'no pixels from the recorder not asked for them').not.to.contain('data:image/');
    quiet.stop();

    // Unchanged pixels send nothing more: the marker canvas changes, and the sample that sends it (every
    // canvas is sampled in one pass) sends nothing for the first.
    const before = on.frames.length;
    paint('marker', 'rgb(0, 0, 255)');
    await waitUntil(
      () => {
        const [r, g, b] = pixel('marker');
        return r! < 10 && g! < 10 && b! > 245;
      },
      'the marker canvas image arrives',
      { timeout: 5000 },
    );
    const markerId = on.mirror.idOfNode(on.mirror.document.getElementById('marker')!);
    const sent = on.frames.slice(before).flatMap((f) => (f.t === 'patch' ? f.ops.map((op): unknown[] => [op[0], op[1]]) : [['snapshot']]));
    expect(sent, 'only the marker canvas sent again').to.deep.equal([[Op.Canvas, markerId]]);
    rec.stop();
  });
});

describe('the SDK itself', () => {
  it("sends the SDK's own UI (data-cobrowse-own, which the launcher sets) as an empty element: the agent never sees its panel", async () => {
    const { doc } = await sourceFrame(
      '<!doctype html><body><cobrowse-launcher data-cobrowse-own lang="fr"><span>light</span></cobrowse-launcher></body>',
    );
    doc.querySelector('cobrowse-launcher')!.attachShadow({ mode: 'open' }).innerHTML = '<p>Your session ID 123 456 789</p>';
    const frames: string[] = [];
    const rec = record({ emit: (f) => frames.push(JSON.stringify(f)), doc });
    doc.querySelector('cobrowse-launcher')!.shadowRoot!.append(doc.createElement('b'));
    doc.querySelector('cobrowse-launcher')!.append('more');
    await settle(doc.defaultView!);
    expect(frames.join('')).not.to.match(/session ID|light|more|"fr"/);
    expect(frames.join('')).to.contain('"cobrowse-launcher"');
    rec.stop();
  });
});
