import { createRoute, z } from '@hono/zod-openapi';
import { connectionConfigOf, requireConnection } from '../../connections/connections.ts';
import { completeSetup, getSetup, saveSetup, SETUP_STEPS, type SetupDraft } from '../../connections/setup.ts';
import { GROUP_TYPES } from '../../core/settings.ts';
import { searchSourceGroups, sourceGroupsById } from '../../sync/source-groups.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { actorOf } from '../auth.ts';
import { idParam, scheduleView, settingsDocument } from '../schemas.ts';
import { json, out, problems } from './common.ts';

// The setup wizard's routes: its draft (read, saved step by step, finished) and the tenant's groups read live from
// Entra for its pickers. A test sync of the draft is POST /connections/{id}/runs with dryRun and the draft settings.

const setupSchema = z
  .object({
    step: z.enum(SETUP_STEPS),
    settings: settingsDocument,
    schedule: scheduleView,
    testRunId: z.string().nullable().describe('the last test sync of this draft'),
    updatedAt: z.string().nullable().describe('null: the wizard was never saved; it starts from the current settings'),
    updatedBy: z.string().nullable(),
    completedAt: z.string().nullable().describe('when the wizard was last finished'),
  })
  .openapi('Setup');
const setupInput = z
  .object({
    step: z.enum(SETUP_STEPS, { error: `step must be one of ${SETUP_STEPS.join(', ')}` }),
    settings: settingsDocument,
    schedule: z.record(z.string(), z.unknown()).describe('the schedule to set when the wizard is finished'),
    testRunId: z.string().nullable().optional(),
  })
  .strict()
  .openapi('SetupInput');
const sourceGroup = z
  .object({
    id: z.string(),
    displayName: z.string(),
    description: z.string().nullable(),
    mail: z.string().nullable(),
    type: z.enum(GROUP_TYPES),
  })
  .openapi('SourceGroup');
const typesQuery = z
  .string()
  .optional()
  .transform((s, ctx) => {
    const types = (s ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    for (const t of types)
      if (!(GROUP_TYPES as readonly string[]).includes(t)) {
        ctx.addIssue({ code: 'custom', message: `"${t}" is not a group type: use ${GROUP_TYPES.join(', ')}` });
        return z.NEVER;
      }
    return types as (typeof GROUP_TYPES)[number][];
  });

const view = (draft: SetupDraft) => out(setupSchema, draft as z.input<typeof setupSchema>);

export function setupRoutes(app: Api, deps: ServiceDeps): void {
  const { store, box } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/setup',
      tags: ['setup'],
      summary: "The setup wizard's draft: the step, the settings and schedule being set up (resumable anywhere)",
      request: { params: idParam },
      responses: { 200: json(setupSchema, 'the draft'), ...problems },
    }),
    async (c) => c.json(view(await getSetup(store, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/connections/{id}/setup',
      tags: ['setup'],
      summary: 'Save the draft at a step; invalid settings or schedule change nothing and every path is named',
      description: 'Nothing in the draft applies until POST /api/v1/connections/{id}/setup/complete.',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: setupInput } }, required: true },
      },
      responses: { 200: json(setupSchema, 'the saved draft'), ...problems },
    }),
    async (c) => {
      const draft = await saveSetup(store, c.req.valid('param').id, c.req.valid('json'), actorOf(c));
      return c.json(view(draft), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/setup/complete',
      tags: ['setup'],
      summary: "Finish the wizard: the draft's settings become the next version and its schedule is set",
      request: { params: idParam },
      responses: { 200: json(setupSchema, 'the finished draft'), ...problems },
    }),
    async (c) => c.json(view(await completeSetup(store, c.req.valid('param').id, actorOf(c))), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/source/groups',
      tags: ['setup'],
      summary: "The tenant's groups read live from Entra (for pickers): by name prefix and type, or by ids",
      request: {
        params: idParam,
        query: z.object({
          search: z.string().optional().describe('the start of the display name'),
          types: typesQuery.describe(`comma-separated: ${GROUP_TYPES.join(', ')}`),
          ids: z.string().optional().describe('comma-separated object ids: these groups (search and types ignored)'),
          limit: z.coerce
            .number({ error: 'limit must be a whole number from 1 to 200' })
            .int({ error: 'limit must be a whole number from 1 to 200' })
            .min(1, { error: 'limit must be a whole number from 1 to 200' })
            .max(200, { error: 'limit must be a whole number from 1 to 200' })
            .optional(),
        }),
      },
      responses: {
        200: json(
          z.object({
            items: z.array(sourceGroup),
            more: z.boolean().describe('more groups match than were listed: narrow the search'),
          }),
          'the groups',
        ),
        ...problems,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const http = deps.graphFor(connectionConfigOf(await requireConnection(store, id), box, deps.app), deps.logger);
      if (q.ids !== undefined) {
        const ids = q.ids
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        return c.json({ items: await sourceGroupsById(http, ids), more: false }, 200);
      }
      return c.json(await searchSourceGroups(http, { search: q.search, types: q.types, limit: q.limit }), 200);
    },
  );
}
