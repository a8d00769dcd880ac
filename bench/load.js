// Shared by bench/relay.js and bench/cluster.js: realistic patch frames that carry their send time,
// and the small pieces of a load generator.
import { WebSocket } from 'ws';

/** Patch bodies (the ops after the timestamp op), 200 B – 2 KB spread log-uniformly: text, class, value and small additions, seeded. */
export function makePatchBodies(count) {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const bodies = [];
  for (let i = 0; i < count; i++) {
    const target = Math.round(200 * 10 ** (rand() * Math.log10(2048 / 200)));
    const ops = [];
    let id = 100;
    while (JSON.stringify(ops).length < target - 60) {
      const r = rand();
      if (r < 0.4) ops.push([3, id++, 'Total: $' + (rand() * 1000).toFixed(2)]);
      else if (r < 0.7) ops.push([2, id++, 'class', rand() < 0.5 ? 'btn btn-primary is-active' : 'btn']);
      else if (r < 0.85) ops.push([4, id++, 'typed text'.slice(0, 1 + Math.floor(rand() * 10))]);
      else ops.push([0, id++, null, [1, id++, 'li', ['class', 'toast'], [[3, id++, 'Saved just now']]]]);
    }
    bodies.push(JSON.stringify(ops).slice(1, -1));
  }
  return bodies;
}

/** Every patch starts with a text op carrying the send time, so the receiver can read it without parsing. */
export const PATCH_HEAD = '{"t":"patch","ops":[[3,1,"';
export const patchFrame = (ts, body) => `${PATCH_HEAD}${ts.toFixed(3)}"],${body}],"s":1}`; // the relay forwards, only the agent checks numbering
export const sentAt = (text) => Number(text.slice(PATCH_HEAD.length, text.indexOf('"', PATCH_HEAD.length)));

export const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** Closes every customer and agent socket, cutting off any that does not close within 3 s. */
export async function closeSessions(sessions) {
  await Promise.all(
    sessions
      .flatMap(({ customer, agent }) => [customer, agent])
      .map(
        (ws) =>
          new Promise((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', resolve);
            ws.close();
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 3000).unref();
          }),
      ),
  );
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Paced load on open sessions: each customer sends `snapshot`, then `rate` patches per second for
 * `seconds` after a warm-up second, at phases spread over the period (a smooth load, not `rate`
 * bursts a second). One-way latency of the patches sent within the window, as the agents receive
 * them. `onWindow(startInMs, endInMs)` hears when the measured window opens and closes.
 */
export async function pacedLoad(sessions, { snapshot, rate, seconds, onWindow = () => {} }) {
  const count = sessions.length;
  const bodies = makePatchBodies(64);
  const latencies = [];
  let snapshots = 0;
  let window = { start: Infinity, end: Infinity };
  for (const { agent } of sessions) {
    agent.on('message', (data) => {
      const text = data.toString();
      if (!text.startsWith(PATCH_HEAD)) return void (text.startsWith('{"t":"snapshot"') && snapshots++);
      const ts = sentAt(text);
      if (ts >= window.start && ts < window.end) latencies.push(performance.now() - ts);
    });
  }
  for (const { customer } of sessions) customer.send(snapshot);
  for (const deadline = Date.now() + 30_000; snapshots < count && Date.now() < deadline;) await sleep(20);
  await sleep(500);

  const period = 1000 / rate;
  const now0 = performance.now();
  window = { start: now0 + 1000, end: now0 + 1000 + seconds * 1000 };
  onWindow(window.start - now0, window.end - now0);
  const due = sessions.map((_, i) => now0 + (i / count) * period);
  let sent = 0;
  let k = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= window.end) {
        clearInterval(tick);
        return resolve();
      }
      for (let i = 0; i < count; i++) {
        while (due[i] <= now) {
          const ts = performance.now();
          sessions[i].customer.send(patchFrame(ts, bodies[k++ & 63]));
          if (ts >= window.start) sent++;
          due[i] += period;
        }
      }
    }, 1);
  });
  await sleep(1000); // let the last frames land
  latencies.sort((a, b) => a - b);
  await closeSessions(sessions);
  return {
    sent,
    received: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * Closed loop on open sessions: each keeps `inFlight` patches in flight (every frame an agent
 * receives makes its customer send the next); how many frames/s the server moves over `seconds`
 * after a warm-up second. `onPhase('start' | 'end')` hears the measured window.
 */
export async function saturateLoad(sessions, { inFlight, seconds, onPhase = () => {} }) {
  const bodies = makePatchBodies(64);
  let received = 0;
  let counting = false;
  let running = true;
  let k = 0;
  for (const { customer, agent } of sessions) {
    agent.on('message', () => {
      if (counting) received++;
      if (running) customer.send(patchFrame(performance.now(), bodies[k++ & 63]));
    });
  }
  for (const { customer } of sessions) for (let i = 0; i < inFlight; i++) customer.send(patchFrame(performance.now(), bodies[k++ & 63]));
  await sleep(1000);
  counting = true;
  onPhase('start');
  await sleep(seconds * 1000);
  counting = false;
  onPhase('end');
  running = false;
  await sleep(500);
  await closeSessions(sessions);
  return { perSecond: received / seconds };
}
