// Resume without loss: a customer and an agent, real ws clients driving the SDK's own Outbox and
// Inbox (core/reliable.ts; see test/helpers/stream-drivers.js) through a real relay, with a fault
// proxy between them and the relay that resets their connections (RST: whatever is in flight is
// lost) at random points.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay } from '../../dist/relay/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { random } from '../helpers/random.js';
import { until } from '../helpers/wait.js';
import { Agent, Customer } from '../helpers/stream-drivers.js';
import { sleep } from './helpers.js';

describe('resume without loss', () => {
  let relay, proxy;
  before(async () => {
    relay = await startRelay({ port: 0, host: '127.0.0.1', log: () => {} });
    proxy = await startFaultProxy({ port: relay.port });
  });
  after(async () => {
    await proxy?.close();
    await relay?.close();
  });

  it('100 forced closes at random points: no patch lost or applied twice, and the agent converges', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1e9);
    const rand = random(seed);
    const customer = new Customer([proxy.url()], { pad: () => (rand() < 0.2 ? Math.floor(rand() * 400_000) : 0) });
    await customer.start();
    const agent = new Agent([proxy.url()], customer.code);
    agent.start();
    await until(() => agent.list.length === customer.list.length && agent.applied.snapshots > 0, 'the first snapshot', { ms: 5000 });

    let stop = false;
    // About 100 batches a second, as a busy page's MutationObserver delivers them (the relay's default rate limit is 200 frames/s).
    let batches = 0;
    const churn = (async () => {
      while (!stop) {
        customer.mutate(1 + Math.floor(rand() * 5));
        batches++;
        await sleep(5 + Math.floor(rand() * 10)); // random pacing on purpose: a busy page's bursts
      }
    })();
    let resets = 0;
    const deadline = Date.now() + 60_000;
    while (resets < 100) {
      await sleep(5 + Math.floor(rand() * 40)); // random pacing on purpose: resets at seeded moments
      if (proxy.resetOne((list) => list[Math.floor(rand() * list.length)])) resets++;
      assert.ok(
        Date.now() < deadline,
        `seed ${seed}: the clients stopped reconnecting after ${resets} resets: ${JSON.stringify({ customer: customer.debug(), agent: agent.debug() })}`,
      );
    }
    stop = true;
    await churn;

    await until(() => agent.list.length === customer.list.length, `convergence (seed ${seed})`, { ms: 5000 }).catch((err) => {
      err.message += `: agent has ${agent.list.length}, customer ${customer.list.length}; ${JSON.stringify({ customer: customer.debug(), agent: agent.debug() })}`;
      throw err;
    });
    customer.close();
    agent.close();
    const lost = agent.errors.filter((e) => !e.startsWith('relay:'));
    console.log(
      `seed ${seed}: ${resets} forced closes; ${batches} patches (${customer.list.length} changes); agent applied ${agent.applied.patches} patches and ` +
        `${agent.applied.snapshots} of the customer's ${customer.snapshots} snapshots; skipped ${agent.applied.duplicates} duplicates, ` +
        `${agent.applied.gaps} gaps; lost or doubled: ${lost.length}`,
    );
    assert.deepEqual(lost, [], `seed ${seed}`);
    assert.deepEqual(agent.list, customer.list, `seed ${seed}: the agent's page equals the customer's`);
    assert.ok(agent.applied.patches > batches / 2, 'most of the stream arrived as patches (replayed), not snapshots');
  });

  it('a snapshot over 1 MiB crosses the relay in chunks and is put back together', async () => {
    const customer = new Customer([proxy.url()], { pad: () => 3_000_000 });
    await customer.start();
    customer.mutate(10);
    const agent = new Agent([proxy.url()], customer.code);
    agent.start();
    await until(() => agent.list.length === 10, 'the chunked snapshot', { ms: 10_000 });
    assert.deepEqual(agent.list, customer.list);
    assert.equal(agent.applied.snapshots, 1);
    customer.close();
    agent.close();
  });
});
