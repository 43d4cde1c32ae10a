import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/env.ts';
import type { ServiceApp } from '../connections/consent.ts';
import type { MicrosoftSignIn } from '../admins/microsoft.ts';
import type { GraphHttp } from '../entra/http.ts';
import type { Runner } from '../jobs/runner.ts';
import type { SecretBox } from '../secrets/box.ts';
import { settingsJsonSchema } from '../core/settings.ts';
import { checkStore, type Store } from '../store/index.ts';
import { requireAuth, type AuthEnv } from './auth.ts';
import { serveConsole } from './console.ts';
import { docsPage } from './docs.ts';
import type { Metrics } from './metrics.ts';
import { fieldsOf, ApiError, sendProblem } from './problem.ts';
import { adminRoutes } from './routes/admin.ts';
import { authRoutes } from './routes/auth.ts';
import { connectionRoutes } from './routes/connections.ts';
import { consentCallbackRoute, consentRoutes } from './routes/consent.ts';
import { directoryRoutes } from './routes/directory.ts';
import { runRoutes } from './routes/runs.ts';
import { setupRoutes } from './routes/setup.ts';
import { toolRoutes } from './routes/tools.ts';

// The service's HTTP surface: /api/v1 (every route validated by zod, documented by the same schemas at
// /api/openapi.json and /api/docs), health and readiness, metrics. Routes are thin: validate, call a library, respond.

export interface ServiceDeps {
  store: Store;
  box: SecretBox;
  /** usersync's own app registration for admin consent (USERSYNC_APP_CLIENT_ID); null when not configured. */
  app: ServiceApp | null;
  /** Sign in with Microsoft for admins (USERSYNC_ADMIN_TENANTS); null when not configured. */
  microsoft: MicrosoftSignIn | null;
  runner: Runner;
  graphFor: (config: ConnectionConfig, logger: Logger) => GraphHttp;
  logger: Logger;
  metrics: Metrics;
  /** Whether the service is ready (the store migrated, the scheduler started). */
  ready: () => boolean;
}

export type Api = OpenAPIHono<AuthEnv>;

export function newApi(): Api {
  return new OpenAPIHono<AuthEnv>({
    // Invalid requests: 400 problem+json naming every field at fault.
    defaultHook: (result, c) => {
      if (!result.success) {
        const target = (result as { target?: string }).target ?? 'request';
        const errors = fieldsOf(result.error.issues, target);
        return sendProblem(
          c,
          new ApiError(
            400,
            'invalid_request',
            `the request is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
            {
              errors,
              hint: 'fix the fields listed in errors and send it again',
            },
          ),
        );
      }
    },
  });
}

export function createApp(deps: ServiceDeps): OpenAPIHono<AuthEnv> {
  const app = newApi();
  app.onError((error, c) => {
    const problem = sendProblem(c, error);
    if (problem.status >= 500) deps.logger.error({ err: error, path: c.req.path }, 'request failed');
    return problem;
  });
  app.notFound((c) =>
    sendProblem(
      c,
      new ApiError(404, 'not_found', `there is no ${c.req.method} ${c.req.path}`, {
        hint: 'the routes are listed in /api/openapi.json (readable at /api/docs)',
      }),
    ),
  );
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    deps.metrics.httpRequest(c.req.method, c.req.routePath ?? c.req.path, c.res.status, performance.now() - started);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await checkStore(deps.store);
    } catch (error) {
      return c.json({ status: 'unavailable', reason: (error as Error).message }, 503);
    }
    return deps.ready() ? c.json({ status: 'ready' }) : c.json({ status: 'starting' }, 503);
  });
  app.get('/metrics', async (c) => {
    await deps.metrics.refresh(deps.store, deps.runner);
    return c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType });
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API token from `usersync token create`',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'usersync_session',
    description: 'the console session (POST /api/v1/auth/sign-in); writes also need X-CSRF-Token',
  });
  const documentConfig = {
    openapi: '3.1.0' as const,
    info: {
      title: 'usersync API',
      version: '1',
      description:
        "Keeps an application's user directory in step with Microsoft Entra ID. Every route under /api/v1 needs an API token (Authorization: Bearer) or an admin session; errors are application/problem+json.",
    },
    security: [{ bearer: [] }, { session: [] }] as Record<string, string[]>[],
  };
  app.get('/api/openapi.json', (c) => {
    const document = app.getOpenAPI31Document(documentConfig);
    // The settings document's own JSON Schema (the one docs/settings.schema.json holds), not a bare object.
    const { $schema: _, ...settings } = settingsJsonSchema() as Record<string, unknown>;
    const schemas = document.components?.schemas as Record<string, unknown> | undefined;
    if (schemas) schemas.Settings = { ...settings, description: 'the settings document (docs/settings.md)' };
    return c.json(document);
  });
  app.get('/api/docs', (c) => c.html(docsPage()));
  app.get('/api/docs/assets/:file', (c) => docsPage.asset(c, c.req.param('file')));

  // Signing in is the one part of /api/v1 open to everyone.
  authRoutes(app, deps);
  consentCallbackRoute(app, deps);
  app.use('/api/v1/*', requireAuth(deps.store));
  consentRoutes(app, deps);
  connectionRoutes(app, deps);
  runRoutes(app, deps);
  directoryRoutes(app, deps);
  toolRoutes(app, deps);
  setupRoutes(app, deps);
  adminRoutes(app, deps);
  // Everything else is the console (its own routes fall back to index.html); unknown /api paths stay 404 problems.
  app.get('*', (c, next) => (c.req.path.startsWith('/api/') ? next() : serveConsole(c)));
  return app;
}
