// A static server for one example folder: `node examples/serve.mjs react [port]` → http://127.0.0.1:5173/
// The examples are customer pages; the relay runs elsewhere (`npm start` serves one at ws://localhost:8080/relay).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** Serves `root` on host:port (0 picks a free port); resolves to { url, close }. */
export async function serveExample(root, { port = 0, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    // Nothing outside the example's folder, whatever the request says.
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    url: `http://${host}:${server.address().port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name = 'plain-html', port = '5173'] = process.argv.slice(2);
  const { url } = await serveExample(path.join(path.dirname(fileURLToPath(import.meta.url)), name), { port: Number(port) });
  console.log(`examples/${name} on ${url}?relay=ws://localhost:8080/relay`);
}
