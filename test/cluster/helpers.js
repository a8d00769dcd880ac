// Shared by the scale-out suites: relay nodes as child processes (dist/relay/cli.js --redis), a
// real redis-server per suite, and the stream drivers of test/relay/resume.test.js taught to
// move to another node when theirs is gone (as a load balancer would send them).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { Inbox, Outbox } from '../../dist/core/reliable.js';

export const V = 1;
const CLI = fileURLToPath(new URL('../../dist/relay/cli.js', import.meta.url));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `cobrowse-relay --redis <url>` on a free port. Resolves with { url, http, proc, logs, kill(), stop() }
 * once it listens. `args` are more CLI flags.
 */
export async function startNode(redisUrl, args = []) {
  const proc = spawn(
    process.execPath,
    [CLI, '--port', '0', '--redis', redisUrl, '--sockets-per-ip', 'unlimited', '--sessions-per-ip', 'unlimited', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs = [];
  let out = '';
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 10_000);
    proc.stderr.on('data', (d) => {
      out += d;
    });
    proc.stdout.on('data', (d) => {
      out += d;
      for (const line of String(d).split('\n')) {
        if (line.startsWith('{')) logs.push(JSON.parse(line));
        const m = /listening on (ws:\/\/\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
  });
  const end = async (signal) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    http: url.replace(/^ws/, 'http').replace(/\/relay$/, ''),
    proc,
    logs,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

export async function health(node) {
  const res = await fetch(`${node.http}/healthz`);
  return { status: res.status, body: await res.json() };
}

export async function until(test, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

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
      setTimeout(() => attempt(left - 1), left > 0 ? 10 : 100);
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

  constructor(urls) {
    this.urls = urls;
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
    this.outbox.push({ t: 'snapshot', url: 'https://shop.example/', title: this.list.join(','), viewport: [800, 600], doc: DOC });
  }

  close() {
    this.#closed = true;
    this.#ws?.close();
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
        else setTimeout(ask, wait);
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
        setTimeout(() => this.#connect(index), 10);
      });
    });
  }
}
