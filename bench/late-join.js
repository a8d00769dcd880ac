#!/usr/bin/env node
// How long a late-joining agent waits for the page: from sending `join` to a live mirror, on a
// customer page of N elements, with the fresh-snapshot design (the customer's page serializes the
// page when the agent arrives; the relay keeps no copy). Also prints the snapshot's size, which is
// what a relay-side cache would hold per session.
//   node bench/late-join.js [--elements=10000] [--runs=5]
import { startDemo } from '../dist/demo/server.js';
import { launchChromium, startFromLauncher } from '../test/helpers/chromium.js';

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ELEMENTS = arg('elements', 10_000);
const RUNS = arg('runs', 5);

const demo = await startDemo({ port: 0, host: '127.0.0.1', relay: { agentAuth: 'dev', log: () => {} } });
const browser = await launchChromium();
const customer = await (await browser.newContext()).newPage();
await customer.goto(`${demo.url}/`);
await customer.evaluate((n) => {
  const root = document.createElement('section');
  for (let i = 0; i < n / 4; i++) {
    const row = document.createElement('div');
    row.className = 'row';
    row.innerHTML = `<span class="label">Item ${i}</span><b>${i * 7}</b><i>note</i>`;
    root.append(row);
  }
  document.body.append(root);
}, ELEMENTS);
const code = await startFromLauncher(customer);
const cdp = await customer.context().newCDPSession(customer);
await cdp.send('Network.enable');
let snapshotBytes = 0;
cdp.on('Network.webSocketFrameSent', (e) => {
  const data = e.response.payloadData;
  if (data.startsWith('{"t":"snapshot"') || data.startsWith('{"t":"chunk"')) snapshotBytes += Buffer.byteLength(data);
});

const times = [];
for (let run = 0; run < RUNS; run++) {
  const agent = await (await browser.newContext()).newPage();
  await agent.goto(`${demo.url}/agent/`);
  snapshotBytes = 0;
  const ms = await agent.evaluate(async (code) => {
    const viewer = document.querySelector('cobrowse-viewer');
    await viewer.updateComplete;
    const started = performance.now();
    viewer.join(code);
    await new Promise((resolve) => {
      const check = () => (viewer.state === 'live' ? resolve() : requestAnimationFrame(check));
      check();
    });
    return performance.now() - started;
  }, code);
  times.push(ms);
  await agent.evaluate(() => document.querySelector('cobrowse-viewer').remove()); // leaves: the next agent may join
  await agent.context().close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `late join, ${ELEMENTS} elements: join → live mirror median ${median.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')}); ` +
    `snapshot ${(snapshotBytes / 1024).toFixed(0)} KiB on the wire — what a relay cache would keep per session`,
);
await browser.close();
await demo.close();
