import {
  ConfigError,
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_URL,
  loadConnectionConfig,
  parseCertificate,
  type ConnectionConfig,
} from '../config/env.ts';
import { UsersyncError } from '../core/errors.ts';
import type { SecretBox } from '../secrets/box.ts';
import {
  deleteConnectionData,
  getConnection,
  insertConnection,
  listConnections,
  recordAdminAction,
  saveSettings,
  transaction,
  updateConnection,
  type ConnectionRow,
  type Store,
} from '../store/index.ts';
import { DEFAULT_SCHEDULE, nextRunAt, parseSchedule, type Schedule } from '../jobs/schedule.ts';
import { consentConfig, requireServiceApp, type ServiceApp } from './consent.ts';

// Connections of the service: a tenant, the app that reads it, and the credential (sealed at rest, never shown again).
// Fields are checked with the same rules as the command line's AZURE_* variables; errors name the API field.

export interface ConnectionInput {
  id?: string;
  name: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificatePem?: string;
  certificatePassword?: string;
  authorityHost?: string;
  graphUrl?: string;
}

export type ConnectionPatch = Partial<Omit<ConnectionInput, 'id'>>;

/** What the API shows of a connection: never the secret. */
export interface ConnectionView {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  credential: {
    kind: string;
    thumbprint?: string;
    thumbprintSha256?: string;
    expiresAt?: string;
    setAt?: string;
    consentedAt?: string;
    consentedBy?: string;
  };
  authorityHost: string;
  graphUrl: string;
  schedule: Schedule;
  nextRunAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

const FIELD_OF_VARIABLE: Record<string, string> = {
  AZURE_TENANT_ID: 'tenantId',
  AZURE_CLIENT_ID: 'clientId',
  AZURE_CLIENT_SECRET: 'clientSecret',
  AZURE_CLIENT_CERTIFICATE_PATH: 'certificatePem',
  AZURE_CLIENT_CERTIFICATE_PASSWORD: 'certificatePassword',
  AZURE_AUTHORITY_HOST: 'authorityHost',
  USERSYNC_GRAPH_URL: 'graphUrl',
};

/** A ConfigError about an AZURE_* variable, said about the API field instead. */
function asFieldError(error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  const field = FIELD_OF_VARIABLE[error.variable] ?? error.variable;
  let message = error.message;
  for (const [variable, name] of Object.entries(FIELD_OF_VARIABLE)) message = message.split(variable).join(name);
  return new UsersyncError('invalid_field', message, { context: { field } });
}

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A connection id from its name: lower case, letters, digits and dashes (the CLI's `--connection` takes it). */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'connection';
}

interface Sealed {
  kind: 'secret' | 'certificate';
  credential: string;
  info: Record<string, string>;
  config: ConnectionConfig;
}

/** Checks every field as the token service will need it, and seals the credential for `id`. */
function checkAndSeal(id: string, input: ConnectionInput, box: SecretBox, now: Date): Sealed {
  const secret = input.clientSecret?.trim() ? input.clientSecret : undefined;
  let config: ConnectionConfig;
  try {
    // The tenant, app and hosts first (the credential's form is checked below, naming its own field).
    config = loadConnectionConfig({
      AZURE_TENANT_ID: input.tenantId,
      AZURE_CLIENT_ID: input.clientId,
      AZURE_CLIENT_SECRET: 'checked below',
      AZURE_AUTHORITY_HOST: input.authorityHost,
      USERSYNC_GRAPH_URL: input.graphUrl,
    });
  } catch (error) {
    throw asFieldError(error);
  }
  if (secret && input.certificatePem)
    throw new UsersyncError('invalid_field', 'give clientSecret or certificatePem, not both', {
      hint: 'a certificate is the credential Microsoft recommends; leave clientSecret out when you send one',
      context: { field: 'clientSecret' },
    });
  if (!secret && !input.certificatePem)
    throw new UsersyncError('invalid_field', 'clientSecret or certificatePem is required', {
      hint: "give the value of a client secret of the app registration, or a PEM holding the app's certificate and private key",
      context: { field: 'clientSecret' },
    });
  if (input.certificatePem) {
    try {
      config.credential = parseCertificate(input.certificatePem, input.certificatePassword, now, {
        field: 'certificatePem',
        passwordField: 'certificatePassword',
        where: 'certificatePem',
        pointAt: 'send it as certificatePem',
      });
    } catch (error) {
      throw asFieldError(error);
    }
  } else config.credential = { kind: 'secret', secret: secret! };
  const place = `connection:${id}`;
  if (config.credential.kind === 'certificate') {
    const c = config.credential;
    return {
      kind: 'certificate',
      credential: box.seal(JSON.stringify({ certificatePem: c.certificatePem, privateKeyPem: c.privateKeyPem }), place),
      info: { thumbprint: c.thumbprintSha1, thumbprintSha256: c.thumbprintSha256, expiresAt: c.notAfter.toISOString() },
      config,
    };
  }
  return {
    kind: 'secret',
    credential: box.seal(JSON.stringify({ secret }), place),
    // Nothing of a secret is shown again, not even a part of it: only when it was set.
    info: { setAt: now.toISOString() },
    config,
  };
}

/** The stored columns of a checked, sealed credential and the tenant, app and hosts it goes with. */
function columnsOf(sealed: Sealed) {
  return {
    tenant_id: sealed.config.tenantId,
    client_id: sealed.config.clientId,
    credential_kind: sealed.kind,
    credential: sealed.credential,
    credential_info: JSON.stringify(sealed.info),
    authority_host: sealed.config.authorityHost,
    graph_url: sealed.config.graphUrl,
  };
}

export async function createConnection(
  store: Store,
  box: SecretBox,
  input: ConnectionInput,
  actor: string,
  now = new Date(),
): Promise<ConnectionView> {
  const name = input.name?.trim();
  if (!name || name.length > 100)
    throw new UsersyncError('invalid_field', 'name must be 1 to 100 characters', {
      hint: 'name the connection after the tenant, such as "Contoso"',
      context: { field: 'name' },
    });
  let id = input.id?.trim().toLowerCase();
  if (id !== undefined && !ID.test(id))
    throw new UsersyncError('invalid_field', `id "${input.id}" is not a valid connection id`, {
      hint: 'use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit (or leave id out to derive it from name)',
      context: { field: 'id' },
    });
  if (id !== undefined && (await getConnection(store.db, id)))
    throw new UsersyncError('conflict', `a connection with id "${id}" already exists`, {
      hint: 'choose another id, or update that connection with PATCH',
      context: { field: 'id' },
    });
  if (id === undefined) {
    const base = slugOf(name);
    id = base;
    for (let n = 2; await getConnection(store.db, id); n++) id = `${base}-${n}`;
  }
  const sealed = checkAndSeal(id, { ...input, name }, box, now);
  const at = now.toISOString();
  const row: ConnectionRow = {
    setup: null,
    id,
    name,
    ...columnsOf(sealed),
    schedule: JSON.stringify(DEFAULT_SCHEDULE),
    next_run_at: null,
    created_at: at,
    created_by: actor,
    updated_at: at,
  };
  await insertConnection(store.db, row);
  await recordAdminAction(store.db, { actor, action: 'connection.created', connectionId: id, target: name });
  return viewOf(row);
}

export async function patchConnection(
  store: Store,
  box: SecretBox,
  id: string,
  patch: ConnectionPatch,
  actor: string,
  now = new Date(),
): Promise<ConnectionView> {
  const row = await requireConnection(store, id);
  const set: Partial<ConnectionRow> = {};
  if (patch.name !== undefined) {
    const name = patch.name.trim();
    if (!name || name.length > 100)
      throw new UsersyncError('invalid_field', 'name must be 1 to 100 characters', { context: { field: 'name' } });
    set.name = name;
  }
  const credentialFields = [
    'tenantId',
    'clientId',
    'clientSecret',
    'certificatePem',
    'certificatePassword',
    'authorityHost',
    'graphUrl',
  ] as const;
  if (credentialFields.some((f) => patch[f] !== undefined) && row.credential_kind === 'consent')
    throw new UsersyncError(
      'invalid_field',
      'this connection reads its tenant through admin consent: its tenant and app are not edited',
      {
        hint: 'to use other credentials, create a connection with them (POST /api/v1/connections) and delete this one',
        context: { field: credentialFields.find((f) => patch[f] !== undefined) },
      },
    );
  if (credentialFields.some((f) => patch[f] !== undefined)) {
    // A new tenant, app or host needs its credential again: the stored one may not belong to it.
    const newCredential = patch.clientSecret !== undefined || patch.certificatePem !== undefined;
    const current = newCredential ? null : openCredential(row, box);
    const sealed = checkAndSeal(
      id,
      {
        name: row.name,
        tenantId: patch.tenantId ?? row.tenant_id,
        clientId: patch.clientId ?? row.client_id,
        authorityHost: patch.authorityHost ?? row.authority_host ?? undefined,
        graphUrl: patch.graphUrl ?? row.graph_url ?? undefined,
        ...(newCredential
          ? {
              clientSecret: patch.clientSecret,
              certificatePem: patch.certificatePem,
              certificatePassword: patch.certificatePassword,
            }
          : current!.kind === 'secret'
            ? { clientSecret: current!.secret }
            : { certificatePem: `${current!.certificatePem}${current!.privateKeyPem}` }),
      },
      box,
      now,
    );
    Object.assign(set, columnsOf(sealed));
  }
  await updateConnection(store.db, id, set);
  const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
  await recordAdminAction(store.db, {
    actor,
    action: 'connection.updated',
    connectionId: id,
    detail: { fields: changed },
  });
  return viewOf((await getConnection(store.db, id))!);
}

export async function setSchedule(
  store: Store,
  id: string,
  input: unknown,
  actor: string,
  now = new Date(),
): Promise<ConnectionView> {
  await requireConnection(store, id);
  const schedule = parseSchedule(input);
  await updateConnection(store.db, id, {
    schedule: JSON.stringify(schedule),
    next_run_at: nextRunAt(schedule, now)?.toISOString() ?? null,
  });
  await recordAdminAction(store.db, { actor, action: 'schedule.updated', connectionId: id, detail: schedule });
  return viewOf((await getConnection(store.db, id))!);
}

/**
 * A valid settings document saved as the connection's next version and recorded in the admin actions trail (with
 * `detail`); the same document as the current one changes nothing.
 */
export async function saveConnectionSettings(
  store: Store,
  id: string,
  document: Record<string, unknown>,
  actor: string,
  detail: Record<string, unknown> = {},
): Promise<Awaited<ReturnType<typeof saveSettings>>> {
  const result = await saveSettings(store.db, id, document, actor);
  if (result.saved)
    await recordAdminAction(store.db, {
      actor,
      action: 'settings.updated',
      connectionId: id,
      detail: { version: result.version.version, ...detail },
    });
  return result;
}

export async function removeConnection(store: Store, id: string, actor: string): Promise<void> {
  const row = await requireConnection(store, id);
  await transaction(store, async (db) => {
    await deleteConnectionData(db, id);
    await recordAdminAction(db, { actor, action: 'connection.deleted', connectionId: id, target: row.name });
  });
}

export async function requireConnection(store: Store, id: string): Promise<ConnectionRow> {
  const row = await getConnection(store.db, id);
  if (!row)
    throw new UsersyncError('not_found', `there is no connection "${id}"`, {
      hint: 'GET /api/v1/connections lists the connections',
      context: { connectionId: id },
    });
  return row;
}

export async function listConnectionViews(store: Store): Promise<ConnectionView[]> {
  return (await listConnections(store.db)).map(viewOf);
}

type OpenCredential =
  { kind: 'secret'; secret: string } | { kind: 'certificate'; certificatePem: string; privateKeyPem: string };

function openCredential(row: ConnectionRow, box: SecretBox): OpenCredential {
  const data = JSON.parse(box.open(row.credential, `connection:${row.id}`)) as Record<string, string>;
  return row.credential_kind === 'certificate'
    ? { kind: 'certificate', certificatePem: data.certificatePem, privateKeyPem: data.privateKeyPem }
    : { kind: 'secret', secret: data.secret };
}

/**
 * The connection as the Graph client needs it (the credential opened in memory only). A connection made by admin
 * consent reads its tenant with usersync's own app (`app`).
 */
export function connectionConfigOf(
  row: ConnectionRow,
  box: SecretBox,
  app: ServiceApp | null = null,
): ConnectionConfig {
  if (row.credential_kind === 'consent') return consentConfig(requireServiceApp(app), row.tenant_id);
  const credential = openCredential(row, box);
  const info = JSON.parse(row.credential_info) as Record<string, string>;
  return {
    tenantId: row.tenant_id,
    clientId: row.client_id,
    credential:
      credential.kind === 'secret'
        ? credential
        : {
            kind: 'certificate',
            path: '',
            certificatePem: credential.certificatePem,
            privateKeyPem: credential.privateKeyPem,
            thumbprintSha1: info.thumbprint ?? '',
            thumbprintSha256: info.thumbprintSha256 ?? '',
            notAfter: new Date(info.expiresAt ?? 0),
          },
    authorityHost: row.authority_host ?? DEFAULT_AUTHORITY_HOST,
    graphUrl: row.graph_url ?? DEFAULT_GRAPH_URL,
    warnings: [],
  };
}

export function viewOf(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    credential: { kind: row.credential_kind, ...(JSON.parse(row.credential_info) as Record<string, string>) },
    authorityHost: row.authority_host ?? DEFAULT_AUTHORITY_HOST,
    graphUrl: row.graph_url ?? DEFAULT_GRAPH_URL,
    schedule: parseSchedule(JSON.parse(row.schedule)),
    nextRunAt: row.next_run_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
  };
}

/** Re-seals every stored credential with the box's current key (`usersync secrets rotate`); returns how many. */
export async function resealCredentials(store: Store, box: SecretBox): Promise<number> {
  const rows = await listConnections(store.db);
  await transaction(store, async (db) => {
    for (const row of rows) {
      const place = `connection:${row.id}`;
      await updateConnection(db, row.id, {
        credential: box.seal(box.open(row.credential, place), place),
        updated_at: row.updated_at,
      });
    }
  });
  return rows.length;
}
