import type { Problem } from './api-types.ts';

// The console's only way to the service: its public API. Errors come back as the problem+json says them, so a page can
// show `detail` and `hint`, and put each of `errors` on the field it names.

export class ApiProblem extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.status = problem.status;
    this.problem = problem;
  }
  /** The message for a field, when the problem names it. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === name)?.message;
  }
}

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const problem = (data ?? {
      type: 'about:blank',
      title: res.statusText,
      status: res.status,
      detail: `the service answered ${res.status}`,
      code: 'unknown',
      hint: null,
    }) as Problem;
    throw new ApiProblem(problem);
  }
  return data as T;
}
