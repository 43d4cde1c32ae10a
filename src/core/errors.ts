// One error shape for the whole product (issue 9): a stable code to branch on, a message a person can act on, the fix
// on its own (`hint`), and the context — which connection, object, field, position in an expression — so that the
// command line, the run record and the API all say the same thing. Every error class of usersync extends this one.

export interface ErrorContext {
  connectionId?: string;
  /** The object concerned: a user or group id, a file, a Graph path. */
  object?: string;
  /** The setting, field or variable at fault (`mapping.fields.email.expression`, `AZURE_TENANT_ID`). */
  field?: string;
  /** 0-based offset into an expression. */
  position?: number;
  [key: string]: unknown;
}

export interface ErrorDescription {
  code: string;
  message: string;
  hint: string | null;
  context: ErrorContext;
}

export class UsersyncError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly context: ErrorContext;

  constructor(code: string, message: string, options: { hint?: string; context?: ErrorContext; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsersyncError';
    this.code = code;
    this.hint = options.hint;
    this.context = options.context ?? {};
  }

  toJSON(): ErrorDescription {
    return describeError(this);
  }
}

/** Any thrown value in the one shape; errors that are not ours get the code `internal`. */
export function describeError(error: unknown, context: ErrorContext = {}): ErrorDescription {
  if (error instanceof UsersyncError) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint ?? null,
      context: { ...error.context, ...context },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, hint: null, context };
}
