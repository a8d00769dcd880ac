/** A loopback HTTP server for the benchmark's pages, fixtures and bundles. */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR } from './build.js';
import { generatedPage, heapPage, mirrorPage, stormPage, STYLESHEET } from './pages.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mutation-bench/', import.meta.url));
/** A 1×1 transparent PNG for every /img/*.png. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
const LIBS = new Set(['ours', 'rrweb', 'none']);

const scriptTag = (lib) => (LIBS.has(lib) ? `<script src="/build/${lib}.js"></script>` : '');

async function route(url) {
  const lib = url.searchParams.get('lib') ?? '';
  const script = scriptTag(lib);
  const html = (body) => ({ type: 'text/html; charset=utf-8', body });
  const path = url.pathname;
  let m;
  if ((m = /^\/build\/(ours|rrweb|none)\.js(\.map)?$/.exec(path))) {
    return { type: m[2] ? 'application/json' : 'text/javascript', body: await readFile(`${BUILD_DIR}${m[1]}.js${m[2] ?? ''}`) };
  }
  if ((m = /^\/workload\/([\w-]+\.html)$/.exec(path))) {
    // The fixture as rrweb's benchmark has it, with the engine's bundle first in <head>.
    const page = await readFile(`${FIXTURES}${m[1]}`, 'utf8');
    return html(page.replace(/<html>/i, `<html><head>${script}</head>`));
  }
  if ((m = /^\/generated\/(\d+)\.html$/.exec(path))) return html(generatedPage(Number(m[1]), script));
  if (path === '/storm.html') return html(stormPage(script));
  if (path === '/heap.html') return html(heapPage(script));
  if (path === '/mirror.html') return html(mirrorPage(script));
  if (path === '/style.css') return { type: 'text/css', body: STYLESHEET, cache: true };
  if (/^\/img\/\d+\.png$/.test(path)) return { type: 'image/png', body: PNG, cache: true };
  if (path === '/favicon.ico') return { status: 204 };
  return { status: 404, type: 'text/plain', body: 'not found' };
}

/** Starts the server on 127.0.0.1 (a free port); resolves with its origin and a close(). */
export function serve() {
  const server = createServer((req, res) => {
    route(new URL(req.url, 'http://localhost')).then(
      ({ status = 200, type, body, cache }) => {
        const headers = { 'cache-control': cache ? 'max-age=3600' : 'no-store' };
        if (type) headers['content-type'] = type;
        res.writeHead(status, headers);
        res.end(body);
      },
      (error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      },
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}
