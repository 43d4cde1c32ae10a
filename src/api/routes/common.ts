import type { z } from '@hono/zod-openapi';
import { problemSchema } from '../problem.ts';

// What every route file shares: the JSON response entry of a route, the problem responses, and the check that a
// response matches its schema before it leaves (a mismatch is a bug of ours: 500, logged, nothing half-sent).

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: problemSchema } },
  description,
});

export const problems = {
  400: problem('invalid request: every field at fault is named in errors'),
  401: problem('no valid API token or session'),
  403: problem('a session request that writes without its CSRF token'),
  404: problem('not found'),
  409: problem('conflict with the current state'),
};

/** The response, checked against its schema (and stripped to it: nothing the schema does not name leaves). */
export function out<T extends z.ZodType>(schema: T, data: z.input<T>): z.output<T> {
  return schema.parse(data);
}
