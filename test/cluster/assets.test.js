// The asset proxy on a cluster: a grant one node issued works on any other (the key is the cluster
// secret's, or one random key every node reads from Redis), the session's customer origin is read
// from its shared record, and a grant dies with its session wherever it ended.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from '../relay/helpers.js';
import { V, clusterSuite } from './helpers.js';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const SECRET = 'a cluster secret of at least thirty-two bytes';

/** GET a proxy URL on `node`: { status, body, error }. */
async function fetchVia(node, grant, url, kind = 'image') {
  const res = await fetch(`${node.http}/asset?g=${encodeURIComponent(grant)}&as=${kind}&u=${encodeURIComponent(url)}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, error: res.ok ? null : JSON.parse(body.toString()).error };
}

/** A customer whose page is on `origin` creates a session on `a`; an agent joins it on `b`. */
async function pairAcross(a, b, origin) {
  const customer = await connect(a.url, { headers: { origin } });
  customer.send({ t: 'create', v: V, mode: 'full-control' });
  const created = await customer.next();
  const agent = await connect(b.url);
  agent.send({ t: 'join', v: V, code: created.code, name: 'Alice' });
  const joined = await agent.next();
  assert.equal(joined.t, 'joined');
  assert.equal((await customer.next()).t, 'peer');
  return { customer, agent, created, grant: joined.assets.grant };
}

for (const [name, secretArgs] of [
  ['without a cluster secret (--insecure-cluster: a shared random key in Redis)', ['--insecure-cluster']],
  ['with a cluster secret', ['--cluster-secret', SECRET]],
]) {
  describe(`two relays on one Redis: asset grants ${name}`, () => {
    const site = { hits: 0 };
    const args = [...secretArgs]; // read by clusterSuite's before, which runs after this one
    before(async () => {
      site.server = createServer((req, res) => {
        site.hits++;
        res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      });
      await new Promise((resolve) => site.server.listen(0, '127.0.0.1', resolve));
      site.origin = `http://127.0.0.1:${site.server.address().port}`;
      args.push('--asset-origin', site.origin);
    });
    const ctx = clusterSuite(args);
    after(() => new Promise((resolve) => site.server.close(resolve)));

    it('a grant issued on B works on A and on B; the session origin comes from the shared record', async () => {
      const { a, b } = ctx;
      const s = await pairAcross(a, b, 'https://shop.example');
      for (const node of [a, b]) {
        const res = await fetchVia(node, s.grant, `${site.origin}/logo.png`);
        assert.equal(res.status, 200, res.error);
        assert.deepEqual(res.body, PNG);
      }
      // The customer's origin (recorded on A) passes the origin check on B; another does not.
      assert.notEqual((await fetchVia(b, s.grant, 'https://shop.example/a.png')).status, 403);
      const other = await fetchVia(b, s.grant, 'https://elsewhere.example/a.png');
      assert.equal(other.status, 403);
      assert.match(other.error, /not this session's origin/);
      // Ended on A: the grant stops on B.
      s.customer.send({ t: 'end' });
      assert.equal((await s.agent.next()).t, 'ended');
      const ended = await fetchVia(b, s.grant, `${site.origin}/logo.png`);
      assert.equal(ended.status, 403);
      await Promise.all([s.customer.close(), s.agent.close()]);
    });

    it('a forged grant is refused on every node', async () => {
      const { a, b } = ctx;
      const s = await pairAcross(b, a, 'https://shop.example');
      const [code, expiry] = s.grant.split('.');
      const forged = `${code}.${expiry}.${'A'.repeat(43)}`;
      for (const node of [a, b]) assert.equal((await fetchVia(node, forged, `${site.origin}/logo.png`)).status, 403);
      await Promise.all([s.customer.close(), s.agent.close()]);
    });
  });
}
