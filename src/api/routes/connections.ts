import { createRoute, z } from '@hono/zod-openapi';
import {
  createConnection,
  listConnectionViews,
  patchConnection,
  removeConnection,
  requireConnection,
  saveConnectionSettings,
  setSchedule,
  viewOf,
  type ConnectionView,
} from '../../connections/connections.ts';
import {
  activeRun,
  countLeavers,
  countLeaversByConnection,
  latestRunOfEachConnection,
  getSettings,
  listRuns,
  listSettingsVersions,
  type Store,
} from '../../store/index.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { actorOf } from '../auth.ts';
import { requireValidSettings } from '../../core/settings.ts';
import { ApiError } from '../problem.ts';
import {
  connectionCreateSchema,
  connectionPatchSchema,
  connectionSchema,
  idParam,
  scheduleView,
  settingsDocument,
  settingsVersionSchema,
} from '../schemas.ts';
import { json, out, problems } from './common.ts';

const listSchema = z.object({ items: z.array(connectionSchema) }).openapi('ConnectionList');

// Connections (a tenant and the app that reads it), their schedule and their settings document.

export function connectionRoutes(app: Api, deps: ServiceDeps): void {
  const { store, box } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections',
      tags: ['connections'],
      summary: 'Every connection, with its last run and schedule',
      responses: { 200: json(listSchema, 'the connections'), ...problems },
    }),
    async (c) => {
      // Three queries whatever the number of connections (the console polls this list).
      const [views, lastRuns, held] = await Promise.all([
        listConnectionViews(store),
        latestRunOfEachConnection(store.db),
        countLeaversByConnection(store.db, 'held'),
      ]);
      const items = views.map((view) => statusOf(view, lastRuns.get(view.id), held.get(view.id) ?? 0));
      return c.json(out(listSchema, { items }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections',
      tags: ['connections'],
      summary: 'Connect a tenant with app credentials (a client secret or a certificate)',
      description:
        'The credential is checked for form here; a run or GET /connections/{id}/verify checks it with Entra. It is stored encrypted and never returned.',
      request: { body: { content: { 'application/json': { schema: connectionCreateSchema } }, required: true } },
      responses: { 201: json(connectionSchema, 'the connection'), ...problems },
    }),
    async (c) => {
      const view = await createConnection(store, box, c.req.valid('json'), actorOf(c));
      return c.json(out(connectionSchema, await withStatus(store, view)), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}',
      tags: ['connections'],
      summary: 'One connection',
      request: { params: idParam },
      responses: { 200: json(connectionSchema, 'the connection'), ...problems },
    }),
    async (c) => {
      const row = await requireConnection(store, c.req.valid('param').id);
      return c.json(out(connectionSchema, await withStatus(store, viewOf(row))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/connections/{id}',
      tags: ['connections'],
      summary: 'Change a connection: its name, tenant, app, hosts or credential',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: connectionPatchSchema } }, required: true },
      },
      responses: { 200: json(connectionSchema, 'the connection'), ...problems },
    }),
    async (c) => {
      const view = await patchConnection(store, box, c.req.valid('param').id, c.req.valid('json'), actorOf(c));
      return c.json(out(connectionSchema, await withStatus(store, view)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/connections/{id}',
      tags: ['connections'],
      summary: 'Delete a connection and everything stored for it (directory, history, settings)',
      request: { params: idParam },
      responses: { 204: { description: 'deleted' }, ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const active = await activeRun(store.db, id);
      if (active)
        throw new ApiError(409, 'run_active', `connection "${id}" has a run ${active.status} (${active.id})`, {
          hint: `stop it first (POST /api/v1/runs/${active.id}/cancel), then delete`,
        });
      await removeConnection(store, id, actorOf(c));
      return c.body(null, 204);
    },
  );

  // Schedule -------------------------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/schedule',
      tags: ['schedule'],
      summary: 'The auto sync schedule and when it next runs',
      request: { params: idParam },
      responses: {
        200: json(z.object({ schedule: scheduleView, nextRunAt: z.string().nullable() }), 'the schedule'),
        ...problems,
      },
    }),
    async (c) => {
      const view = viewOf(await requireConnection(store, c.req.valid('param').id));
      return c.json({ schedule: view.schedule, nextRunAt: view.nextRunAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/connections/{id}/schedule',
      tags: ['schedule'],
      summary: 'Set the schedule: auto sync on/off, every N minutes/hours/days from a start time, weekdays, or cron',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: scheduleView } }, required: true },
      },
      responses: {
        200: json(z.object({ schedule: scheduleView, nextRunAt: z.string().nullable() }), 'the schedule'),
        ...problems,
      },
    }),
    async (c) => {
      const view = await setSchedule(store, c.req.valid('param').id, c.req.valid('json'), actorOf(c));
      return c.json({ schedule: view.schedule, nextRunAt: view.nextRunAt }, 200);
    },
  );

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/connections/{id}/${verb}`,
        tags: ['schedule'],
        summary: paused ? 'Pause the schedule (no scheduled run starts; Sync Now still works)' : 'Resume the schedule',
        request: { params: idParam },
        responses: {
          200: json(z.object({ schedule: scheduleView, nextRunAt: z.string().nullable() }), 'the schedule'),
          ...problems,
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const current = viewOf(await requireConnection(store, id)).schedule;
        const view = await setSchedule(store, id, { ...current, paused }, actorOf(c));
        return c.json({ schedule: view.schedule, nextRunAt: view.nextRunAt }, 200);
      },
    );
  }

  // Settings -------------------------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/settings',
      tags: ['settings'],
      summary: 'The settings document (scope, mapping, groups, lifecycle, email, safety) and its version',
      request: { params: idParam },
      responses: { 200: json(settingsVersionSchema, 'the current settings'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const current = await getSettings(store.db, id);
      return c.json(
        current
          ? { ...current, document: current.document }
          : { version: 0, document: {}, changedAt: null, changedBy: null },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/connections/{id}/settings',
      tags: ['settings'],
      summary: 'Replace the settings document; an invalid one changes nothing and every problem is named',
      description:
        'The next run applies the new settings from the store, without reading Entra again unless they need Graph properties not read before.',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: settingsDocument } }, required: true },
      },
      responses: { 200: json(settingsVersionSchema, 'the saved settings'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const document = c.req.valid('json');
      requireValidSettings(document);
      const { version } = await saveConnectionSettings(store, id, document, actorOf(c));
      return c.json(version, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/settings/history',
      tags: ['settings'],
      summary: 'Every settings version, newest first: who changed what, and when',
      request: { params: idParam },
      responses: { 200: json(z.object({ items: z.array(settingsVersionSchema) }), 'the versions'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      return c.json({ items: await listSettingsVersions(store.db, id) }, 200);
    },
  );
}

async function withStatus(store: Store, view: ConnectionView) {
  const [last] = await listRuns(store.db, view.id, 1);
  return statusOf(view, last, await countLeavers(store.db, view.id, 'held'));
}

function statusOf(
  view: ConnectionView,
  last: { id: string; status: string; started_at: string | null; finished_at: string | null } | undefined,
  heldLeavers: number,
) {
  return {
    ...view,
    lastRun: last
      ? { id: last.id, status: last.status, startedAt: last.started_at, finishedAt: last.finished_at }
      : null,
    heldLeavers,
  };
}
