import { expect } from '@open-wc/testing';
import { Sanitizer, isUnsafeAttribute } from '../../core/dom/sanitize.js';

const PROXY = 'http://127.0.0.1:9/asset';
const ORIGIN = 'https://shop.example';
const viaProxy = (url: string, kind: string) => `${PROXY}?g=grant-1&as=${kind}&u=${encodeURIComponent(url)}`;

/** A detached document to build in: the rules act on elements, not on a rendered page. */
const doc = () => document.implementation.createHTMLDocument('');

describe('Sanitizer', () => {
  it('creates what could act as an inert template, in HTML and in SVG alike', () => {
    const sanitizer = new Sanitizer();
    const d = doc();
    for (const tag of ['SCRIPT', 'base', 'object', 'embed', 'frameset']) {
      expect(sanitizer.createElement(d, tag, undefined).localName, tag).to.equal('template');
      expect(sanitizer.createdTag, tag).to.equal('template');
    }
    expect(sanitizer.createElement(d, 'script', 's').localName, 'an SVG script').to.equal('template');
    expect(sanitizer.createElement(d, 'circle', 's').namespaceURI).to.equal('http://www.w3.org/2000/svg');
    expect(sanitizer.createElement(d, 'a b', undefined).localName, 'a name the DOM refuses').to.equal('span');
  });

  it('never sets handlers, iframe documents, form targets, meta directives or active URLs', () => {
    const sanitizer = new Sanitizer('direct');
    const d = doc();
    const a = d.createElement('a');
    sanitizer.setAttributes(a, ['onclick', 'x()', 'href', ' java\tscript:x()', 'autofocus', '', 'title', 'kept'], 'a');
    expect(a.getAttributeNames()).to.deep.equal(['title']);
    const iframe = d.createElement('iframe');
    sanitizer.setAttributes(iframe, ['srcdoc', '<script>x()</script>', 'src', `${ORIGIN}/`, 'sandbox', 'allow-scripts'], 'iframe');
    expect(iframe.getAttributeNames()).to.deep.equal([]);
    const meta = d.createElement('meta');
    sanitizer.setAttributes(meta, ['http-equiv', 'refresh', 'content', '0;url=/'], 'meta');
    expect(meta.getAttributeNames()).to.deep.equal(['content']);
    const button = d.createElement('button');
    sanitizer.setAttributes(button, ['formaction', `${ORIGIN}/buy`], 'button');
    expect(button.getAttributeNames()).to.deep.equal([]);
    expect(isUnsafeAttribute('link', 'rel', 'preload')).to.equal(true);
    expect(isUnsafeAttribute('set', 'attributeName', 'href')).to.equal(true);
    expect(isUnsafeAttribute('link', 'rel', 'stylesheet')).to.equal(false);
  });

  it('removes what an attribute said before when its new value is refused', () => {
    const sanitizer = new Sanitizer('direct');
    const a = doc().createElement('a');
    sanitizer.setAttribute(a, 'href', `${ORIGIN}/next`);
    expect(a.getAttribute('href')).to.equal(`${ORIGIN}/next`);
    sanitizer.setAttribute(a, 'href', 'javascript:x()');
    expect(a.hasAttribute('href')).to.equal(false);
    sanitizer.setAttribute(a, 'title', 'x');
    sanitizer.setAttribute(a, 'title', null);
    expect(a.hasAttribute('title')).to.equal(false);
  });

  it('sets xlink: and xml: names in their namespaces', () => {
    const sanitizer = new Sanitizer('direct');
    const a = doc().createElementNS('http://www.w3.org/2000/svg', 'a');
    sanitizer.setAttributes(a, ['xlink:href', '#top', 'xml:lang', 'en', 'xlink:title', 'Top'], 'a');
    expect(a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')).to.equal('#top');
    expect(a.getAttributeNS('http://www.w3.org/XML/1998/namespace', 'lang')).to.equal('en');
    expect(a.getAttributeNS('http://www.w3.org/1999/xlink', 'title')).to.equal('Top');
  });

  it('loads URLs and url()s by the asset rules: through the proxy, or not at all', () => {
    const proxied = new Sanitizer({ proxy: PROXY, grant: 'grant-1' });
    const img = doc().createElement('img');
    proxied.setAttributes(img, ['src', `${ORIGIN}/a.png`, 'style', `background: url(${ORIGIN}/b.png)`], 'img');
    expect(img.getAttribute('src')).to.equal(viaProxy(`${ORIGIN}/a.png`, 'image'));
    expect(img.getAttribute('style')).to.contain(viaProxy(`${ORIGIN}/b.png`, 'css'));
    const none = new Sanitizer();
    const other = doc().createElement('img');
    none.setAttributes(other, ['src', `${ORIGIN}/a.png`], 'img');
    expect(other.hasAttribute('src')).to.equal(false);
    expect(none.css(`b { background: url(${ORIGIN}/b.png) }`)).not.to.contain(ORIGIN);
    expect(none.text(doc().createElement('style'), `@import "${ORIGIN}/x.css";`)).not.to.contain(ORIGIN);
    expect(none.text(doc().createElement('p'), `${ORIGIN}/x.css`), 'text outside a style element is text').to.contain(ORIGIN);
  });

  it('writes a document head with no referrer, and its CSP only when asked (once per document)', () => {
    const sanitizer = new Sanitizer();
    expect(sanitizer.head(true)).to.contain('Content-Security-Policy').and.contain(sanitizer.csp).and.contain('no-referrer');
    expect(sanitizer.head(false)).not.to.contain('Content-Security-Policy');
    expect(sanitizer.csp).to.contain("default-src 'none'").and.contain("form-action 'none'").and.contain("base-uri 'none'");
  });

  it('keeps fields from autofilling and fetches proxied sheets without credentials', () => {
    const d = doc();
    const sanitizer = new Sanitizer({ proxy: PROXY, grant: 'grant-1' });
    const input = d.createElement('input');
    sanitizer.finishElement(input, 'input');
    expect(input.getAttribute('autocomplete')).to.equal('off');
    const link = d.createElement('link');
    sanitizer.prepareLink(link);
    expect(link.getAttribute('crossorigin')).to.equal('anonymous');
    const direct = d.createElement('link');
    new Sanitizer('direct').prepareLink(direct);
    expect(direct.hasAttribute('crossorigin')).to.equal(false);
  });

  it('sets one change on many elements, and says when one of them is not an element', () => {
    const d = doc();
    const sanitizer = new Sanitizer('direct');
    const nodes = new Map<number, Node>([
      [1, d.createElement('p')],
      [2, d.createElement('p')],
      [3, d.createTextNode('x')],
    ]);
    const node = (id: number) => nodes.get(id);
    expect(sanitizer.setAttributeOnEach([1, 2], node, 'class', 'on')).to.equal(true);
    expect((nodes.get(2) as Element).className).to.equal('on');
    expect(sanitizer.setAttributeOnEach([1, 3], node, 'onclick', 'x()')).to.equal(false);
    expect((nodes.get(1) as Element).hasAttribute('onclick')).to.equal(false);
  });
});
