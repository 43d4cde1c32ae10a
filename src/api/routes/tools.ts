import { createRoute, z } from '@hono/zod-openapi';
import { connectionConfigOf, requireConnection } from '../../connections/connections.ts';
import {
  compileExpression,
  ExpressionError,
  expressionAnswer,
  FUNCTIONS,
  graphUserAttributes,
} from '../../core/expression/index.ts';
import { graphSelect } from '../../core/mapping.ts';
import { compileFilters, FiltersError, formatPath } from '../../core/scope/filters.ts';
import { previewUser } from '../../sync/preview.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { requireValidSettings } from '../../core/settings.ts';
import { ApiError } from '../problem.ts';
import { expressionRequestSchema, idParam, previewRequestSchema, scopeTestRequestSchema } from '../schemas.ts';
import { json, out, problems } from './common.ts';

// The CLI's tools as routes, for the console's live editors: preview one user (provision on demand, with draft
// settings), evaluate an expression, try scoping filters. None of them writes anything.

const listing = z.record(z.string(), z.unknown());
const previewSchema = z
  .object({
    externalId: z.string(),
    inScope: z.boolean(),
    reason: z.string().nullable(),
    record: listing.nullable(),
    error: z.object({ field: z.string(), message: z.string() }).nullable(),
    stored: listing.nullable(),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
    graphRequests: z.number().int(),
  })
  .openapi('Preview');
const functionList = z
  .object({
    items: z.array(
      z.object({ name: z.string(), minArguments: z.number().int(), maxArguments: z.number().int().nullable() }),
    ),
  })
  .openapi('ExpressionFunctionList');
const expressionResult = z
  .object({
    value: z.unknown(),
    ignored: z.boolean().optional().describe('true: IgnoreFlowIfNullOrEmpty — the field is left as it is'),
  })
  .openapi('ExpressionResult');

export function toolRoutes(app: Api, deps: ServiceDeps): void {
  const { store, box } = deps;
  const graphOf = async (connectionId: string) =>
    deps.graphFor(connectionConfigOf(await requireConnection(store, connectionId), box, deps.app), deps.logger);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/preview',
      tags: ['tools'],
      summary:
        'Provision on demand without writing: one user read from Entra, in scope or not and why, the record the settings (or draft settings) produce, and the difference from the stored one',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: previewRequestSchema } }, required: true },
      },
      responses: { 200: json(previewSchema, 'the preview'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const draft = body.settings === undefined ? undefined : requireValidSettings(body.settings, 'settings.');
      const preview = await previewUser(await graphOf(id), store, id, body.user, draft);
      return c.json(out(previewSchema, preview), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/expression',
      tags: ['tools'],
      summary: 'Evaluate a mapping expression against a Graph user object, or a user read from a connection',
      request: { body: { content: { 'application/json': { schema: expressionRequestSchema } }, required: true } },
      responses: { 200: json(expressionResult, 'the value'), ...problems },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.user !== undefined && body.input !== undefined)
        throw new ApiError(400, 'invalid_request', 'give input or user, not both', { field: 'user' });
      if (body.user !== undefined && body.connectionId === undefined)
        throw new ApiError(400, 'invalid_request', 'connectionId is required with user: the user is read from it', {
          field: 'connectionId',
        });
      let compiled;
      try {
        compiled = compileExpression(body.expression);
      } catch (error) {
        throw expressionProblem(error);
      }
      let input = body.input ?? {};
      if (body.user !== undefined) {
        const http = await graphOf(body.connectionId!);
        const select = graphSelect(compiled.attributes).join(',');
        input = (await http.get(`/users/${encodeURIComponent(body.user)}?$select=${select}`)).json() as Record<
          string,
          unknown
        >;
      }
      try {
        return c.json(out(expressionResult, expressionAnswer(compiled, input)), 200);
      } catch (error) {
        throw expressionProblem(error);
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/expression/functions',
      tags: ['tools'],
      summary: 'The functions of the mapping expression language, with how many arguments each takes',
      responses: { 200: json(functionList, 'the functions'), ...problems },
    }),
    (c) =>
      c.json(
        out(functionList, {
          items: FUNCTIONS.map((f) => ({
            name: f.name,
            minArguments: f.min,
            maxArguments: Number.isFinite(f.max) ? f.max : null,
          })),
        }),
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/scope-test',
      tags: ['tools'],
      summary: 'Try Entra scoping filters on a user object: in scope or not',
      request: { body: { content: { 'application/json': { schema: scopeTestRequestSchema } }, required: true } },
      responses: {
        200: json(
          z.object({ inScope: z.boolean(), reason: z.string().nullable() }).openapi('ScopeTestResult'),
          'the decision',
        ),
        ...problems,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      try {
        const decision = compileFilters(body.filters ?? []).decide(graphUserAttributes(body.input));
        return c.json({ inScope: decision.in, reason: decision.in ? null : decision.reason }, 200);
      } catch (error) {
        if (error instanceof FiltersError)
          throw new ApiError(400, 'invalid_request', error.message, {
            errors: error.issues.map((i) => ({ field: formatPath('filters', i.path), message: i.message })),
            hint: "fix each clause listed; operators are Entra's (EQUALS, NOT EQUALS, IS TRUE, …)",
          });
        throw error;
      }
    },
  );
}

function expressionProblem(error: unknown): unknown {
  if (error instanceof ExpressionError)
    return new ApiError(400, error.code, error.message, {
      errors: [{ field: 'expression', message: error.message }],
      hint: error.hint,
    });
  return error;
}
