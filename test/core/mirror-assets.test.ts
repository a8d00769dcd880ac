import { expect } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import type { AssetLoading } from '../../core/dom/assets.js';
import { mirrorFrame, sourceFrame } from '../helpers/dom.js';
import { until } from '../helpers/wait.js';

/** Nothing listens here: a request to it fails, but the point is where the mirror aims. */
const PROXY = 'http://127.0.0.1:9/asset';
const proxied: AssetLoading = { proxy: PROXY, grant: 'grant-1' };
const viaProxy = (url: string, kind: string) => `${PROXY}?g=grant-1&as=${kind}&u=${encodeURIComponent(url)}`;
const ORIGIN = 'https://shop.example';

const PAGE = `<!doctype html><html><head>
  <link id="css" rel="stylesheet" href="${ORIGIN}/site.css" crossorigin="use-credentials" integrity="sha384-x">
  <style id="st">@import "${ORIGIN}/more.css"; body { background: url(${ORIGIN}/bg.png) } i { background: url(#frag) }</style>
</head><body>
  <img id="img" src="${ORIGIN}/a.png" srcset="${ORIGIN}/a1.png 1x, ${ORIGIN}/a2.png 2x" referrerpolicy="unsafe-url" attributionsrc="${ORIGIN}/attr">
  <video id="video" src="${ORIGIN}/v.mp4" poster="${ORIGIN}/poster.jpg"></video>
  <div id="div" style="background-image: url('${ORIGIN}/div.png')"></div>
  <a id="a" href="${ORIGIN}/next" ping="${ORIGIN}/ping">next</a>
  <x-tabs id="tabs" background src="${ORIGIN}/data.json"></x-tabs>
  <svg><image id="svgimg" href="${ORIGIN}/i.png"></image><use id="use" href="${ORIGIN}/sprite.svg#x"></use>
    <rect id="rect" fill="url(${ORIGIN}/paint.svg#g)" stroke="url(#local)"></rect></svg>
</body></html>`;

async function mirrored(assets: AssetLoading, html = PAGE) {
  const { doc } = await sourceFrame(html);
  const { mirror, sink } = mirrorFrame({ assets });
  const rec = record({ emit: sink, doc });
  return { doc, mirror, rec, get: (id: string) => mirror.document.getElementById(id)! };
}

describe('mirror: how the page’s assets load', () => {
  it('through the proxy: every asset URL points at it, with what kind of asset is expected', async () => {
    const { get, mirror, rec } = await mirrored(proxied);
    expect(get('img').getAttribute('src')).to.equal(viaProxy(`${ORIGIN}/a.png`, 'image'));
    expect(get('img').getAttribute('srcset')).to.equal(
      `${viaProxy(`${ORIGIN}/a1.png`, 'image')} 1x, ${viaProxy(`${ORIGIN}/a2.png`, 'image')} 2x`,
    );
    expect(get('video').getAttribute('src')).to.equal(viaProxy(`${ORIGIN}/v.mp4`, 'media'));
    expect(get('video').getAttribute('poster')).to.equal(viaProxy(`${ORIGIN}/poster.jpg`, 'image'));
    expect(get('css').getAttribute('href')).to.equal(viaProxy(`${ORIGIN}/site.css`, 'style'));
    expect(get('svgimg').getAttribute('href')).to.equal(viaProxy(`${ORIGIN}/i.png`, 'image'));
    expect(get('div').getAttribute('style')).to.contain(viaProxy(`${ORIGIN}/div.png`, 'css'));
    const css = get('st').textContent!;
    expect(css).to.contain(`@import "${viaProxy(`${ORIGIN}/more.css`, 'style')}"`);
    expect(css).to.contain(`url(${viaProxy(`${ORIGIN}/bg.png`, 'css')})`);
    expect(css, 'a fragment loads nothing and stays').to.contain('url(#frag)');
    expect(get('rect').getAttribute('fill'), "an SVG paint's URL too").to.equal(`url(${viaProxy(`${ORIGIN}/paint.svg#g`, 'css')})`);
    expect(get('rect').getAttribute('stroke')).to.equal('url(#local)');
    expect(get('a').getAttribute('href'), 'a link is shown, never followed: it keeps its URL').to.equal(`${ORIGIN}/next`);
    expect(get('tabs').getAttribute('background'), "a custom element's attributes load nothing: kept (:host([background]))").to.equal('');
    expect(get('tabs').getAttribute('src')).to.equal(`${ORIGIN}/data.json`);
    expect(mirror.document.compatMode).to.equal('CSS1Compat');
    rec.stop();
  });

  it('never sets what would shape or add requests: ping, referrer policy, credentials, integrity, attributionsrc, external <use>', async () => {
    const { get, rec } = await mirrored(proxied);
    expect(get('a').hasAttribute('ping')).to.equal(false);
    expect(get('img').hasAttribute('referrerpolicy')).to.equal(false);
    expect(get('img').hasAttribute('attributionsrc')).to.equal(false);
    expect(get('css').getAttribute('crossorigin'), 'proxied sheets go without credentials').to.equal('anonymous');
    expect(get('css').hasAttribute('integrity')).to.equal(false);
    expect(get('use').hasAttribute('href'), 'another file’s element never renders across origins').to.equal(false);
    rec.stop();
  });

  it('changes later in the page follow the same rules: attributes, style text, style properties, constructed sheets', async () => {
    const { doc, get, rec } = await mirrored(proxied);
    doc.getElementById('img')!.setAttribute('src', `${ORIGIN}/b.png`);
    doc.getElementById('st')!.textContent = `p { background: url(${ORIGIN}/p.png) }`;
    (doc.getElementById('div') as HTMLElement).style.backgroundImage = `url("${ORIGIN}/div2.png")`;
    const sheet = new (doc.defaultView as Window & typeof globalThis).CSSStyleSheet();
    sheet.replaceSync(`b { background: url(${ORIGIN}/b-sheet.png) }`);
    doc.adoptedStyleSheets = [sheet];
    rec.flush();
    await until(() => get('img').getAttribute('src') === viaProxy(`${ORIGIN}/b.png`, 'image'), 'the new src, proxied');
    expect(get('st').textContent).to.contain(viaProxy(`${ORIGIN}/p.png`, 'css'));
    expect(get('div').getAttribute('style')).to.contain(encodeURIComponent(`${ORIGIN}/div2.png`));
    expect(get('div').getAttribute('style')).not.to.contain(`"${ORIGIN}/div2.png"`);
    const adopted = get('div').ownerDocument.adoptedStyleSheets.map((s) => Array.from(s.cssRules, (r) => r.cssText).join(''));
    expect(adopted.join('')).to.contain(encodeURIComponent(`${ORIGIN}/b-sheet.png`));
    rec.stop();
  });

  it('the mirror document has a CSP that loads nothing but the proxy, kept across snapshots', async () => {
    const { doc, mirror, rec } = await mirrored(proxied);
    rec.stop();
    // A second snapshot rewrites the document in place: its policy must hold still.
    const again = record({ emit: (frame) => frame.t === 'snapshot' && mirror.applySnapshot(frame), doc });
    again.stop();
    const violations: string[] = [];
    mirror.document.addEventListener('securitypolicyviolation', (event) => violations.push(event.blockedURI));
    const img = mirror.document.createElement('img');
    img.src = 'http://127.0.0.1:9/outside.png';
    mirror.document.body.append(img);
    await until(() => violations.length > 0, 'the CSP refuses a URL outside the proxy');
    expect(violations[0]).to.contain('127.0.0.1:9/outside.png');
    expect(mirror.iframe.getAttribute('csp'), 'and the iframe requires it of any document it loads').to.contain("default-src 'none'");
  });

  it('without a proxy nothing loads, and quirks mode is refused', async () => {
    const quirky = `<html><body><img id="img" src="${ORIGIN}/a.png"><div id="div" style="background: url(${ORIGIN}/d.png)"></div></body></html>`;
    const { doc } = await sourceFrame(quirky, { written: true });
    const { mirror, sink } = mirrorFrame({ assets: 'none' });
    record({ emit: sink, doc }).stop();
    expect(doc.compatMode).to.equal('BackCompat');
    expect(mirror.document.compatMode, 'quirks mode would read any document as CSS').to.equal('CSS1Compat');
    expect(mirror.document.getElementById('img')!.hasAttribute('src')).to.equal(false);
    expect(mirror.document.getElementById('div')!.getAttribute('style')).not.to.contain(ORIGIN);
  });

  it('direct loading (an explicit choice) keeps the URLs but still refuses quirks mode', async () => {
    const { doc } = await sourceFrame(`<html><body><img id="img" src="${ORIGIN}/a.png"></body></html>`, { written: true });
    const { mirror, sink } = mirrorFrame({ assets: 'direct' });
    record({ emit: sink, doc }).stop();
    expect(mirror.document.getElementById('img')!.getAttribute('src')).to.equal(`${ORIGIN}/a.png`);
    expect(mirror.document.compatMode).to.equal('CSS1Compat');
  });

  it('a change of asset policy gets a fresh document (policies only add up)', async () => {
    const { doc } = await sourceFrame(`<!doctype html><body><img id="img" src="${ORIGIN}/a.png"></body>`);
    const { mirror, sink } = mirrorFrame({ assets: 'none' });
    record({ emit: sink, doc }).stop();
    const before = mirror.document;
    mirror.setAssets(proxied);
    record({ emit: sink, doc }).stop();
    expect(mirror.document).not.to.equal(before);
    expect(mirror.document.getElementById('img')!.getAttribute('src')).to.equal(viaProxy(`${ORIGIN}/a.png`, 'image'));
  });
});
