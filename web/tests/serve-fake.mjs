// Serves web/ on 127.0.0.1 with /pkg/ answered from tests/fake-pkg/, for UI work without the Rust build.
// Usage: node web/tests/serve-fake.mjs [PORT]   (default 8099), then open http://127.0.0.1:PORT/
// With the real bundle, use `cargo xtask web` instead.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const tests = dirname(fileURLToPath(import.meta.url));
const web = dirname(tests);
const port = Number(process.argv[2] ?? 8099);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

createServer(async (req, res) => {
  let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path.endsWith('/')) path += 'index.html';
  const rel = normalize(path).replace(/^[/\\]+/, '');
  if (rel.split(sep).includes('..')) return send(res, 403, 'forbidden');
  const file = rel.startsWith(`pkg${sep}`) ? join(tests, 'fake-pkg', rel.slice(4)) : join(web, rel);
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(body);
  } catch {
    send(res, 404, 'not found');
  }
}).listen(port, '127.0.0.1', () => console.log(`serving web/ with the fake simulator on http://127.0.0.1:${port}/`));

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
}
