// Fuzz with agent authentication on: 10,000+ random and mutated frames from sockets with a valid
// agent token, a bad token or none. The relay stays up, a good session is unaffected, and every
// refusal is one the protocol documents, with its documented close code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { PATCH, SNAPSHOT, V, agentProtocols, connect, createSession, relaySuite, sleep } from './helpers.js';

const SECRET = 'fuzz-test-secret-0123456789abcdef-xyz';
const sign = (sub) =>
  new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setSubject(sub)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));

/** docs/protocol.md, "Error codes" and "Close codes". */
const CLOSE_FOR_ERROR = {
  'bad-frame': 1008,
  'not-allowed': 1008,
  'unsupported-version': 4000,
  'session-not-found': 4004,
  'session-taken': 4009,
  unauthorized: 4001,
  'rate-limited': 4029,
};
/** Closes that come without an error frame: ended/replaced, binary, too big, and a client's own close. */
const BARE_CLOSES = new Set([1000, 1003, 1005, 1009]);
const RELAY_FRAMES = new Set(['created', 'resumed', 'joined', 'peer', 'ended', 'error', 'request-snapshot', 'control-result']);

describe('fuzz, with agent authentication', () => {
  const ctx = relaySuite({ agentAuth: { secret: SECRET }, graceMs: 100, unjoinedTtlMs: 300, maxPayload: 64 * 1024 });

  const seed = Number(process.env.FUZZ_SEED ?? 0xf022);
  let state = seed;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const junk = () => pick([null, true, -1, 1e308, '', 'x'.repeat(300), '123456789', [], {}, [[[]]], { t: 'patch' }, '\u0000', 2 ** 53, 2]);

  function mutate(value, depth = 0) {
    if (depth > 4 || rand() < 0.2) return junk();
    if (Array.isArray(value)) {
      const copy = value.map((v) => (rand() < 0.3 ? mutate(v, depth + 1) : v));
      if (rand() < 0.2) copy.push(junk());
      if (rand() < 0.2) copy.splice(Math.floor(rand() * copy.length), 1);
      return copy;
    }
    if (value && typeof value === 'object') {
      const copy = { ...value };
      for (const key of Object.keys(copy)) if (rand() < 0.3) copy[key] = mutate(copy[key], depth + 1);
      if (rand() < 0.1) delete copy[pick(Object.keys(copy))];
      if (rand() < 0.1) copy[pick(['t', 'v', 'code', 'token', '__proto__'])] = junk();
      return copy;
    }
    return junk();
  }

  function randomFrame(goodCode) {
    const valid = [
      { t: 'create', v: V, mode: pick(['full-control', 'partial-control', 'no-control']) },
      { t: 'join', v: V, code: goodCode, name: 'Mallory' },
      { t: 'join', v: V, code: String(Math.floor(rand() * 1e9)).padStart(9, '0') },
      { t: 'resume', v: V, code: goodCode, token: 'guess' },
      { t: 'end' },
      { t: 'request-snapshot' },
      SNAPSHOT,
      PATCH,
      { t: 'pointer', x: 1, y: 2 },
      { t: 'sharing', paused: true },
      { t: 'control', n: 1, a: 'click', id: 4 },
    ];
    const r = rand();
    if (r < 0.35) return JSON.stringify(pick(valid));
    if (r < 0.8) return JSON.stringify(mutate(pick(valid)));
    if (r < 0.9) {
      const text = JSON.stringify(pick(valid));
      return text.slice(0, Math.floor(rand() * text.length)) + pick(['', '}', '\\', '"', '\u00ff']);
    }
    if (r < 0.93) return 'x'.repeat(70 * 1024); // over maxPayload
    if (r < 0.96) return '['.repeat(5000) + ']'.repeat(5000);
    return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  }

  it('10,000 frames from authenticated and unauthenticated sockets: documented answers only; a good session keeps working', async (t) => {
    const good = await createSession(ctx.url);
    const goodCode = good.created.code;
    const goodAgent = await connect(ctx.url, { protocols: agentProtocols(await sign('good-agent')) });
    goodAgent.send({ t: 'join', v: V, code: goodCode });
    assert.equal((await goodAgent.next()).t, 'joined');
    assert.equal((await good.customer.next()).t, 'peer');
    // Fuzzers come from their own addresses, so their lockouts and caps do not touch the good session's.
    const tokens = await Promise.all(['f1', 'f2', 'f3'].map(sign));
    let sent = 0;
    const answers = {};
    const fuzzSocket = async (i) => {
      const kind = pick(['token', 'token', 'bad-token', 'none']);
      const protocols = kind === 'token' ? agentProtocols(pick(tokens)) : kind === 'bad-token' ? agentProtocols('x.y.z') : ['cobrowse.v1'];
      const client = await connect(ctx.url, { protocols, localAddress: `127.0.9.${1 + (i % 50)}` });
      if (rand() < 0.4) client.send({ t: 'create', v: V, mode: 'full-control' }); // some go past the handshake
      // Up to 20 frames, back to back; once the relay has refused one it closes, and the rest are not sent.
      for (let f = 0; f < 20 && client.ws.readyState === 1; f++) {
        const frame = randomFrame(goodCode);
        if (typeof frame === 'string') client.ws.send(frame);
        else client.ws.send(frame, { binary: true });
        sent++;
        // Pacing, not synchronisation: a refusal may arrive mid-burst, so not all frames are queued before it.
        if (f % 4 === 3) await sleep(1);
      }
      // The relay handles a socket's frames in order: whatever it answers to them comes before the close's answer.
      if (client.ws.readyState === 1) client.ws.close();
      const { code } = await client.closedWithin(3000);
      // Every message it got is a relay frame; every error is documented and closes with its code.
      const errors = [];
      while (client.pending()) {
        const frame = JSON.parse(await client.nextText());
        assert.ok(RELAY_FRAMES.has(frame.t), `a fuzzer received "${frame.t}"`);
        if (frame.t === 'error') errors.push(frame.code);
      }
      assert.ok(errors.length <= 1, `more than one error on one socket: ${errors}`);
      if (errors.length) {
        assert.ok(errors[0] in CLOSE_FOR_ERROR, `undocumented error ${errors[0]}`);
        assert.equal(code, CLOSE_FOR_ERROR[errors[0]], `${errors[0]} closed with ${code}`);
      } else {
        assert.ok(BARE_CLOSES.has(code), `closed with ${code} and no error`);
      }
      const key = errors[0] ?? `close ${code}`;
      answers[key] = (answers[key] ?? 0) + 1;
    };
    let batch = 0;
    try {
      for (; sent < 10_000; batch++) {
        await Promise.all(Array.from({ length: 25 }, (_, i) => fuzzSocket(batch * 25 + i)));
        good.customer.send(PATCH);
        assert.deepEqual(await goodAgent.next(), PATCH, `good session broke after batch ${batch}`);
      }
    } catch (err) {
      t.diagnostic(`FUZZ_SEED=${seed}`);
      throw err;
    }
    t.diagnostic(`${sent} frames from ${batch * 25} sockets: ${JSON.stringify(answers)}`);
    for (const code of ['bad-frame', 'not-allowed', 'unauthorized', 'session-taken']) assert.ok(answers[code] > 0, `never saw ${code}`);
    goodAgent.send({ t: 'request-snapshot' });
    assert.equal((await good.customer.next()).t, 'request-snapshot');
    assert.equal(good.customer.pending(), 0, 'a fuzzer reached the good customer');
    good.customer.send({ t: 'end' });
    assert.deepEqual(await goodAgent.next(), { t: 'ended', by: 'customer' });
  });
});
