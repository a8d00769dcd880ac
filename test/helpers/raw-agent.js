// A hand-written agent client for end-to-end tests: it joins with a dev token and sends whatever
// it likes, bypassing the agent console — how a test proves the customer's page enforces a rule.
import WebSocket from 'ws';
import { until } from './wait.js';

/** The node ID of the element with this id attribute in a snapshot's tree (documents, elements). */
export function idIn(snapshot, elementId) {
  const stack = [snapshot.doc];
  while (stack.length) {
    const node = stack.pop();
    if (node[0] === 1) {
      const attrs = node[3];
      for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === 'id' && attrs[i + 1] === elementId) return node[1];
      stack.push(...node[4]);
    } else if (node[0] === 9) stack.push(...node[2]);
  }
  throw new Error(`#${elementId} not in the snapshot`);
}

/**
 * Joins session `code` at the demo's relay (`demoUrl`) as agent `name`; resolves once it has the snapshot.
 * `command(frame)` sends a control command and resolves with its control-result.
 */
export async function rawAgent(demoUrl, code, name = 'Raw') {
  const { token } = await (await fetch(`${demoUrl}/dev/agent-token?name=${encodeURIComponent(name)}`)).json();
  const ws = new WebSocket(`${demoUrl.replace('http', 'ws')}/relay`, ['cobrowse.v1', `cobrowse.bearer.${token}`]);
  const frames = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ t: 'join', v: 1, code }));
  const next = (test, ms = 5000) =>
    until(
      () => frames.find(test),
      () => `such a frame; got ${frames.map((f) => f.t).join(', ')}`,
      { ms },
    );
  const snapshot = await next((f) => f.t === 'snapshot');
  let n = 0;
  const send = (frame) => ws.send(JSON.stringify(frame));
  return {
    ws,
    frames,
    next,
    send,
    idOf: (elementId) => idIn(snapshot, elementId),
    /** Sends one control command; resolves with its result frame. */
    async command(frame, ms) {
      const number = ++n;
      send({ t: 'control', n: number, ...frame });
      return next((f) => f.t === 'control-result' && f.n === number, ms);
    },
    close: () => ws.close(),
  };
}
