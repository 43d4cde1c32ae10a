import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import {
  aadErrorBody,
  createAuthRoutes,
  createTokenSigner,
  verifyAccessToken,
  type EmulatorApp,
  type EmulatorTenantAuth,
  type ConsentDecision,
} from './auth/index.ts';
import { createControl, createControlApp } from './control.ts';
import { createFaults } from './faults.ts';
import { handleBatch } from './graph/batch.ts';
import { graphError, throttled, unavailable, withClientRequestId, type GraphResult } from './graph/respond.ts';
import { handleGraph, type GraphContext, type GraphRequest } from './graph/routes.ts';
import { resourceUnits } from './graph/resource-units.ts';
import { createRequestLog } from './request-log.ts';
import { createTenant, type TenantOptions } from './tenant/tenant.ts';
import type { GraphUser } from './tenant/types.ts';
import type { SignInUser } from './auth/sign-in.ts';
import { objectId } from './tenant/ids.ts';
import { generateTls, type TlsMaterial } from './tls.ts';

export const DEFAULT_ROLES = ['User.Read.All', 'GroupMember.Read.All', 'ProfilePhoto.Read.All'];
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface EmulatorOptions extends TenantOptions {
  port?: number;
  host?: string;
  /** Certificate material; generated (CA + server certificate for 127.0.0.1/localhost) when absent. */
  tls?: TlsMaterial;
  /** Where to write the CA certificate; a fresh temporary folder when absent. */
  caPath?: string;
  /** Application permissions granted to the demo app (token `roles`). */
  roles?: string[];
  clientSecret?: string;
  deltaPageSize?: number;
  deltaMembersPerPage?: number;
  deltaTokenLifetimeMs?: number;
  tokenLifetimeSeconds?: number;
  /**
   * More tenants served beside the first (the service bench: many connections): each generated like the first with the
   * seed `<seed>-<k>` and its own tenant id, consented to the same app. Graph serves the tenant of the token; they are
   * addressed by tenant id. Listed as `emulator.extraTenants`.
   */
  extraTenants?: number;
  /**
   * The address clients reach the emulator at, when it is not the one it listens on (in a container listening on
   * 0.0.0.0: `https://localhost:8443`). Every URL it hands out (authority host, Graph, next and delta links) uses it.
   */
  publicUrl?: string;
}

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/** Starts the emulated tenant over HTTPS; the returned handle has the connection values, the control API and stop(). */
export async function startEmulator(options: EmulatorOptions = {}) {
  const now = options.now ?? Date.now;
  const tenant = createTenant({ ...options, now });
  const spec = tenant.spec;
  const [tls, signer] = await Promise.all([
    options.tls ? Promise.resolve(options.tls) : generateTls(),
    createTokenSigner(),
  ]);
  // The CA file lives in a temporary folder of our own unless the caller chose a path; stop() removes that folder.
  const tempDir = options.caPath ? null : mkdtempSync(join(tmpdir(), 'usersync-emulator-'));
  const caPath = options.caPath ?? join(tempDir!, 'ca.pem');
  writeFileSync(caPath, tls.caPem);

  const clientId = objectId(spec.seed, 'app', 1);
  const clientSecret =
    options.clientSecret ??
    `emu~${createHash('sha256').update(`secret/${spec.seed}`).digest('base64url').slice(0, 32)}`;
  const app: EmulatorApp = {
    clientId,
    displayName: 'usersync (emulated)',
    secrets: [{ value: clientSecret }],
    certificates: [],
    roles: options.roles ?? [...DEFAULT_ROLES],
  };
  const authTenants: EmulatorTenantAuth[] = [
    { tenantId: spec.tenantId, domains: [spec.domain, spec.initialDomain], apps: [app] },
  ];
  const extraTenants = Array.from({ length: options.extraTenants ?? 0 }, (_, k) =>
    createTenant({ ...options, now, seed: `${options.seed ?? 'usersync'}-${k + 1}` }),
  );
  for (const t of extraTenants) authTenants.push({ tenantId: t.spec.tenantId, domains: [], apps: [app] });

  const faults = createFaults(spec.seed);
  // Admin consent: what the admin clicks when a program (not a browser) asks, and the permissions consent grants.
  const consent: { decision: ConsentDecision; roles: string[] } = { decision: 'approve', roles: [...DEFAULT_ROLES] };
  // App roles assigned to users (user id → role values): the ID tokens of users signing in to apps carry them.
  const appRoleAssignments = new Map<string, string[]>();
  const requests = createRequestLog();
  let origin = '';
  const graph: GraphContext = {
    tenant,
    get graphBase() {
      return origin;
    },
    delta: {
      pageSize: options.deltaPageSize ?? 200,
      membersPerPage: options.deltaMembersPerPage ?? 1000,
      tokenLifetimeMs: options.deltaTokenLifetimeMs ?? 7 * 24 * 3600 * 1000,
      now,
      generation: () => faults.deltaGeneration,
    },
    hideUsers: () => faults.hideUsers(),
  };
  // Graph serves the tenant the token was issued for.
  const graphs = new Map<string, GraphContext>([[spec.tenantId, graph]]);
  for (const t of extraTenants)
    graphs.set(t.spec.tenantId, {
      tenant: t,
      get graphBase() {
        return origin;
      },
      delta: graph.delta,
      hideUsers: () => false,
    });

  const root = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
  const info = () => ({
    authorityHost: origin,
    graphUrl: origin,
    tenantId: spec.tenantId,
    clientId,
    domain: spec.domain,
    users: tenant.userCount(),
    groups: tenant.groupCount(),
    seq: tenant.seq,
  });
  const controlDeps = {
    consent,
    tenant: () => tenant,
    faults,
    requestLog: requests,
    info,
    apps: {
      setRoles: (id: string, roles: string[]) => {
        appById(authTenants, id).roles = roles;
      },
      addCertificate: (id: string, pem: string) => {
        appById(authTenants, id).certificates.push({ pem });
      },
    },
  };
  // Token-service requests are counted here; Graph requests are counted by their handler.
  root.use('*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/v1.0') && !c.req.path.startsWith('/_emulator')) {
      requests.record({
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: 0,
        inBatch: false,
        throttled: false,
      });
    }
  });
  const control = createControl(controlDeps);
  root.route('/_emulator', createControlApp(controlDeps, control));

  // Token-endpoint throttling (fault switch tokenThrottleRatio); MSAL then refuses identical requests until Retry-After passes.
  root.post('/:tenant/oauth2/v2.0/token', async (c, next) => {
    const decision = faults.decideToken();
    if (decision.kind === 'none') return next();
    const body = aadErrorBody(
      {
        status: 400,
        error: 'temporarily_unavailable',
        code: 50196,
        message:
          'The server terminated an operation because it encountered a client request loop or too many requests. Please retry after the time in the Retry-After header.',
      },
      { now: now(), traceId: randomUUID(), correlationId: randomUUID(), baseUrl: origin },
    );
    return c.json(body, 429, { 'Retry-After': String(decision.retryAfter), 'Cache-Control': 'no-store, no-cache' });
  });

  root.all('/v1.0/*', async (c) => {
    const started = performance.now();
    const path = c.req.path.slice('/v1.0'.length) || '/';
    const decided = faults.decide({ path, method: c.req.method, inBatch: false });
    // A $batch is throttled item by item (each item's 429 or 503 in the responses); the batch itself answers 200.
    const fault =
      path === '/$batch' && (decided.kind === 'throttle' || decided.kind === 'unavailable')
        ? ({ kind: 'none' } as const)
        : decided;
    if (fault.kind === 'reset') {
      requests.record({
        method: c.req.method,
        path: c.req.path,
        status: 0,
        durationMs: 0,
        inBatch: false,
        throttled: false,
      });
      c.env.incoming.socket.destroy();
      return new Response(null, { status: 499 });
    }
    if (fault.kind === 'delay') await sleep(fault.ms);
    const requestId = randomUUID();
    const clientRequestId = c.req.header('client-request-id') ?? requestId;
    let result: GraphResult;
    if (fault.kind === 'throttle') result = throttled(fault.retryAfter, requestId);
    else if (fault.kind === 'unavailable') result = unavailable(fault.retryAfter, requestId);
    else result = await serveGraph(c, path, requestId);
    requests.record({
      method: c.req.method,
      path: c.req.path,
      status: result.status,
      durationMs: performance.now() - started,
      inBatch: false,
      throttled: result.status === 429,
    });
    return respond(withClientRequestId(result, clientRequestId), {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-resource-unit': String(resourceUnits(c.req.method, path, new URL(c.req.url).searchParams)),
    });
  });

  async function serveGraph(c: Context, path: string, requestId: string): Promise<GraphResult> {
    // Graph accepts tokens for itself: its well-known URL, its app id, or (for the emulator) its own origin.
    const check = verifyAccessToken(signer, c.req.header('authorization'), now(), {
      audiences: ['https://graph.microsoft.com', 'https://graph.microsoft.com/', GRAPH_APP_ID, origin, `${origin}/`],
    });
    const served = check.ok ? graphs.get(check.tenantId) : undefined;
    if (!check.ok || !served) {
      const message = check.ok ? 'Access token validation failure. Invalid audience.' : check.message;
      return graphError(401, 'InvalidAuthenticationToken', message, requestId, {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${origin}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
      });
    }
    const url = new URL(c.req.url);
    const base = { headers: c.req.raw.headers, requestId, roles: check.roles };
    if (path === '/$batch') {
      if (c.req.method !== 'POST') return graphError(405, 'Request_BadRequest', 'Use POST for $batch.', requestId);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return graphError(400, 'BadRequest', 'The batch body is not valid JSON.', requestId);
      }
      return handleBatch(
        {
          run: (item) => handleGraph(served, item),
          fault: (itemPath) => {
            const decision = faults.decide({ path: itemPath, method: 'GET', inBatch: true });
            const itemResult =
              decision.kind === 'throttle'
                ? throttled(decision.retryAfter)
                : decision.kind === 'unavailable'
                  ? unavailable(decision.retryAfter)
                  : null;
            requests.record({
              method: 'GET',
              path: `/v1.0${itemPath}`,
              status: itemResult?.status ?? 200,
              durationMs: 0,
              inBatch: true,
              throttled: itemResult?.status === 429,
            });
            return itemResult;
          },
          shuffle: (items) => items.reverse(),
        },
        body,
        base,
      );
    }
    const request: GraphRequest = { ...base, method: c.req.method, path, query: url.searchParams };
    return handleGraph(served, request);
  }

  root.route(
    '/',
    createAuthRoutes({
      tenants: () => authTenants,
      baseUrl: () => origin,
      now,
      signer,
      tokenLifetimeSeconds: () => options.tokenLifetimeSeconds ?? 3599,
      consentDecision: () => consent.decision,
      signIn: {
        find: (_tenantId, hint) => {
          const i = tenant.findUser(hint);
          return i === undefined ? undefined : signInUser(tenant.user(i));
        },
        list: (_tenantId, limit) => {
          const users = [];
          for (const i of tenant.liveUsers()) {
            if (users.length >= limit) break;
            users.push(signInUser(tenant.user(i)));
          }
          return users;
        },
        appRoles: (_clientId, userId) => appRoleAssignments.get(userId.toLowerCase()) ?? [],
      },
      onConsent: (grant) => {
        appById(authTenants, grant.clientId).roles = [...consent.roles];
      },
      onRequest: () => {},
    }),
  );

  const server: ServerType = await new Promise((resolve) => {
    const s = serve(
      {
        fetch: root.fetch,
        port: options.port ?? 0,
        hostname: options.host ?? '127.0.0.1',
        createServer,
        serverOptions: { key: tls.keyPem, cert: tls.certPem },
      },
      () => resolve(s),
    );
  });
  const address = server.address() as AddressInfo;
  origin =
    options.publicUrl?.replace(/\/+$/, '') ??
    `https://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    authorityHost: origin,
    graphUrl: origin,
    tenantId: spec.tenantId,
    clientId,
    clientSecret,
    ca: caPath,
    caPem: tls.caPem,
    tenant,
    faults,
    requests,
    control,
    /** The app registration: tests change roles, add certificates or expire secrets here. */
    app,
    authTenants,
    /** Admin consent: set `decision` to 'decline' to have programs' consent requests cancelled; `roles` are what consent grants. */
    consent,
    /** The tenants served beside the first (`extraTenants`). */
    extraTenants,
    /** App roles of users signing in to apps, by user id: `appRoleAssignments.set(id, ['usersync.admin'])`. */
    appRoleAssignments,
    /** The environment variables of the command-line contract that point usersync at this emulator. */
    env: (): Record<string, string> => ({
      AZURE_AUTHORITY_HOST: origin,
      USERSYNC_GRAPH_URL: origin,
      AZURE_TENANT_ID: spec.tenantId,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
      NODE_EXTRA_CA_CERTS: caPath,
    }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if (tempDir) rmSync(tempDir, { recursive: true, force: true });
        server.close((error) => (error ? reject(error) : resolve()));
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

function signInUser(user: GraphUser): SignInUser {
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    mail: typeof user.mail === 'string' ? user.mail : null,
  };
}

function appById(tenants: EmulatorTenantAuth[], clientId: string): EmulatorApp {
  for (const t of tenants) for (const a of t.apps) if (a.clientId === clientId) return a;
  throw new Error(`No app with client id ${clientId} is registered in the emulator.`);
}

const COMMON_HEADERS = {
  'Cache-Control': 'no-cache',
  'Strict-Transport-Security': 'max-age=31536000',
  'x-ms-ags-diagnostic':
    '{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"usersync-emulator"}}',
};

function respond(result: GraphResult, extra: Record<string, string>): Response {
  const headers = new Headers({ ...COMMON_HEADERS, ...result.headers, ...extra });
  if (result.body === undefined) return new Response(null, { status: result.status, headers });
  if (Buffer.isBuffer(result.body))
    return new Response(new Uint8Array(result.body), { status: result.status, headers });
  if (typeof result.body === 'string') return new Response(result.body, { status: result.status, headers });
  return new Response(JSON.stringify(result.body), { status: result.status, headers });
}
