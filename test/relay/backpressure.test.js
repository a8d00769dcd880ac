// Backpressure: a stalled agent (its socket paused, so TCP pushes back) must not grow the relay's
// memory, must never get a patch its mirror missed the base of, and must come back with a fresh snapshot.
// The relay runs in its own process so its RSS is its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SNAPSHOT, httpBase, metric, pair } from './helpers.js';
import { until } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/relay-process.js', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;

/** Starts a relay in a child process; resolves with { child, url }. */
async function spawnRelay(options) {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    child.stdout.once('data', (data) => resolve(JSON.parse(data).url));
  });
  return { child, url };
}

const rssMiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
const metricsOf = async (url) => (await fetch(`${httpBase(url)}/metrics`)).text();

/** Numbered frames: patches carry their number in the text op, snapshots in the title. */
const pad = 'x'.repeat(256 * KiB);
const patch = (n) => JSON.stringify({ t: 'patch', s: n + 2, ops: [[3, 5, `${n} ${pad}`]] });
const snapshot = (n) => JSON.stringify({ ...SNAPSHOT, title: String(n), url: `https://shop.example/${pad}` });
const numberOf = (frame) => Number(frame.t === 'snapshot' ? frame.title : frame.ops[0][2].split(' ')[0]);

describe('backpressure towards a stalled agent', () => {
  let relay;
  before(async () => {
    relay = await spawnRelay({
      metrics: true,
      limits: { highWaterBytes: 256 * KiB, hardCapBytes: 1 * MiB, framesPerSecond: 'Infinity', bytesPerSecond: 'Infinity' },
    });
  });
  after(() => relay.child.kill('SIGKILL'));

  it('keeps the relay RSS bounded, drops (and counts) what the agent cannot take, and resyncs it with a snapshot', async () => {
    const { customer, agent } = await pair(relay.url);
    agent.ws._socket.pause(); // the agent stops reading: the kernel buffers fill, then the relay's
    const send = (text) => new Promise((resolve) => customer.ws.send(text, resolve)); // paced by the relay reading

    const FLOOD = 256; // 64 MiB; every 50th frame a snapshot, which may pass while under the hard cap
    let n = 0;
    const readByRelay = async () => metric(await metricsOf(relay.url), 'cobrowse_frames_total{direction="in",role="customer"}');
    for (; n < 16; n++) await send(patch(n)); // warm up, fill the kernel's buffers
    await until(async () => (await readByRelay()) === n, 'the relay to read the warm-up');
    const baseline = rssMiB(relay.child.pid);
    let peak = baseline;
    for (; n < FLOOD; n++) {
      await send(n % 50 === 49 ? snapshot(n) : patch(n));
      if (n % 8 === 0) peak = Math.max(peak, rssMiB(relay.child.pid));
    }
    for (let i = 0; i < 20; i++, n++) await send(patch(n)); // end behind, so a resync is due
    // State frames still reach a lagging agent, in order; pointer moves past the high-water mark are dropped (the next one supersedes them).
    await send(JSON.stringify({ t: 'sharing', paused: true }));
    await send(JSON.stringify({ t: 'pointer', x: 10, y: 20 }));
    const received = n + 2;
    // Wait until the relay has read every frame (bounded: a mistake here must fail, not hang).
    await until(
      async () => (await readByRelay()) === received,
      async () => `the relay to read ${received} frames (${await readByRelay()})`,
      {
        ms: 10_000,
      },
    );
    peak = Math.max(peak, rssMiB(relay.child.pid));
    assert.ok(peak - baseline < 32, `relay RSS grew by ${(peak - baseline).toFixed(1)} MiB for a 64 MiB flood`);

    const metrics = await metricsOf(relay.url);
    assert.ok(metric(metrics, 'cobrowse_dropped_frames_total{reason="backpressure"}') >= 1);
    assert.ok(metric(metrics, 'cobrowse_dropped_frames_total{reason="behind"}') > 100);
    assert.equal(customer.pending(), 0, 'no snapshot is requested while the agent is still stalled');

    // The agent wakes up: the relay asks the customer for a snapshot once it has drained.
    agent.ws._socket.resume();
    assert.equal(await customer.nextText(10_000), '{"t":"request-snapshot"}');
    await send(patch(n++)); // still behind: dropped, the snapshot has not passed yet
    const last = n;
    await send(snapshot(n++));
    await send(patch(n++));

    // What the agent got: runs of consecutive numbers; a gap only ever right before a snapshot,
    // and each gap announced by resync-required. So its mirror never applied a patch out of step.
    const got = [];
    const state = [];
    let resyncs = 0;
    for (;;) {
      const frame = await agent.next(10_000);
      if (frame.t === 'sharing' || frame.t === 'pointer') {
        state.push(frame.t);
        continue;
      }
      if (frame.t === 'error') {
        assert.equal(frame.code, 'resync-required');
        resyncs++;
        got.push('resync');
        continue;
      }
      got.push(frame);
      if (numberOf(frame) === last + 1) break;
    }
    let previous = -1;
    let announced = false;
    for (const item of got) {
      if (item === 'resync') {
        announced = true;
        continue;
      }
      const number = numberOf(item);
      if (number !== previous + 1) {
        assert.equal(item.t, 'snapshot', `frame ${number} follows ${previous}: only a snapshot may follow a gap`);
        assert.ok(announced, `the gap before ${number} was not announced with resync-required`);
      }
      if (item.t === 'snapshot') announced = false;
      previous = number;
    }
    assert.ok(resyncs >= 1);
    assert.deepEqual(state, ['sharing'], 'the sharing state arrives; the stale pointer move does not');
    assert.equal(got.at(-2).t, 'snapshot');
    assert.equal(numberOf(got.at(-2)), last);
    assert.equal(agent.ws.readyState, 1, 'resync-required does not close the socket');
    await Promise.all([agent.close(), customer.close()]);
  });
});
