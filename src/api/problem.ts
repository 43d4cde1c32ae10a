import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { describeError, UsersyncError, type ErrorDescription } from '../core/errors.ts';
import { describeIssue } from '../core/zod-issues.ts';

// Every error the API returns is RFC 9457 problem+json in the product's one error shape: a code to branch on, a message a
// person can act on (`detail`), the fix (`hint`), and for invalid requests every field at fault with its own message.

export const problemSchema = z
  .object({
    type: z.string().describe('urn:usersync:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('what went wrong, said so a person can act on it'),
    code: z.string().describe('a stable code to branch on'),
    hint: z.string().nullable().describe('what to do about it'),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('invalid requests: every field at fault, as a path such as scope.filters[0][1].operator'),
  })
  .openapi('Problem');

export type Problem = z.infer<typeof problemSchema>;

const STATUS_OF_CODE: Record<string, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_field: 400,
  invalid_settings: 400,
  invalid_email: 400,
  invalid_password: 400,
  invalid_token_name: 400,
  config_invalid: 400,
  expression_invalid: 400,
  unauthorized: 401,
  csrf: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  admin_exists: 409,
  setup_not_started: 409,
  run_active: 409,
  rate_limited: 429,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export class ApiError extends UsersyncError {
  readonly status: ContentfulStatusCode;
  readonly errors: { field: string; message: string }[] | undefined;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { hint?: string; errors?: { field: string; message: string }[]; field?: string } = {},
  ) {
    super(code, message, { hint: options.hint, context: options.field ? { field: options.field } : {} });
    this.name = 'ApiError';
    this.status = status;
    this.errors = options.errors;
  }
}

export function problemOf(error: unknown): Problem {
  const status = statusOf(error);
  if (status >= 500 && !(error instanceof UsersyncError)) {
    // Not ours: no internals in the response (they are in the log).
    return problem(status, {
      code: 'internal',
      message: 'the server failed to handle the request',
      hint: 'try again; if it keeps failing, the service log has the cause',
      context: {},
    });
  }
  const d = describeError(error);
  const errors =
    error instanceof ApiError && error.errors
      ? error.errors
      : Array.isArray(d.context.errors)
        ? (d.context.errors as { field: string; message: string }[])
        : typeof d.context.field === 'string'
          ? [{ field: d.context.field, message: d.message }]
          : undefined;
  return { ...problem(status, d), ...(errors ? { errors } : {}) };
}

function problem(status: number, d: ErrorDescription): Problem {
  return {
    type: `urn:usersync:problem:${d.code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail: d.message,
    code: d.code,
    hint: d.hint,
  };
}

export function statusOf(error: unknown): ContentfulStatusCode {
  if (error instanceof ApiError) return error.status;
  if (error instanceof UsersyncError) {
    if (STATUS_OF_CODE[error.code]) return STATUS_OF_CODE[error.code];
    // Graph and token failures while serving a request (preview, expression --user, consent checks).
    if (error.name === 'GraphError' || error.name === 'TokenError') return 502;
    if (error.code.startsWith('invalid') || error.code.endsWith('_invalid')) return 400;
  }
  return 500;
}

export function sendProblem(c: Context, error: unknown, headers: Record<string, string> = {}): Response {
  const body = problemOf(error);
  return c.body(JSON.stringify(body), body.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
    ...headers,
  });
}

/** zod issues of a request part as problem fields, each a sentence naming its field (`scope.groups[0]`, `limit`). */
export function fieldsOf(issues: readonly z.core.$ZodIssue[], part: string): { field: string; message: string }[] {
  return issues.map((issue) => {
    const { field, message } = describeIssue(issue);
    return { field: field === 'body' ? part : field, message };
  });
}
