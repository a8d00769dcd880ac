// The SDK's stream, driven by real ws clients without a DOM: a customer page (the handling of
// core/customer-session.ts around the Outbox) and an agent console (core/agent-session.ts around the
// Inbox). The page is a list 1, 2, 3…: each patch appends the next numbers and a snapshot carries the
// whole list, so a patch lost or applied twice shows at once (the agent's list stops counting up by one).
// `urls` are the relays (or proxies) a client may reach; it moves to the next when one is gone.
import { WebSocket } from 'ws';
import { Inbox, Outbox } from '../../dist/core/reliable.js';

const V = 1;

/** Tries `urls` in turn from `start`: the first that opens. Like a load balancer skipping a dead node. */
function openAny(urls, start, onOpen) {
  let i = start;
  const attempt = (left) => {
    const url = urls[i % urls.length];
    const ws = new WebSocket(url, ['cobrowse.v1']);
    ws.on('error', () => {});
    let opened = false;
    ws.once('open', () => {
      opened = true;
      onOpen(ws, i % urls.length);
    });
    ws.once('close', () => {
      if (opened) return;
      i++;
      setTimeout(() => attempt(left - 1), left > 0 ? 10 : 100); // reconnect backoff, as a client's
    });
  };
  attempt(urls.length);
}

const DOC = [9, 1, [[1, 2, 'html', [], [[1, 3, 'body', [], []]]]]];

/** A customer page as far as the stream goes (core/customer-session.ts without a DOM); `urls` are the nodes it may reach. */
export class Customer {
  list = [];
  snapshots = 0;
  code = '';
  /** Which of `urls` each connection reached, in order. */
  nodes = [];
  log = [];
  #token = '';
  #ws = null;
  #closed = false;

  /** `pad()`: extra characters in a snapshot, so that some travel as chunks. */
  constructor(urls, { pad = () => 0 } = {}) {
    this.urls = urls;
    this.pad = pad;
    this.outbox = new Outbox((text) => this.#ws?.readyState === WebSocket.OPEN && (this.#ws.send(text), true));
  }

  start() {
    return new Promise((resolve) => {
      this.onCreated = resolve;
      this.#connect(0);
    });
  }

  mutate(count = 1) {
    const ops = [];
    for (let i = 0; i < count; i++) {
      const n = this.list.length + 1;
      this.list.push(n);
      ops.push([3, 3, String(n)]);
    }
    this.outbox.push({ t: 'patch', ops });
  }

  snapshot() {
    this.snapshots++;
    const pad = this.pad();
    this.outbox.push({
      t: 'snapshot',
      url: 'https://shop.example/',
      title: this.list.join(','),
      viewport: [800, 600],
      doc: DOC,
      ...(pad ? { pad: 'x'.repeat(pad) } : {}),
    });
  }

  close() {
    this.#closed = true;
    this.#ws?.close();
  }

  /** For a failure message: where the stream stands, and the last frames seen. */
  debug() {
    return { synced: this.outbox.synced, seq: this.outbox.seq, ws: this.#ws?.readyState, log: this.log.slice(-12) };
  }

  #catchUp(s) {
    if (!this.outbox.ack(s)) this.snapshot();
  }

  #connect(start) {
    openAny(this.urls, start, (ws, index) => {
      if (this.#closed) return ws.close();
      this.#ws = ws;
      this.nodes.push(index);
      ws.send(
        JSON.stringify(
          this.#token ? { t: 'resume', v: V, code: this.code, token: this.#token } : { t: 'create', v: V, mode: 'full-control' },
        ),
      );
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data));
        if (frame.t !== 'ack') this.log.push(`${frame.t}${frame.status ?? ''}${frame.code ?? ''}`);
        switch (frame.t) {
          case 'created':
            this.code = frame.code;
            this.#token = frame.token;
            this.snapshot();
            this.onCreated();
            break;
          case 'resumed':
            this.resumedCode = frame.code;
            this.outbox.continueFrom(frame.seq);
            this.outbox.unsync();
            break;
          case 'peer':
            this.outbox.unsync();
            if (frame.status === 'online' && !frame.resumed) this.#catchUp(0);
            break;
          case 'ack':
            this.#catchUp(frame.s);
            break;
          case 'request-snapshot':
            this.snapshot();
            break;
        }
      });
      ws.on('close', () => {
        if (this.#ws !== ws || this.#closed) return;
        this.outbox.unsync();
        setTimeout(() => this.#connect(index), 10); // the same node first; the next if it is gone
      });
    });
  }
}

/** An agent console as far as the stream goes (core/agent-session.ts without a mirror). */
export class Agent {
  list = [];
  errors = [];
  applied = { snapshots: 0, patches: 0, duplicates: 0, gaps: 0 };
  nodes = [];
  log = [];
  #inbox = new Inbox();
  #token = '';
  #ws = null;
  #closed = false;
  #timer;
  #syncedAt = 0;

  constructor(urls, code) {
    this.urls = urls;
    this.code = code;
  }

  start() {
    this.#connect(0);
    this.#timer = setInterval(() => this.#ack(), 20);
  }

  close() {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#ws?.close();
  }

  /** For a failure message: what was applied last, and the last frames seen. */
  debug() {
    return { last: this.#inbox.last, ws: this.#ws?.readyState, log: this.log.slice(-12) };
  }

  #ack() {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ t: 'ack', s: this.#inbox.last }));
  }

  #apply(frame) {
    const verdict = this.#inbox.accept(frame);
    if (!verdict.apply) {
      if (verdict.gap) {
        this.applied.gaps++;
        const last = this.#inbox.last;
        const ask = () => this.#inbox.last === last && this.#ws.readyState === WebSocket.OPEN && this.#ws.send('{"t":"request-snapshot"}');
        const wait = this.#syncedAt + 2000 - Date.now();
        if (wait <= 0) ask();
        else setTimeout(ask, wait); // as the SDK's agent: a gap is asked about after 2 s without repair
      } else if (frame.t !== 'chunk') this.applied.duplicates++;
      return;
    }
    const whole = verdict.text === undefined ? frame : JSON.parse(verdict.text);
    if (whole.t === 'snapshot') {
      this.applied.snapshots++;
      this.list = whole.title ? whole.title.split(',').map(Number) : [];
    } else {
      this.applied.patches++;
      for (const op of whole.ops) {
        const n = Number(op[2]);
        if (n !== this.list.length + 1) this.errors.push(`${n} after ${this.list.length}`);
        this.list.push(n);
      }
    }
  }

  #connect(start) {
    openAny(this.urls, start, (ws, index) => {
      if (this.#closed) return ws.close();
      this.#ws = ws;
      this.nodes.push(index);
      ws.send(
        JSON.stringify(this.#token ? { t: 'join', v: V, code: this.code, token: this.#token } : { t: 'join', v: V, code: this.code }),
      );
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data));
        if (frame.t !== 'patch' && frame.t !== 'chunk') this.log.push(`${frame.t}${frame.status ?? ''}${frame.role ?? ''}`);
        if (frame.t === 'joined') this.#token = frame.token;
        if (frame.t === 'joined' || (frame.t === 'peer' && frame.status === 'online')) {
          this.#syncedAt = Date.now();
          this.#ack();
        } else if (frame.t === 'snapshot' || frame.t === 'patch' || frame.t === 'chunk') this.#apply(frame);
        else if (frame.t === 'error') this.errors.push(`relay: ${frame.code} ${frame.message}`);
      });
      ws.on('close', () => {
        if (this.#ws !== ws || this.#closed) return;
        setTimeout(() => this.#connect(index), 10); // reconnect backoff, as a client's
      });
    });
  }
}
