import { expect, waitUntil } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import { mirrorFrame, sourceFrame } from '../helpers/dom.js';

const SPRITE = '/test/fixtures/pages/images/symbol-defs.svg';

describe('external SVG sprites', () => {
  it("sends a <use>'s target from a sprite file the page loads, and the mirror points the <use> at its copy", async () => {
    const { doc } = await sourceFrame(
      `<!doctype html><body>
      <svg width="32" height="32"><use id="icon" xlink:href="${location.origin}${SPRITE}#Icon-behance"></use></svg>
      <svg width="32" height="32"><use href="${SPRITE}#Icon-linkedin"></use></svg>
      <svg width="32" height="32"><use href="${SPRITE}#no-such-icon"></use></svg></body>`,
      { written: true },
    );
    const { mirror, sink } = mirrorFrame();
    const recording = record({ doc, emit: sink });
    const uses = () => Array.from(mirror.document.querySelectorAll('body use'));
    await waitUntil(
      () => uses().filter((use) => use.getAttribute('href')?.startsWith('#cobrowse-sprite-')).length === 2,
      'two uses pointed at copies',
      { timeout: 5000 },
    );
    const holder = mirror.document.querySelector('svg[data-cobrowse-sprites]')!;
    expect(holder, 'a hidden holder of the copies').to.exist;
    for (const use of uses().slice(0, 2)) {
      const copy = mirror.document.getElementById(use.getAttribute('href')!.slice(1))!;
      expect(copy.localName).to.equal('symbol');
      expect(copy.parentNode).to.equal(holder);
      expect(copy.querySelector('rect'), 'with its content').to.exist;
      expect(use.getAttributeNS('http://www.w3.org/1999/xlink', 'href'), 'no link to the sprite file left').to.equal(null);
    }
    expect(uses()[2]!.getAttribute('href'), 'a missing target is never fetched by the mirror').to.equal(null);
    // The copies render: the icon has a size in the mirror.
    expect(uses()[0]!.getBoundingClientRect().width).to.be.greaterThan(0);
    recording.stop();
  });

  it("loads sprites from the page's own origin only", async () => {
    // A same-origin sprite after the foreign one is the marker: the recorder asks for sprite files in
    // document order while it serializes, so once the mirror shows the marker's copy, a request for the
    // foreign file would have been made already.
    const { doc } = await sourceFrame(
      `<!doctype html><body><svg><use href="https://elsewhere.invalid/icons.svg#x"></use></svg>
      <svg><use id="marker" href="${SPRITE}#Icon-behance"></use></svg></body>`,
      { written: true },
    );
    const requested: string[] = [];
    const fetch = doc.defaultView!.fetch;
    doc.defaultView!.fetch = (input: RequestInfo | URL, init?: RequestInit) => (requested.push(String(input)), fetch(input, init));
    const { mirror, sink } = mirrorFrame();
    const recording = record({ doc, emit: sink });
    const uses = () => Array.from(mirror.document.querySelectorAll('body use'));
    await waitUntil(() => uses()[1]?.getAttribute('href')?.startsWith('#cobrowse-sprite-'), 'the same-origin marker pointed at its copy', {
      timeout: 5000,
    });
    expect(requested).to.deep.equal([`${location.origin}${SPRITE}`]);
    expect(uses()[0]!.getAttribute('href'), 'nor does the mirror fetch it').to.equal(null);
    recording.stop();
  });
});
