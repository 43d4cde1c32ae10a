import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { connectionConfigOf, requireConnection } from '../../connections/connections.ts';
import { completeConsent, requireServiceApp, startConsent, verifyPermissions } from '../../connections/consent.ts';
import { describeError } from '../../core/errors.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { actorOf } from '../auth.ts';
import { idParam } from '../schemas.ts';
import { json, out, problems } from './common.ts';

// Connecting a tenant by admin consent, and checking a connection's permissions live.

const consentStart = z
  .object({
    name: z.string({
      error: (i) => (i.input === undefined ? 'name is required: name the connection' : 'name must be a string'),
    }),
    tenant: z.string().optional().describe("the tenant's id or domain; left out, the admin's sign-in picks it"),
  })
  .strict()
  .openapi('ConsentStart');
const consentLink = z
  .object({
    url: z.string().describe("send the admin's browser here"),
    redirectUri: z.string().describe('where Entra sends the browser back; register it on the app registration'),
    expiresAt: z.string(),
  })
  .openapi('ConsentLink');
const verification = z
  .object({
    ok: z.boolean(),
    tenantId: z.string(),
    permissions: z.array(z.object({ permission: z.string(), granted: z.boolean() })),
    hint: z.string().nullable(),
  })
  .openapi('Verification');

export const CONSENT_CALLBACK = '/api/v1/consent/callback';

function publicUrl(c: Context): string {
  return (process.env.USERSYNC_PUBLIC_URL?.trim() || new URL(c.req.url).origin).replace(/\/+$/, '');
}

/** The callback Entra sends the browser to: open (the sealed state authorizes it), registered before sign-in is required. */
export function consentCallbackRoute(app: Api, deps: ServiceDeps): void {
  app.get(CONSENT_CALLBACK, async (c) => {
    const base = publicUrl(c);
    try {
      const view = await completeConsent(
        deps.store,
        deps.box,
        requireServiceApp(deps.app),
        new URL(c.req.url).searchParams,
        (config) => deps.graphFor(config, deps.logger),
      );
      return c.redirect(`${base}/?connected=${encodeURIComponent(view.id)}`, 303);
    } catch (error) {
      const d = describeError(error);
      deps.logger.warn({ error: d }, 'admin consent did not complete');
      const to = new URL(`${base}/`);
      to.searchParams.set('consentError', d.message);
      if (d.hint) to.searchParams.set('hint', d.hint);
      return c.redirect(to.toString(), 303);
    }
  });
}

export function consentRoutes(app: Api, deps: ServiceDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/consent',
      tags: ['connections'],
      summary: "Connect a tenant by admin consent: the link to the tenant's consent page",
      description: `Entra sends the browser back to ${CONSENT_CALLBACK}, which verifies the grant with Graph, records the connection and redirects to /?connected=ID (or /?consentError=…&hint=…).`,
      request: { body: { content: { 'application/json': { schema: consentStart } }, required: true } },
      responses: { 200: json(consentLink, 'the consent link'), ...problems },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const redirectUri = `${publicUrl(c)}${CONSENT_CALLBACK}`;
      const started = startConsent(requireServiceApp(deps.app), deps.box, { ...body, redirectUri, actor: actorOf(c) });
      return c.json(out(consentLink, { ...started, redirectUri }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/verify',
      tags: ['connections'],
      summary: 'Check the connection live: a token from Entra, and each Graph permission a sync needs',
      request: { params: idParam },
      responses: { 200: json(verification, 'what is granted'), ...problems },
    }),
    async (c) => {
      const row = await requireConnection(deps.store, c.req.valid('param').id);
      const http = deps.graphFor(connectionConfigOf(row, deps.box, deps.app), deps.logger);
      const permissions = await verifyPermissions(http);
      const missing = permissions.filter((p) => !p.granted).map((p) => p.permission);
      return c.json(
        out(verification, {
          ok: missing.length === 0,
          tenantId: row.tenant_id,
          permissions,
          hint:
            missing.length === 0
              ? null
              : `grant ${missing.join(', ')} (Microsoft Graph, application permissions) to the app registration, then grant admin consent again`,
        }),
        200,
      );
    },
  );
}
