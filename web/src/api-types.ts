// Generated from the service's OpenAPI document by `npm run api-types` (scripts/api-types.ts). Do not edit.

export type Admin = {
  id: string;
  email: string;
  createdAt: string;
  lastSignInAt: string | null;
  password: boolean;
};

export type AdminAction = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  connectionId: string | null;
  target: string | null;
  detail?: unknown;
};

export type AdminActionPage = {
  items: AdminAction[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type AdminCreate = {
  email: string;
  password?: string;
};

export type AdminList = {
  items: Admin[];
};

export type AuditEntry = {
  seq: number;
  at: string;
  runId: string | null;
  actor: string;
  object: string;
  id: string;
  action: string;
  changes: {
    field: string;
    from?: unknown;
    to?: unknown;
  }[];
};

export type AuditPage = {
  items: AuditEntry[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type AuthStatus = {
  admins: boolean;
  firstAdmin: string | null;
  /** Sign in with Microsoft is configured (GET /api/v1/auth/microsoft) */
  microsoft: boolean;
};

export type Change = {
  object: string;
  id: string;
  label: string | null;
  action: string;
  changes: {
    field: string;
    from?: unknown;
    to?: unknown;
  }[];
};

export type Connection = {
  id: string;
  name: string;
  tenantId: string;
  clientId: string;
  /** what may be shown of the credential; never the secret or key */
  credential: {
    /** secret | certificate | consent */
    kind: string;
    /** SHA-1 thumbprint, as the Entra portal shows it */
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
  /** when the schedule next starts a run; null when auto sync is off or paused */
  nextRunAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  lastRun: {
    id: string;
    status: string;
    finishedAt: string | null;
    startedAt: string | null;
  } | null;
  heldLeavers: number;
};

export type ConnectionCreate = {
  /** the connection id the CLI takes as --connection; derived from name when left out */
  id?: string;
  name: string;
  tenantId: string;
  clientId: string;
  /** write-only: never returned */
  clientSecret?: string;
  /** write-only: the app's certificate and private key, PEM */
  certificatePem?: string;
  /** write-only: the password of an encrypted private key */
  certificatePassword?: string;
  /** default https://login.microsoftonline.com */
  authorityHost?: string;
  /** default https://graph.microsoft.com */
  graphUrl?: string;
};

export type ConnectionList = {
  items: Connection[];
};

export type ConnectionPatch = {
  name?: string;
  tenantId?: string;
  clientId?: string;
  /** write-only: never returned */
  clientSecret?: string;
  /** write-only: the app's certificate and private key, PEM */
  certificatePem?: string;
  /** write-only: the password of an encrypted private key */
  certificatePassword?: string;
  /** default https://login.microsoftonline.com */
  authorityHost?: string;
  /** default https://graph.microsoft.com */
  graphUrl?: string;
};

export type ConsentLink = {
  /** send the admin's browser here */
  url: string;
  /** where Entra sends the browser back; register it on the app registration */
  redirectUri: string;
  expiresAt: string;
};

export type ConsentStart = {
  name: string;
  /** the tenant's id or domain; left out, the admin's sign-in picks it */
  tenant?: string;
};

export type Department = {
  name: string;
  members: string[];
};

export type DepartmentPage = {
  items: Department[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type DirectoryGroup = {
  externalId: string;
  name: string | null;
  type: string;
  /** loginAccounts of the direct user members in scope */
  members: string[];
  appGroup: string | null;
};

export type DirectoryGroupPage = {
  items: DirectoryGroup[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type DirectoryUser = {
  externalId: string;
  loginAccount: string | null;
  name: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  userType: string | null;
  jobTitle: string | null;
  department: string | null;
  lineManager: string | null;
  country: string | null;
  officeLocation: string | null;
  city: string | null;
  mobilePhone: string | null;
  postalCode: string | null;
  companyName: string | null;
  employeeNo: string | null;
  faxNumber: string | null;
  /** hex SHA-256 of the photo bytes (GET …/users/{userId}/photo); null when none */
  photo: string | null;
  status: "active" | "disabled";
  custom: {
    [key: string]: unknown;
  };
};

export type DirectoryUserPage = {
  items: DirectoryUser[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type Event = {
  /** pass as after= to read the events after this one */
  cursor: string;
  /** user.created, user.updated, user.disabled, user.enabled, user.removed, group.created, membership.added, … */
  type: string;
  at: string;
  runId: string | null;
  objectId: string;
  changes: {
    field: string;
    from?: unknown;
    to?: unknown;
  }[];
};

export type EventPage = {
  items: Event[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type ExpressionFunctionList = {
  items: {
    name: string;
    minArguments: number;
    maxArguments: number | null;
  }[];
};

export type ExpressionRequest = {
  expression: string;
  /** a Graph user object */
  input?: {
    [key: string]: unknown;
  };
  /** read this user from the connection (connectionId required) */
  user?: string;
  connectionId?: string;
};

export type ExpressionResult = {
  value?: unknown;
  /** true: IgnoreFlowIfNullOrEmpty — the field is left as it is */
  ignored?: boolean;
};

export type FirstAdmin = {
  setupCode: string;
  email: string;
  password: string;
};

export type HeldDecision = {
  /** the held users by externalId */
  ids?: string[];
  /** every held leaver */
  all?: boolean;
};

export type HeldDecisionResult = {
  decided: number;
  disabled: number;
  removed: number;
  kept: number;
};

export type HeldLeaver = {
  externalId: string;
  loginAccount: string | null;
  name: string | null;
  reason: "deleted" | "missing" | "out_of_scope";
  since: string;
  runId: string | null;
};

export type HeldLeaverPage = {
  items: HeldLeaver[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type NewToken = {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  /** shown this once: store it now */
  token: string;
};

export type OrgNode = {
  user: DirectoryUser;
  /** how many direct reports the user has */
  reports: number;
};

export type OrgNodePage = {
  items: OrgNode[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type Preview = {
  externalId: string;
  inScope: boolean;
  reason: string | null;
  record: {
    [key: string]: unknown;
  } | null;
  error: {
    field: string;
    message: string;
  } | null;
  stored: {
    [key: string]: unknown;
  } | null;
  changes: {
    field: string;
    from?: unknown;
    to?: unknown;
  }[];
  graphRequests: number;
};

export type PreviewRequest = {
  user: string;
  settings?: Settings & unknown;
};

export type Problem = {
  /** urn:usersync:problem:<code> */
  type: string;
  title: string;
  status: number;
  /** what went wrong, said so a person can act on it */
  detail: string;
  /** a stable code to branch on */
  code: string;
  /** what to do about it */
  hint: string | null;
  /** invalid requests: every field at fault, as a path such as scope.filters[0][1].operator */
  errors?: {
    field: string;
    message: string;
  }[];
};

export type Run = {
  id: string;
  connectionId: string;
  status: "queued" | "running" | "succeeded" | "failed" | "held" | "cancelled";
  trigger: "schedule" | "now" | "api" | "cli";
  requestedBy: string | null;
  dryRun: boolean;
  full: boolean;
  mode: string;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  graphRequests: number | null;
  /** answers of Graph that throttled the run (429, 503) */
  throttled: number | null;
  /** a test sync of draft settings (not the saved ones) */
  draft: boolean;
  cancelRequested: boolean;
  /** the shape of `usersync sync --json`; null until the run ends */
  summary: SyncSummary | null;
  failure: {
    code: string;
    message: string;
    hint: string | null;
    context: {
      [key: string]: unknown;
    };
  } | null;
  /** while running: the phase, objects done and Graph requests so far */
  progress: {
    phase: string;
    done: number;
    graphRequests: number;
    startedAt: string;
  } | null;
  /** the process that runs (or ran) it */
  worker: {
    pid: number;
    host: string | null;
  } | null;
};

export type RunChangePage = {
  items: (Change | AuditEntry)[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type RunCreate = {
  /** re-read everything and reconcile */
  full?: boolean;
  /** the test sync: compute and report the changes, write nothing */
  dryRun?: boolean;
  settings?: Settings & unknown;
};

export type RunPage = {
  items: Run[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
};

export type Schedule = {
  /** auto sync on or off */
  enabled?: boolean;
  /** paused: no scheduled run starts until resumed (Sync Now still works) */
  paused?: boolean;
  every?: {
    value: number;
    unit: "minutes" | "hours" | "days";
  };
  /** the first run, a wall-clock time in timeZone; later runs follow it every `every` */
  startAt?: string;
  /** runs only on these weekdays (empty: every day) */
  days?: ("sun" | "mon" | "tue" | "wed" | "thu" | "fri" | "sat")[];
  /** a cron expression (5 fields, or 6 with seconds); when set it replaces every, startAt and days */
  cron?: string | null;
  timeZone?: string;
};

export type ScopeTestRequest = {
  /** Entra scoping filters: [[{attribute, operator, value}, …], …] */
  filters?: unknown;
  input: {
    [key: string]: unknown;
  };
};

export type ScopeTestResult = {
  inScope: boolean;
  reason: string | null;
};

export type Session = {
  email: string;
  /** send as X-CSRF-Token with every request that changes something */
  csrfToken: string;
  expiresAt: string;
};

export type Settings = {
  scope?: {
    groups?: string[];
    nestedGroups?: boolean;
    userTypes?: ("Member" | "Guest")[];
    disabledAccounts?: "sync" | "skip";
    filters?: {
      [key: string]: unknown;
    }[][];
    excludeEmails?: string[];
  };
  mapping?: {
    fields?: {
      [key: string]: {
        source?: string;
        expression?: string;
        constant?: string | number | boolean | null;
        preset?: "claimsAccount" | "oneDrivePath" | "primarySmtp" | "aliases" | "sipAddress";
        default?: string | number | boolean;
        applyOn?: "always" | "create";
      };
    };
    custom?: {
      [key: string]: {
        source?: string;
        expression?: string;
        constant?: string | number | boolean | null;
        preset?: "claimsAccount" | "oneDrivePath" | "primarySmtp" | "aliases" | "sipAddress";
        default?: string | number | boolean;
        applyOn?: "always" | "create";
      };
    };
  };
  departments?: {
    sync?: boolean;
  };
  groups?: {
    sync?: "all" | "scope" | "none";
    types?: ("microsoft365" | "security" | "mail-enabled-security" | "distribution")[];
    map?: {
      [key: string]: string;
    };
  };
  lifecycle?: {
    onLeave?: "disable" | "remove" | "ignore";
    existingUsers?: "update" | "skip";
    removeUnmanagedMemberships?: boolean;
    matching?: {
      source: string;
      target: "loginAccount" | "name" | "email" | "firstName" | "lastName" | "userType" | "jobTitle" | "department" | "country" | "officeLocation" | "city" | "mobilePhone" | "postalCode" | "companyName" | "employeeNo" | "faxNumber";
    }[];
  };
  email?: {
    from?: string;
    welcome?: {
      enabled?: boolean;
      subject?: string;
      text?: string;
      html?: string;
    };
    reports?: {
      to: string[];
      on?: ("failed" | "held" | "testSync")[];
    };
  };
  audit?: {
    retentionDays?: number;
  };
  safety?: {
    deletionThreshold?: {
      count?: number;
      percent?: number;
    };
  };
};

export type SettingsVersion = {
  /** 0: never set (the defaults apply) */
  version: number;
  document: Settings;
  changedAt: string | null;
  changedBy: string | null;
};

export type Setup = {
  step: "auto-sync" | "who" | "filters" | "fields" | "groups" | "lifecycle" | "emails" | "test-sync" | "schedule" | "done";
  settings: Settings;
  schedule: Schedule;
  /** the last test sync of this draft */
  testRunId: string | null;
  /** null: the wizard was never saved; it starts from the current settings */
  updatedAt: string | null;
  updatedBy: string | null;
  /** when the wizard was last finished */
  completedAt: string | null;
};

export type SetupInput = {
  step: "auto-sync" | "who" | "filters" | "fields" | "groups" | "lifecycle" | "emails" | "test-sync" | "schedule" | "done";
  settings: Settings;
  /** the schedule to set when the wizard is finished */
  schedule: {
    [key: string]: unknown;
  };
  testRunId?: string | null;
};

export type SignIn = {
  email: string;
  password: string;
};

export type SourceGroup = {
  id: string;
  displayName: string;
  description: string | null;
  mail: string | null;
  type: "microsoft365" | "security" | "mail-enabled-security" | "distribution";
};

export type SyncSummary = {
  status: "succeeded" | "held";
  mode: "full" | "delta";
  dryRun: boolean;
  users: {
    created: number;
    updated: number;
    disabled: number;
    removed: number;
    unchanged: number;
    errors: number;
  };
  groups: {
    created: number;
    updated: number;
    removed: number;
  };
  departments: {
    created: number;
  };
  graphRequests: number;
  durationMs: number;
  memberships: {
    removed: number;
  };
  fellBackToFull: boolean;
  settings: {
    version: number;
    reapplied: boolean;
    reread: string | null;
  };
  errors: {
    externalId: string;
    loginAccount: string | null;
    field: string;
    message: string;
  }[];
  held?: {
    disable: number;
    remove: number;
    reason: string;
  };
  runId: string | null;
};

export type Token = {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
};

export type TokenCreate = {
  name: string;
};

export type TokenList = {
  items: Token[];
};

export type Verification = {
  ok: boolean;
  tenantId: string;
  permissions: {
    permission: string;
    granted: boolean;
  }[];
  hint: string | null;
};
