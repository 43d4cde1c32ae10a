import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from 'hono';

// The interactive API reference at /api/docs: Swagger UI served from the installed package (no CDN: the service works
// offline), reading /api/openapi.json.

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

let folder: string | undefined;
function assetFolder(): string {
  folder ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return folder;
}

export function docsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>usersync API reference</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script>
</body>
</html>`;
}

const INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#reference', deepLinking: true, withCredentials: true,
  requestInterceptor: (req) => { const t = sessionStorage.getItem('usersync.csrf'); if (t) req.headers['X-CSRF-Token'] = t; return req; } });`;

docsPage.asset = (c: Context, file: string): Response => {
  if (file === 'init.js') return c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' });
  const type = ASSETS[file];
  if (!type) return c.text('not found', 404);
  return c.body(readFileSync(join(assetFolder(), file)), 200, {
    'content-type': type,
    'cache-control': 'public, max-age=86400',
  });
};
