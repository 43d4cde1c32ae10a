import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

// The admin console (web/, built into web/dist by `npm install`'s prepare step) served at /: its files, and
// index.html for every other path outside /api, so the console's own routes work on reload.

const DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>usersync</title></head><body><main>
<h1>usersync</h1><p>The service is running, but the console is not built: run <code>npm run build</code> (npm install does it).
The API reference is at <a href="/api/docs">/api/docs</a>.</p></main></body></html>`;

export function serveConsole(c: Context): Response {
  const path = decodeURIComponent(new URL(c.req.url).pathname);
  const file = normalize(join(DIST, path));
  if (file.startsWith(DIST) && path !== '/' && existsSync(file) && !file.endsWith('/')) {
    return c.body(readFileSync(file), 200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      // Built assets carry a content hash in their names.
      'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  const index = join(DIST, 'index.html');
  return c.html(existsSync(index) ? readFileSync(index, 'utf8') : NOT_BUILT, 200, { 'cache-control': 'no-cache' });
}
