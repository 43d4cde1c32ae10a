import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsersyncError } from '../core/errors.ts';

// The environment of the command-line contract (DESIGN.md), validated once at the edge. Every failure
// names the variable and the fix, and never echoes a secret's value.
//
// Secret and certificate both set: the certificate wins. It is the credential Microsoft recommends, a
// path that must exist and parse is a deliberate choice, while a secret is often left over from before;
// the config carries a warning so the CLI can say that AZURE_CLIENT_SECRET is ignored. (Azure SDK's
// EnvironmentCredential prefers the secret; we document the difference.)

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
export const DEFAULT_DATA_DIR = './.usersync';

export type ClientCredential =
  | { kind: 'secret'; secret: string }
  | {
      kind: 'certificate';
      path: string;
      /** Every certificate of the file, leaf first (sent as x5c, which also enables subject-name + issuer auth). */
      certificatePem: string;
      /** PKCS#8 PEM, as msal-node expects, decrypted with AZURE_CLIENT_CERTIFICATE_PASSWORD if needed. */
      privateKeyPem: string;
      /** Upper-case hex of the leaf certificate's DER. */
      thumbprintSha256: string;
      thumbprintSha1: string;
      notAfter: Date;
    };

export interface ConnectionConfig {
  tenantId: string;
  clientId: string;
  credential: ClientCredential;
  /** Origin of the token service, e.g. https://login.microsoftonline.com (no tenant, no trailing slash). */
  authorityHost: string;
  /** Graph base without the version, e.g. https://graph.microsoft.com (the client appends /v1.0). */
  graphUrl: string;
  /** Things the operator should know, e.g. that AZURE_CLIENT_SECRET is ignored. Never contains secrets. */
  warnings: string[];
}

export interface StoreConfig {
  /** Folder of the embedded SQLite store. */
  dataDir: string;
  /** postgres://… selects PostgreSQL; null = the embedded store. */
  databaseUrl: string | null;
}

export type Env = Record<string, string | undefined>;

export class ConfigError extends UsersyncError {
  /** The environment variable at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('config_invalid', message, { context: { field: variable } });
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const text = (variable: string, fix: string) =>
  z
    .string({ error: `${variable} is missing: ${fix}` })
    .trim()
    .min(1, { error: `${variable} is empty: ${fix}` });

const tenantId = text(
  'AZURE_TENANT_ID',
  'set it to the directory (tenant) id of the Entra tenant, or its verified domain such as contoso.onmicrosoft.com',
)
  .refine((v) => !['common', 'organizations', 'consumers'].includes(v.toLowerCase()), {
    error:
      'AZURE_TENANT_ID cannot be common, organizations or consumers for app-only sync: set it to the directory (tenant) id of the tenant',
  })
  .refine((v) => GUID.test(v) || DOMAIN.test(v), {
    error:
      'AZURE_TENANT_ID must be a GUID (the directory (tenant) id) or a verified domain such as contoso.onmicrosoft.com',
  });

const clientId = text('AZURE_CLIENT_ID', 'set it to the application (client) id of the app registration').refine(
  (v) => GUID.test(v),
  {
    error:
      'AZURE_CLIENT_ID must be a GUID: set it to the application (client) id of the app registration (not its object id or name)',
  },
);

const envSchema = z.object({
  AZURE_TENANT_ID: tenantId,
  AZURE_CLIENT_ID: clientId,
  AZURE_CLIENT_SECRET: z.string().optional(),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().trim().optional(),
  AZURE_CLIENT_CERTIFICATE_PASSWORD: z.string().optional(),
  AZURE_AUTHORITY_HOST: z.string().trim().optional(),
  USERSYNC_GRAPH_URL: z.string().trim().optional(),
});

/** Reads the connection to Entra from the environment; throws a ConfigError naming the variable and the fix. */
export function loadConnectionConfig(env: Env = process.env): ConnectionConfig {
  const parsed = envSchema.safeParse(pick(env, Object.keys(envSchema.shape)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const vars = parsed.data;
  const warnings: string[] = [];
  const secret =
    vars.AZURE_CLIENT_SECRET && vars.AZURE_CLIENT_SECRET.trim() !== '' ? vars.AZURE_CLIENT_SECRET : undefined;
  const certificatePath = vars.AZURE_CLIENT_CERTIFICATE_PATH || undefined;

  let credential: ClientCredential;
  if (certificatePath) {
    credential = readCertificate(certificatePath, vars.AZURE_CLIENT_CERTIFICATE_PASSWORD);
    if (secret)
      warnings.push(
        'AZURE_CLIENT_SECRET is ignored because AZURE_CLIENT_CERTIFICATE_PATH is set (the certificate is used); unset one of them',
      );
  } else if (secret) {
    credential = { kind: 'secret', secret };
  } else {
    throw new ConfigError(
      'AZURE_CLIENT_SECRET',
      'AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is missing: set AZURE_CLIENT_SECRET to the value of a client secret of the app registration, or AZURE_CLIENT_CERTIFICATE_PATH to a PEM file holding its certificate and private key',
    );
  }

  return {
    tenantId: vars.AZURE_TENANT_ID,
    clientId: vars.AZURE_CLIENT_ID.toLowerCase(),
    credential,
    authorityHost: parseAuthorityHost(vars.AZURE_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST),
    graphUrl: parseGraphUrl(vars.USERSYNC_GRAPH_URL || DEFAULT_GRAPH_URL),
    warnings,
  };
}

/** Where the directory is stored: USERSYNC_DATA (embedded SQLite) or DATABASE_URL (PostgreSQL). */
export function loadStoreConfig(env: Env = process.env): StoreConfig {
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL',
      'DATABASE_URL must start with postgres:// or postgresql:// (unset it to use the embedded store under USERSYNC_DATA)',
    );
  }
  return { dataDir: env.USERSYNC_DATA?.trim() || DEFAULT_DATA_DIR, databaseUrl };
}

function parseAuthorityHost(value: string): string {
  const url = parseHttpsUrl(
    'AZURE_AUTHORITY_HOST',
    value,
    'https://login.microsoftonline.com (or https://login.microsoftonline.us, https://login.chinacloudapi.cn for national clouds)',
  );
  if (url.pathname !== '/' || url.search !== '') {
    throw new ConfigError(
      'AZURE_AUTHORITY_HOST',
      `AZURE_AUTHORITY_HOST must be the host only, such as ${url.origin}, without a path: put the tenant in AZURE_TENANT_ID`,
    );
  }
  return url.origin;
}

function parseGraphUrl(value: string): string {
  const url = parseHttpsUrl(
    'USERSYNC_GRAPH_URL',
    value,
    'https://graph.microsoft.com (or https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn for national clouds)',
  );
  if (url.search !== '' || url.hash !== '')
    throw new ConfigError(
      'USERSYNC_GRAPH_URL',
      `USERSYNC_GRAPH_URL must not have a query string: set it to the Graph base such as ${url.origin}`,
    );
  // The client appends /v1.0 itself; accept a base that already ends with it rather than doubling it.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1\.0$/i, '');
  return `${url.origin}${path}`;
}

function parseHttpsUrl(variable: string, value: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `${variable} is not a URL: set it to ${example}`);
  }
  if (url.protocol !== 'https:')
    throw new ConfigError(
      variable,
      `${variable} must use https:// (tokens are never sent in clear text): set it to ${example}`,
    );
  if (url.username || url.password)
    throw new ConfigError(variable, `${variable} must not contain a user name or password`);
  return url;
}

// Certificates ---------------------------------------------------------------------------------------

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** Reads a PEM file with the app's certificate and private key, checks they belong together, computes thumbprints. */
export function readCertificate(
  path: string,
  password?: string,
  now: Date = new Date(),
): ClientCredential & { kind: 'certificate' } {
  const variable = 'AZURE_CLIENT_CERTIFICATE_PATH';
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the file does not exist'
        : code === 'EACCES'
          ? 'the file is not readable by this user'
          : `it cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(
      variable,
      `${variable} points at ${path}, but ${why}: set it to a PEM file holding the app's certificate and private key`,
    );
  }
  return {
    ...parseCertificate(pem, password, now, {
      field: variable,
      passwordField: 'AZURE_CLIENT_CERTIFICATE_PASSWORD',
      where: `${path} (${variable})`,
      pointAt: `point ${variable} at it`,
    }),
    path,
  };
}

/** Where a PEM came from, for the errors: the variable (or API field) to fix, and how to name the source. */
export interface CertificateSource {
  field: string;
  passwordField: string;
  where: string;
  /** The last step of the fix for an expired certificate. */
  pointAt: string;
}

/** Parses PEM text holding the app's certificate and private key, checks they belong together, computes thumbprints. */
export function parseCertificate(
  pem: string,
  password: string | undefined,
  now: Date,
  source: CertificateSource,
): ClientCredential & { kind: 'certificate' } {
  const { field, passwordField, where } = source;
  const certificates: string[] = pem.match(PEM_CERTIFICATE) ?? [];
  const keyBlock = PEM_KEY.exec(pem)?.[0];
  if (certificates.length === 0) {
    throw new ConfigError(
      field,
      `${where} holds no -----BEGIN CERTIFICATE----- block: put the certificate and its private key in one PEM (cat cert.pem key.pem > app.pem)`,
    );
  }
  if (keyBlock === undefined) {
    throw new ConfigError(
      field,
      `${where} holds no private key: put the certificate and its private key in one PEM (cat cert.pem key.pem > app.pem)`,
    );
  }

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificates[0]);
  } catch (error) {
    throw new ConfigError(
      field,
      `The certificate in ${where} cannot be parsed (${(error as Error).message}): export it again as PEM`,
    );
  }
  let privateKeyPem: string;
  try {
    const key = createPrivateKey({ key: keyBlock, format: 'pem', ...(password ? { passphrase: password } : {}) });
    privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (!certificate.checkPrivateKey(key)) {
      throw new ConfigError(
        field,
        `The private key in ${where} does not belong to its first certificate: put the matching certificate and key together`,
      );
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const encrypted = /ENCRYPTED/.test(keyBlock) || /passphrase|decrypt|bad password/i.test((error as Error).message);
    throw new ConfigError(
      encrypted ? passwordField : field,
      encrypted
        ? `The private key in ${where} is encrypted and ${password ? `${passwordField} does not decrypt it` : `${passwordField} is missing`}: set ${passwordField} to its password, or store the key unencrypted`
        : `The private key in ${where} cannot be read: export it again as PEM (PKCS#8 or PKCS#1)`,
    );
  }
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() < now.getTime()) {
    throw new ConfigError(
      field,
      `The certificate in ${where} expired on ${notAfter.toISOString()}: create a new certificate, upload it to the app registration and ${source.pointAt}`,
    );
  }
  return {
    kind: 'certificate',
    path: '',
    certificatePem: certificates.join('\n') + '\n',
    privateKeyPem,
    thumbprintSha256: createHash('sha256').update(certificate.raw).digest('hex').toUpperCase(),
    thumbprintSha1: createHash('sha1').update(certificate.raw).digest('hex').toUpperCase(),
    notAfter,
  };
}

function pick(env: Env, keys: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of keys) if (env[key] !== undefined) out[key] = env[key];
  return out;
}
