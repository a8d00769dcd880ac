/**
 * The demo: one small `node:http` server that serves the customer page (`/`), the agent
 * console (`/agent/`), the browser bundles (`/dist/*`) and runs the relay on the same
 * port (`/relay`). No framework, no build step of its own.
 *
 *   npm start                      # builds, then runs this on http://localhost:8080
 *   PORT=9000 HOST=0.0.0.0 npm start
 *
 * Tests import `startDemo({ port: 0 })` instead of running it as a program.
 */
import { createReadStream, realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_ASSET_PATH } from '../core/protocol/index.js';
import { attachRelay, type Relay, type RelayOptions } from '../relay/index.js';

/** dist/demo/server.js → the project root, two levels up; works from any cwd. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEMO_DIR = path.join(ROOT, 'demo');
const DIST_DIR = path.join(ROOT, 'dist');
const RELAY_PATH = '/relay';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface DemoOptions {
  /** 0 picks a free port. Default: `PORT` env, else 8080. */
  port?: number;
  /** Default: `HOST` env, else 127.0.0.1. */
  host?: string;
  /**
   * Passed to `attachRelay` (e.g. `log: () => {}` to silence it in tests, `agentAuth: 'dev'` to have the
   * relay issue agent tokens at /dev/agent-token); the path is always '/relay'.
   */
  relay?: Omit<RelayOptions, 'path'>;
}

export interface DemoServer {
  /** Base URL, e.g. `http://127.0.0.1:8080` (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions = {}): Promise<DemoServer> {
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const port = options.port ?? parsePort(process.env.PORT) ?? 8080;

  let relay: Relay | undefined;
  const server = http.createServer((req, res) => {
    handle(req, res, relay).catch((err: unknown) => {
      console.error('[demo] request failed:', err);
      if (!res.headersSent) send(res, 500, 'Internal server error');
      else res.destroy();
    });
  });
  // Listening first tells the port (0 picks one), which the relay's asset proxy needs: see demoAssets.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  try {
    relay = attachRelay(server, { ...options.relay, path: RELAY_PATH, assets: demoAssets(options.relay?.assets, host, actualPort) });
  } catch (err) {
    server.close();
    throw err;
  }
  // The relay answers upgrades on its path only; refuse the rest instead of leaving them hanging.
  refuseOtherUpgrades(server, RELAY_PATH);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    close() {
      closing ??= (async () => {
        await relay?.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

/**
 * The demo serves its customer page from the relay's own origin, on loopback: the asset proxy refuses
 * both unless listed, so the demo lists its own origins (and any the caller lists).
 */
function demoAssets(assets: RelayOptions['assets'], host: string, port: number): RelayOptions['assets'] {
  if (assets === false) return false;
  const own = [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  if (!['127.0.0.1', 'localhost', '0.0.0.0', '::'].includes(host)) own.push(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  return { ...assets, origins: [...own, ...(assets?.origins ?? [])] };
}

function refuseOtherUpgrades(server: http.Server, relayPath: string): void {
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    if (req.url?.split('?')[0] !== relayPath) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, relay: Relay | undefined): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'Method not allowed');
  }

  let url: URL;
  let pathname: string;
  try {
    url = new URL(req.url ?? '/', 'http://demo.invalid');
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, 'Bad request');
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 400, 'Bad request');

  // Routes.
  if (pathname === '/' || pathname === '/index.html') {
    return serveFile(req, res, path.join(DEMO_DIR, 'customer', 'index.html'));
  }
  if (pathname === '/agent') {
    res.writeHead(301, { Location: '/agent/' + url.search, 'Cache-Control': 'no-store' });
    return void res.end();
  }
  if (pathname === '/agent/' || pathname === '/agent/index.html') {
    return serveFile(req, res, path.join(DEMO_DIR, 'agent', 'index.html'));
  }
  // The agent's mirror loads the customer page's assets through the relay's asset proxy.
  if (pathname === DEFAULT_ASSET_PATH && relay?.handleHttp(req, res)) return;
  // In dev mode the relay hands out agent tokens here (agent/index.html fetches one); a 404 otherwise.
  if (pathname === '/dev/agent-token') {
    if (req.method === 'GET' && relay?.handleHttp(req, res)) return;
    return send(res, 404, 'Not found');
  }
  if (pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    const body = JSON.stringify({ ok: true, sessions: relay?.sessionCount ?? 0, sockets: relay?.socketCount ?? 0 });
    return void res.end(req.method === 'HEAD' ? undefined : body + '\n');
  }

  // Static files: /dist/* from the build, everything else from demo/.
  const [base, rest] = pathname.startsWith('/dist/') ? [DIST_DIR, pathname.slice('/dist/'.length)] : [DEMO_DIR, pathname];
  const segments = rest.split('/').filter(Boolean);
  if (segments.length === 0) return send(res, 404, 'Not found');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return send(res, 403, 'Forbidden');
  const file = path.resolve(base, ...segments);
  if (!file.startsWith(base + path.sep)) return send(res, 403, 'Forbidden');
  // Only asset types we know; in demo/ that keeps server.ts and friends private.
  if (!(path.extname(file).toLowerCase() in CONTENT_TYPES)) return send(res, 404, 'Not found');
  return serveFile(req, res, file);
}

async function serveFile(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return send(res, 404, 'Not found');
    size = info.size;
  } catch {
    return send(res, 404, 'Not found');
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': size,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

function send(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(message + '\n');
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${value}"`);
  }
  return port;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return import.meta.url === pathToFileURL(entry).href;
  }
}

async function main(): Promise<void> {
  let demo: DemoServer;
  try {
    // The demo needs no setup: the relay issues agent tokens itself (and says so in its log).
    demo = await startDemo({ relay: { agentAuth: 'dev' } });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(`Port ${process.env.PORT ?? 8080} is already in use. Try: PORT=8081 npm start`);
    } else {
      console.error('Could not start the demo:', e.message ?? e);
    }
    process.exit(1);
  }

  const host = process.env.HOST ?? '127.0.0.1';
  const shown = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host) ? `http://localhost:${demo.port}` : demo.url;
  const wsBase = shown.replace(/^http/, 'ws');
  console.log('');
  console.log('  Cobrowse demo is running');
  console.log('');
  console.log(`  Customer page:  ${shown}/`);
  console.log(`  Agent console:  ${shown}/agent/`);
  console.log(`  Relay:          ${wsBase}/relay`);
  console.log('');
  console.log('  Open the customer page, click the launcher, then type its 9-digit ID in the agent console.');
  console.log('  Press Ctrl+C to stop.');
  console.log('');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log('Forcing exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal} received, shutting down…`);
    const timer = setTimeout(() => {
      console.error('Shutdown took too long; exiting.');
      process.exit(1);
    }, 5000);
    timer.unref();
    demo.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('Error while shutting down:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (isMain()) void main();
