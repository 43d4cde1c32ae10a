import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  loadConnectionConfig,
  type ClientCredential,
  type ConnectionConfig,
  type Env,
} from '../config/env.ts';
import { UsersyncError } from '../core/errors.ts';
import type { GraphHttp } from '../entra/http.ts';
import type { SecretBox } from '../secrets/box.ts';
import {
  insertConnection,
  listConnections,
  recordAdminAction,
  updateConnection,
  type ConnectionRow,
  type Store,
} from '../store/index.ts';
import { DEFAULT_SCHEDULE } from '../jobs/schedule.ts';
import { slugOf, viewOf, type ConnectionView } from './connections.ts';

// Connecting a tenant by admin consent (the seeds' "Sign in with Microsoft" onboarding): usersync's own multi-tenant app
// registration (USERSYNC_APP_CLIENT_ID with its secret or certificate) is consented to by an admin of the tenant at
// Entra's /adminconsent endpoint; Entra sends the browser back with the tenant; the callback checks the grant by
// calling Graph with the app's token for that tenant, and records the connection. The `tenant` Entra returns is not
// trusted on its own: only a token issued for it and Graph answering prove the consent.

/** The Graph permissions a sync needs, each with a request that needs it. */
export const REQUIRED_PERMISSIONS = ['User.Read.All', 'GroupMember.Read.All', 'ProfilePhoto.Read.All'] as const;

export interface ServiceApp {
  clientId: string;
  credential: ClientCredential;
  authorityHost: string;
  graphUrl: string;
}

/** usersync's own app registration for admin consent, from the environment; null when it is not configured. */
export function serviceApp(env: Env = process.env): ServiceApp | null {
  if (!env.USERSYNC_APP_CLIENT_ID?.trim()) return null;
  try {
    const config = loadConnectionConfig({
      AZURE_TENANT_ID: 'organizations.example.com',
      AZURE_CLIENT_ID: env.USERSYNC_APP_CLIENT_ID,
      AZURE_CLIENT_SECRET: env.USERSYNC_APP_CLIENT_SECRET,
      AZURE_CLIENT_CERTIFICATE_PATH: env.USERSYNC_APP_CLIENT_CERTIFICATE_PATH,
      AZURE_CLIENT_CERTIFICATE_PASSWORD: env.USERSYNC_APP_CLIENT_CERTIFICATE_PASSWORD,
      AZURE_AUTHORITY_HOST: env.AZURE_AUTHORITY_HOST,
      USERSYNC_GRAPH_URL: env.USERSYNC_GRAPH_URL,
    });
    return {
      clientId: config.clientId,
      credential: config.credential,
      authorityHost: config.authorityHost,
      graphUrl: config.graphUrl,
    };
  } catch (error) {
    if (error instanceof ConfigError) {
      const variable = error.variable.replace(/^AZURE_CLIENT/, 'USERSYNC_APP_CLIENT');
      throw new ConfigError(variable, error.message.replace(/AZURE_CLIENT/g, 'USERSYNC_APP_CLIENT'));
    }
    throw error;
  }
}

export function requireServiceApp(app: ServiceApp | null): ServiceApp {
  if (!app)
    throw new UsersyncError(
      'consent_not_configured',
      "connecting by admin consent needs usersync's own app registration",
      {
        hint: "register a multi-tenant app in Entra (application permissions User.Read.All, GroupMember.Read.All, ProfilePhoto.Read.All), then start usersync with USERSYNC_APP_CLIENT_ID and USERSYNC_APP_CLIENT_SECRET (or USERSYNC_APP_CLIENT_CERTIFICATE_PATH); or connect with the tenant's own app credentials instead",
        context: { field: 'USERSYNC_APP_CLIENT_ID' },
      },
    );
  return app;
}

/** The config of a tenant read with the service's app. */
export function consentConfig(app: ServiceApp, tenantId: string): ConnectionConfig {
  return {
    tenantId,
    clientId: app.clientId,
    credential: app.credential,
    authorityHost: app.authorityHost,
    graphUrl: app.graphUrl,
    warnings: [],
  };
}

interface ConsentState {
  name: string;
  actor: string;
  expiresAt: number;
  nonce: string;
}

const STATE_PLACE = 'admin-consent-state';
const STATE_MINUTES = 30;

/** Where to send the admin's browser: the tenant's (or `organizations`') admin-consent page, with a sealed state. */
export function startConsent(
  app: ServiceApp,
  box: SecretBox,
  input: { name: string; tenant?: string; redirectUri: string; actor: string },
  now = Date.now(),
): { url: string; expiresAt: string } {
  const name = input.name.trim();
  if (!name || name.length > 100)
    throw new UsersyncError('invalid_field', 'name must be 1 to 100 characters', { context: { field: 'name' } });
  const state: ConsentState = {
    name,
    actor: input.actor,
    expiresAt: now + STATE_MINUTES * 60_000,
    nonce: randomBytes(8).toString('hex'),
  };
  const url = new URL(
    `${app.authorityHost}/${encodeURIComponent(input.tenant?.trim() || 'organizations')}/adminconsent`,
  );
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', box.seal(JSON.stringify(state), STATE_PLACE));
  return { url: url.toString(), expiresAt: new Date(state.expiresAt).toISOString() };
}

export interface PermissionCheck {
  permission: string;
  granted: boolean;
}

/** Checks the permissions a sync needs by calling Graph with the connection's token (403 = not granted). */
export async function verifyPermissions(http: GraphHttp): Promise<PermissionCheck[]> {
  const probe = async (path: string) => {
    const response = await http.get(path, { allow: [403, 404] });
    return response.status !== 403;
  };
  const users = await http.get('/users?$top=1&$select=id', { allow: [403] });
  const someone = users.status === 403 ? null : ((users.json() as { value: { id: string }[] }).value[0]?.id ?? null);
  const groups = await http.get('/groups?$top=1&$select=id', { allow: [403] });
  const group = groups.status === 403 ? null : ((groups.json() as { value: { id: string }[] }).value[0]?.id ?? null);
  return [
    { permission: 'User.Read.All', granted: users.status !== 403 },
    {
      permission: 'GroupMember.Read.All',
      granted: groups.status !== 403 && (group === null || (await probe(`/groups/${group}/members?$top=1&$select=id`))),
    },
    { permission: 'ProfilePhoto.Read.All', granted: someone === null || (await probe(`/users/${someone}/photo`)) },
  ];
}

export function missingPermissionsError(checks: PermissionCheck[], tenantId: string): UsersyncError {
  const missing = checks.filter((c) => !c.granted).map((c) => c.permission);
  return new UsersyncError('permissions_missing', `the app lacks ${missing.join(', ')} in tenant ${tenantId}`, {
    hint: `grant the application permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')} to the app registration (API permissions → Add → Microsoft Graph → Application permissions), then grant admin consent again`,
    context: { tenantId, missing },
  });
}

/**
 * The browser is back from /adminconsent: checks the state and Entra's answer, verifies the grant with Graph and
 * records the connection (or updates the one already made for this tenant by consent). Errors name what to do.
 */
export async function completeConsent(
  store: Store,
  box: SecretBox,
  app: ServiceApp,
  query: URLSearchParams,
  graphFor: (config: ConnectionConfig) => GraphHttp,
  now = Date.now(),
): Promise<ConnectionView> {
  let state: ConsentState;
  try {
    state = JSON.parse(box.open(query.get('state') ?? '', STATE_PLACE)) as ConsentState;
  } catch {
    throw new UsersyncError('consent_state', 'this consent answer does not belong to a consent usersync started', {
      hint: 'start again from Connect a tenant; the link works once, for 30 minutes',
      context: { field: 'state' },
    });
  }
  if (state.expiresAt < now)
    throw new UsersyncError('consent_state', 'the consent took longer than 30 minutes and expired', {
      hint: 'start again from Connect a tenant',
      context: { field: 'state' },
    });
  const error = query.get('error');
  if (error) {
    const description = query.get('error_description') ?? '';
    throw new UsersyncError(
      'consent_declined',
      error === 'access_denied' || error === 'permission_denied' || /cancel/i.test(description)
        ? 'the admin did not grant consent'
        : `Entra refused the consent: ${error}${description ? ` (${description})` : ''}`,
      {
        hint: "sign in as a Global Administrator (or Privileged Role Administrator) of the tenant and accept the permissions, or connect with the tenant's own app credentials",
        context: { error },
      },
    );
  }
  const tenantId = query.get('tenant') ?? '';
  if (query.get('admin_consent')?.toLowerCase() !== 'true' || !/^[0-9a-f-]{36}$/i.test(tenantId))
    throw new UsersyncError('consent_declined', "Entra's answer does not say that consent was granted", {
      hint: 'start again from Connect a tenant',
    });
  const config = consentConfig(app, tenantId.toLowerCase());
  const checks = await verifyPermissions(graphFor(config));
  if (checks.some((c) => !c.granted)) throw missingPermissionsError(checks, config.tenantId);

  const at = new Date(now).toISOString();
  const existing = (await listConnections(store.db)).find(
    (c) => c.credential_kind === 'consent' && c.tenant_id === config.tenantId,
  );
  if (existing) {
    await updateConnection(store.db, existing.id, {
      client_id: app.clientId,
      credential_info: JSON.stringify({ consentedAt: at, consentedBy: state.actor }),
    });
    await recordAdminAction(store.db, {
      actor: state.actor,
      action: 'connection.reconsented',
      connectionId: existing.id,
      target: config.tenantId,
    });
    return viewOf({ ...existing, credential_info: JSON.stringify({ consentedAt: at, consentedBy: state.actor }) });
  }
  const base = slugOf(state.name);
  const taken = new Set((await listConnections(store.db)).map((c) => c.id));
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  const row: ConnectionRow = {
    setup: null,
    id,
    name: state.name,
    tenant_id: config.tenantId,
    client_id: app.clientId,
    credential_kind: 'consent',
    credential: '',
    credential_info: JSON.stringify({ consentedAt: at, consentedBy: state.actor }),
    authority_host: app.authorityHost,
    graph_url: app.graphUrl,
    schedule: JSON.stringify(DEFAULT_SCHEDULE),
    next_run_at: null,
    created_at: at,
    created_by: state.actor,
    updated_at: at,
  };
  await insertConnection(store.db, row);
  await recordAdminAction(store.db, {
    actor: state.actor,
    action: 'connection.created',
    connectionId: id,
    target: state.name,
    detail: { by: 'admin consent', tenantId: config.tenantId },
  });
  return viewOf(row);
}
