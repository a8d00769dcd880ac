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
