import { z } from '@hono/zod-openapi';
import { scheduleSchema } from '../jobs/schedule.ts';

// The API's shapes: one zod schema each, used to validate requests and responses and to generate the OpenAPI document.
// Names match the command-line contract (users list --json, sync --json) so a script and an app read the same fields.

const nullableText = z.string().nullable();

/** A required string field whose errors say what is wrong: missing, or not a string. */
function text(field: string, fix: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `${field} is required: ${fix}` : `${field} must be a string`),
  });
}

export const idParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'contoso' }),
});
export const runIdParam = z.object({
  runId: z
    .string()
    .min(1)
    .openapi({ param: { name: 'runId', in: 'path' } }),
});
export const userIdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'contoso' }),
  userId: z
    .string()
    .min(1)
    .openapi({ param: { name: 'userId', in: 'path' }, description: 'the Entra object id (externalId)' }),
});

export const pageQuery = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a whole number from 1 to 1000' })
    .int({ error: 'limit must be a whole number from 1 to 1000' })
    .min(1, { error: 'limit must be a whole number from 1 to 1000' })
    .max(1000, { error: 'limit must be a whole number from 1 to 1000' })
    .default(100),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
});

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
    })
    .openapi(name);
}

// Connections --------------------------------------------------------------------------------------

export const connectionCreateSchema = z
  .object({
    id: z
      .string()
      .optional()
      .describe('the connection id the CLI takes as --connection; derived from name when left out'),
    name: text('name', 'name the connection after the tenant'),
    tenantId: text('tenantId', 'the directory (tenant) id, or a verified domain'),
    clientId: text('clientId', 'the application (client) id of the app registration'),
    clientSecret: z.string().optional().describe('write-only: never returned'),
    certificatePem: z.string().optional().describe("write-only: the app's certificate and private key, PEM"),
    certificatePassword: z.string().optional().describe('write-only: the password of an encrypted private key'),
    authorityHost: z.string().optional().describe('default https://login.microsoftonline.com'),
    graphUrl: z.string().optional().describe('default https://graph.microsoft.com'),
  })
  .strict()
  .openapi('ConnectionCreate');

export const connectionPatchSchema = connectionCreateSchema
  .omit({ id: true })
  .partial()
  .strict()
  .openapi('ConnectionPatch');

// Built here from the schedule's fields: schemas made before @hono/zod-openapi loads lack .openapi(). The route
// validates with it, and setSchedule checks the whole schedule again (the cron expression included).
export const scheduleView = z.object(scheduleSchema.shape).strict().openapi('Schedule');

export const connectionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tenantId: z.string(),
    clientId: z.string(),
    credential: z
      .object({
        kind: z.string().describe('secret | certificate | consent'),
        thumbprint: z.string().optional().describe('SHA-1 thumbprint, as the Entra portal shows it'),
        thumbprintSha256: z.string().optional(),
        expiresAt: z.string().optional(),
        setAt: z.string().optional(),
        consentedAt: z.string().optional(),
        consentedBy: z.string().optional(),
      })
      .describe('what may be shown of the credential; never the secret or key'),
    authorityHost: z.string(),
    graphUrl: z.string(),
    schedule: scheduleView,
    nextRunAt: nullableText.describe('when the schedule next starts a run; null when auto sync is off or paused'),
    createdAt: z.string(),
    createdBy: z.string(),
    updatedAt: z.string(),
    lastRun: z
      .object({ id: z.string(), status: z.string(), finishedAt: nullableText, startedAt: nullableText })
      .nullable(),
    heldLeavers: z.number().int(),
  })
  .openapi('Connection');

// Settings -----------------------------------------------------------------------------------------

export const settingsDocument = z.record(z.string(), z.unknown()).openapi('Settings', {
  description: 'the settings document (docs/settings.md; JSON Schema in docs/settings.schema.json)',
});

export const settingsVersionSchema = z
  .object({
    version: z.number().int().describe('0: never set (the defaults apply)'),
    document: settingsDocument,
    changedAt: nullableText,
    changedBy: nullableText,
  })
  .openapi('SettingsVersion');

// Runs ---------------------------------------------------------------------------------------------

export const runCreateSchema = z
  .object({
    full: z.boolean().optional().describe('re-read everything and reconcile'),
    dryRun: z.boolean().optional().describe('the test sync: compute and report the changes, write nothing'),
    settings: settingsDocument
      .optional()
      .describe('with dryRun: test these draft settings instead of the saved ones (the setup wizard does)'),
  })
  .strict()
  .openapi('RunCreate');

const counts = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));

export const syncSummarySchema = z
  .object({
    status: z.enum(['succeeded', 'held']),
    mode: z.enum(['full', 'delta']),
    dryRun: z.boolean(),
    users: counts(['created', 'updated', 'disabled', 'removed', 'unchanged', 'errors']),
    groups: counts(['created', 'updated', 'removed']),
    departments: counts(['created']),
    graphRequests: z.number().int(),
    durationMs: z.number().int(),
    memberships: counts(['removed']),
    fellBackToFull: z.boolean(),
    settings: z.object({ version: z.number().int(), reapplied: z.boolean(), reread: nullableText }),
    errors: z.array(
      z.object({ externalId: z.string(), loginAccount: nullableText, field: z.string(), message: z.string() }),
    ),
    held: z.object({ disable: z.number().int(), remove: z.number().int(), reason: z.string() }).optional(),
    runId: nullableText,
  })
  .openapi('SyncSummary');

export const runSchema = z
  .object({
    id: z.string(),
    connectionId: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'held', 'cancelled']),
    trigger: z.enum(['schedule', 'now', 'api', 'cli']),
    requestedBy: nullableText,
    dryRun: z.boolean(),
    full: z.boolean(),
    mode: z.string(),
    queuedAt: nullableText,
    startedAt: nullableText,
    finishedAt: nullableText,
    durationMs: z.number().nullable(),
    graphRequests: z.number().nullable(),
    throttled: z.number().int().nullable().describe('answers of Graph that throttled the run (429, 503)'),
    draft: z.boolean().describe('a test sync of draft settings (not the saved ones)'),
    cancelRequested: z.boolean(),
    summary: z
      .union([syncSummarySchema, z.null()])
      .describe('the shape of `usersync sync --json`; null until the run ends'),
    failure: z
      .object({ code: z.string(), message: z.string(), hint: nullableText, context: z.record(z.string(), z.unknown()) })
      .nullable(),
    progress: z
      .object({ phase: z.string(), done: z.number().int(), graphRequests: z.number().int(), startedAt: z.string() })
      .nullable()
      .describe('while running: the phase, objects done and Graph requests so far'),
    worker: z
      .object({ pid: z.number().int(), host: z.string().nullable() })
      .nullable()
      .describe('the process that runs (or ran) it'),
  })
  .openapi('Run');

export const changeSchema = z
  .object({
    object: z.string(),
    id: z.string(),
    label: nullableText,
    action: z.string(),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  })
  .openapi('Change');

// The directory ------------------------------------------------------------------------------------

export const directoryUserSchema = z
  .object({
    externalId: z.string(),
    loginAccount: nullableText,
    name: nullableText,
    email: nullableText,
    firstName: nullableText,
    lastName: nullableText,
    userType: nullableText,
    jobTitle: nullableText,
    department: nullableText,
    lineManager: nullableText,
    country: nullableText,
    officeLocation: nullableText,
    city: nullableText,
    mobilePhone: nullableText,
    postalCode: nullableText,
    companyName: nullableText,
    employeeNo: nullableText,
    faxNumber: nullableText,
    photo: nullableText.describe('hex SHA-256 of the photo bytes (GET …/users/{userId}/photo); null when none'),
    status: z.enum(['active', 'disabled']),
    custom: z.record(z.string(), z.unknown()),
  })
  .openapi('DirectoryUser');

export const directoryGroupSchema = z
  .object({
    externalId: z.string(),
    name: nullableText,
    type: z.string(),
    members: z.array(z.string()).describe('loginAccounts of the direct user members in scope'),
    appGroup: nullableText,
  })
  .openapi('DirectoryGroup');

export const departmentSchema = z.object({ name: z.string(), members: z.array(z.string()) }).openapi('Department');

export const orgNodeSchema = z
  .object({
    user: directoryUserSchema,
    reports: z.number().int().describe('how many direct reports the user has'),
  })
  .openapi('OrgNode');

export const heldLeaverSchema = z
  .object({
    externalId: z.string(),
    loginAccount: nullableText,
    name: nullableText,
    reason: z.enum(['deleted', 'missing', 'out_of_scope']),
    since: z.string(),
    runId: nullableText,
  })
  .openapi('HeldLeaver');

export const decisionSchema = z
  .object({
    ids: z.array(z.string()).optional().describe('the held users by externalId'),
    all: z.boolean().optional().describe('every held leaver'),
  })
  .strict()
  .openapi('HeldDecision');

export const auditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    runId: nullableText,
    actor: z.string(),
    object: z.string(),
    id: z.string(),
    action: z.string(),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  })
  .openapi('AuditEntry');

export const eventSchema = z
  .object({
    cursor: z.string().describe('pass as after= to read the events after this one'),
    type: z
      .string()
      .describe(
        'user.created, user.updated, user.disabled, user.enabled, user.removed, group.created, membership.added, …',
      ),
    at: z.string(),
    runId: nullableText,
    objectId: z.string(),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  })
  .openapi('Event');

// Tools --------------------------------------------------------------------------------------------

export const previewRequestSchema = z
  .object({
    user: text('user', 'a userPrincipalName or object id'),
    settings: settingsDocument.optional().describe('draft settings to try instead of the saved ones'),
  })
  .strict()
  .openapi('PreviewRequest');

export const expressionRequestSchema = z
  .object({
    expression: text('expression', 'give it as a string'),
    input: z.record(z.string(), z.unknown()).optional().describe('a Graph user object'),
    user: z.string().optional().describe('read this user from the connection (connectionId required)'),
    connectionId: z.string().optional(),
  })
  .strict()
  .openapi('ExpressionRequest');

export const scopeTestRequestSchema = z
  .object({
    filters: z.unknown().describe('Entra scoping filters: [[{attribute, operator, value}, …], …]'),
    input: z.record(z.string(), z.unknown()),
  })
  .strict()
  .openapi('ScopeTestRequest');

// Admins and tokens --------------------------------------------------------------------------------

export const signInSchema = z
  .object({ email: text('email', 'give it as a string'), password: text('password', 'give it as a string') })
  .strict()
  .openapi('SignIn');

export const firstAdminSchema = z
  .object({
    setupCode: text('setupCode', 'give the code `usersync serve` printed'),
    email: text('email', 'give it as a string'),
    password: text('password', 'give it as a string'),
  })
  .strict()
  .openapi('FirstAdmin');

export const sessionSchema = z
  .object({
    email: z.string(),
    csrfToken: z.string().describe('send as X-CSRF-Token with every request that changes something'),
    expiresAt: z.string(),
  })
  .openapi('Session');

export const tokenCreateSchema = z
  .object({ name: text('name', 'give it as a string') })
  .strict()
  .openapi('TokenCreate');

export const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
    lastUsedAt: nullableText,
  })
  .openapi('Token');

export const adminCreateSchema = z
  .object({ email: text('email', 'give it as a string'), password: z.string().optional() })
  .strict()
  .openapi('AdminCreate');

export const adminSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    createdAt: z.string(),
    lastSignInAt: nullableText,
    password: z.boolean(),
  })
  .openapi('Admin');

export const adminActionSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    connectionId: nullableText,
    target: nullableText,
    detail: z.unknown(),
  })
  .openapi('AdminAction');
