/** The origin rule of navigation and hand-off: whole origins (scheme, host, port), never down to http. */
import { expect } from '@open-wc/testing';
import { allowsOrigin } from '../../core/origins.js';

const allows = (url: string, page: string, domains: string[] = []) => allowsOrigin(new URL(url), new URL(page), domains);

describe('allowsOrigin', () => {
  it("allows the page's own origin, and nothing else of its host", () => {
    expect(allows('https://shop.example/cart?x=1', 'https://shop.example/')).to.equal(true);
    expect(allows('https://shop.example:443/', 'https://shop.example/')).to.equal(true, 'the default port, spelled out');
    expect(allows('http://shop.example/', 'https://shop.example/'), 'a downgrade to http').to.equal(false);
    expect(allows('https://shop.example:8443/', 'https://shop.example/'), 'another port').to.equal(false);
    expect(allows('http://127.0.0.1:9000/', 'http://127.0.0.1:8080/'), 'another port on loopback').to.equal(false);
    expect(allows('https://evil.example/', 'https://shop.example/')).to.equal(false);
  });

  it("allows a listed domain on the page's scheme and port, or upgraded to https", () => {
    const page = 'https://shop.example/';
    expect(allows('https://pay.example/checkout', page, ['pay.example'])).to.equal(true);
    expect(allows('http://pay.example/', page, ['pay.example']), 'https page → http').to.equal(false);
    expect(allows('https://pay.example:8443/', page, ['pay.example']), 'a port the entry does not name').to.equal(false);
    expect(allows('https://pay.example.evil/', page, ['pay.example'])).to.equal(false);
    expect(allows('https://evilpay.example/', page, ['pay.example'])).to.equal(false);
    expect(allows('https://sub.pay.example/', page, ['pay.example']), 'a sub-domain needs *.').to.equal(false);

    const plain = 'http://a.localhost:8080/';
    expect(allows('http://b.localhost:8080/', plain, ['b.localhost'])).to.equal(true);
    expect(allows('https://b.localhost:8080/', plain, ['b.localhost']), 'http page → https: an upgrade').to.equal(true);
    expect(allows('http://b.localhost:9090/', plain, ['b.localhost'])).to.equal(false);
    expect(allows('http://b.localhost/', plain, ['b.localhost']), 'the default port is another port').to.equal(false);
    expect(allows('https://pay.example/', 'http://shop.example/', ['pay.example']), 'both on default ports').to.equal(true);
  });

  it('reads wildcards and ports in the entries', () => {
    const page = 'https://www.bank.example/';
    for (const url of ['https://bank.example/', 'https://login.bank.example/', 'https://a.b.bank.example/'])
      expect(allows(url, page, ['*.bank.example']), url).to.equal(true);
    for (const url of ['https://bank.example.evil/', 'https://evilbank.example/', 'http://login.bank.example/'])
      expect(allows(url, page, ['*.bank.example']), url).to.equal(false);

    expect(allows('https://shop.example:8443/', page, ['shop.example:8443'])).to.equal(true);
    expect(allows('https://shop.example/', page, ['shop.example:8443']), 'the entry names its port').to.equal(false);
    expect(allows('https://shop.example/', page, ['shop.example:443'])).to.equal(true);
    expect(allows('https://x.shop.example:8443/', page, ['*.shop.example:8443'])).to.equal(true);
    expect(allows('https://x.shop.example:8444/', page, ['*.shop.example:8443'])).to.equal(false);
  });

  it('compares host names as URLs spell them, and ignores entries that are not host names', () => {
    const page = 'https://www.bank.example/';
    expect(allows('https://pay.example/', page, ['PAY.Example'])).to.equal(true);
    expect(allows('https://xn--bcher-kva.example/', page, ['bücher.example'])).to.equal(true);
    expect(allows('https://[::1]:8443/', page, ['[::1]:8443'])).to.equal(true);
    for (const entry of ['', '*', '*.', 'https://pay.example', 'pay.example/path', 'pay.example:x', ':443'])
      expect(allows('https://pay.example/', page, [entry]), JSON.stringify(entry)).to.equal(false);
  });
});
