/** An app registration together with its service principal's grants in one tenant. */
export type EmulatorApp = {
  clientId: string;
  displayName: string;
  secrets: { value: string; expiresAt?: Date }[];
  /** PEM certificates whose keys may sign client assertions. */
  certificates: { pem: string }[];
  /** Application permissions granted by admin consent, e.g. `User.Read.All`. */
  roles: string[];
};

export type EmulatorTenantAuth = {
  /** Tenant GUID, lowercase. */
  tenantId: string;
  /** Verified domains, e.g. `contoso.onmicrosoft.com`; any of them names the tenant in URLs. */
  domains: string[];
  apps: EmulatorApp[];
};

export type ConsentDecision = 'approve' | 'decline';

/** One AADSTS failure of the token service, before it is rendered for the wire. */
export type AadError = {
  status: 400 | 401;
  /** OAuth error, e.g. `invalid_client`. */
  error: string;
  /** AADSTS number, e.g. 7000215. */
  code: number;
  /** Text after `AADSTSnnnn: `. */
  message: string;
};
