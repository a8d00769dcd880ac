#!/usr/bin/env node
/** `cobrowse-relay`: runs a standalone relay until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { startRelay } from './index.js';
import { RELAY_DEFAULTS } from './relay.js';

const USAGE = `Usage: cobrowse-relay [--port N] [--host H]

Runs the co-browsing relay: peers connect to ws://HOST:PORT${RELAY_DEFAULTS.path},
health checks GET http://HOST:PORT/healthz. Sessions live in memory only.

Options:
  --port N     port to listen on (default 8090, or $PORT; 0 picks a free one)
  --host H     interface to bind (default 127.0.0.1, or $HOST; 0.0.0.0 for all)
  -h, --help   show this help
`;

function fail(message: string): never {
  process.stderr.write(`cobrowse-relay: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values: { port?: string; host?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const portText = values.port ?? process.env.PORT ?? '8090';
const port = Number(portText);
if (!/^\d{1,5}$/.test(portText) || port > 65535) fail(`invalid port "${portText}"`);
const host = values.host ?? process.env.HOST ?? '127.0.0.1';

const relay = await startRelay({ port, host }).catch((err: Error) => {
  process.stderr.write(`cobrowse-relay: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
const d = RELAY_DEFAULTS;
console.log(
  `cobrowse-relay listening on ${relay.url} (max frame ${d.maxPayload} B, unjoined TTL ${d.unjoinedTtlMs / 1000} s, ` +
    `grace ${d.graceMs / 1000} s, heartbeat ${d.heartbeatMs / 1000} s, health http://${relay.url.slice(5).split('/')[0]}/healthz)`,
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1); // a second signal: stop waiting
  stopping = true;
  console.log(JSON.stringify({ time: new Date().toISOString(), event: 'shutdown', signal }));
  await relay.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
