import { createRoute, z } from '@hono/zod-openapi';
import { requireConnection } from '../../connections/connections.ts';
import type { Runner } from '../../jobs/runner.ts';
import { auditPage, findRuns, getRun, recordAdminAction, type Run, type Store } from '../../store/index.ts';
import { approveHeld, discardHeld, heldPage } from '../../sync/held.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { actorOf } from '../auth.ts';
import { requireValidSettings } from '../../core/settings.ts';
import { ApiError } from '../problem.ts';
import {
  auditEntrySchema,
  changeSchema,
  decisionSchema,
  heldLeaverSchema,
  idParam,
  pageOf,
  pageQuery,
  runCreateSchema,
  runIdParam,
  runSchema,
} from '../schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { json, out, problems } from './common.ts';

// Runs (Sync Now, the test sync, the history, stop) and held leavers (the deletion threshold's decisions).

const runPage = pageOf(runSchema, 'RunPage');
const changePage = pageOf(z.union([changeSchema, auditEntrySchema]), 'RunChangePage');
const heldList = pageOf(heldLeaverSchema, 'HeldLeaverPage');
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'held', 'cancelled'] as const;
const TRIGGERS = ['schedule', 'now', 'api', 'cli'] as const;

export function runRoutes(app: Api, deps: ServiceDeps): void {
  const { store, runner } = deps;
  const view = (run: Run) => out(runSchema, runView(run, runner));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/runs',
      tags: ['runs'],
      summary: 'Sync now (or a test sync with dryRun); answers at once with the queued run',
      description:
        'One run per connection at a time: a second request while a run is queued returns that run. Follow it with GET /api/v1/runs/{runId}.',
      request: {
        params: idParam,
        body: { content: { 'application/json': { schema: runCreateSchema } }, required: false },
      },
      responses: { 202: json(runSchema, 'the run, queued'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const body = (c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {}) ?? {};
      if (body.settings !== undefined && !body.dryRun)
        throw new ApiError(400, 'invalid_request', 'settings may only be given with "dryRun": true', {
          errors: [{ field: 'settings', message: 'draft settings are only tested, never applied, by a run' }],
          hint: 'add "dryRun": true for a test sync of the draft, or save the settings with PUT /connections/{id}/settings first',
        });
      const settings = body.settings === undefined ? undefined : requireValidSettings(body.settings, 'settings.');
      const principal = c.get('principal');
      const run = await runner.enqueue(id, {
        full: body.full,
        dryRun: body.dryRun,
        settings,
        trigger: principal.kind === 'admin' ? 'now' : 'api',
        requestedBy: principal.actor,
      });
      return c.json(view(run), 202);
    },
  );

  const listRoute = (path: string, withConnection: boolean) =>
    createRoute({
      method: 'get',
      path,
      tags: ['runs'],
      summary: withConnection ? "The connection's runs, newest first" : 'Runs of every connection, newest first',
      request: {
        ...(withConnection ? { params: idParam } : {}),
        query: pageQuery.extend({
          status: z.enum(STATUSES).optional(),
          trigger: z.enum(TRIGGERS).optional(),
          ...(withConnection ? {} : { connectionId: z.string().optional() }),
        }),
      },
      responses: { 200: json(runPage, 'a page of runs'), ...problems },
    });

  async function listRuns(query: {
    limit: number;
    cursor?: string;
    status?: Run['status'];
    trigger?: Run['trigger'];
    connectionId?: string;
  }) {
    const before = query.cursor ? decodeCursor(query.cursor, ['at', 'id']) : undefined;
    const runs = await findRuns(store.db, {
      connectionId: query.connectionId,
      status: query.status,
      trigger: query.trigger,
      before: before as { at: string; id: string } | undefined,
      limit: query.limit,
    });
    const last = runs[runs.length - 1];
    return out(runPage, {
      items: runs.map((r) => runView(r, runner)),
      nextCursor:
        runs.length === query.limit && last
          ? encodeCursor({ at: last.queued_at ?? last.started_at ?? '', id: last.id })
          : null,
    });
  }

  app.openapi(listRoute('/api/v1/connections/{id}/runs', true), async (c) => {
    const { id } = c.req.valid('param' as never) as { id: string };
    await requireConnection(store, id);
    return c.json(await listRuns({ ...c.req.valid('query'), connectionId: id }), 200);
  });
  app.openapi(listRoute('/api/v1/runs', false), async (c) => {
    const q = c.req.valid('query') as Parameters<typeof listRuns>[0];
    return c.json(await listRuns(q), 200);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs/{runId}',
      tags: ['runs'],
      summary: 'One run: status, trigger, summary (the shape of sync --json), live progress while running',
      request: { params: runIdParam },
      responses: { 200: json(runSchema, 'the run'), ...problems },
    }),
    async (c) => c.json(view(await requireRun(c.req.valid('param').runId)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/runs/{runId}/cancel',
      tags: ['runs'],
      summary: 'Stop a run: a queued run is cancelled now; a running one stops after its current page',
      request: { params: runIdParam },
      responses: { 202: json(runSchema, 'the run'), ...problems },
    }),
    async (c) => {
      const run = await requireRun(c.req.valid('param').runId);
      const outcome = await runner.cancel(run.id);
      if (outcome === 'finished')
        throw new ApiError(409, 'conflict', `run ${run.id} already ended (${run.status})`, {
          hint: 'only queued and running runs can be stopped',
        });
      await recordAdminAction(store.db, {
        actor: actorOf(c),
        action: 'run.cancelled',
        connectionId: run.connection_id,
        target: run.id,
      });
      return c.json(view((await getRun(store.db, run.id))!), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs/{runId}/changes',
      tags: ['runs'],
      summary: 'What a run changed, object by object (field before → after); for a test sync, what it would change',
      request: { params: runIdParam, query: pageQuery },
      responses: { 200: json(changePage, 'a page of changes'), ...problems },
    }),
    async (c) => {
      const run = await requireRun(c.req.valid('param').runId);
      const { limit, cursor } = c.req.valid('query');
      if (run.dry_run) {
        const from = cursor ? Number(decodeCursor(cursor, ['i']).i) : 0;
        const all = (run.changes ?? []) as z.input<typeof changeSchema>[];
        const items = all.slice(from, from + limit);
        return c.json(
          out(changePage, {
            items,
            nextCursor: from + limit < all.length ? encodeCursor({ i: String(from + limit) }) : null,
          }),
          200,
        );
      }
      return c.json(
        out(changePage, await auditReply(store, { connectionId: run.connection_id, runId: run.id }, cursor, limit)),
        200,
      );
    },
  );

  // Held leavers ---------------------------------------------------------------------------------

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/held',
      tags: ['held leavers'],
      summary: 'Leavers the deletion threshold holds for an administrator: who, why, since when',
      request: { params: idParam, query: pageQuery },
      responses: { 200: json(heldList, 'a page of held leavers'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const { limit, cursor } = c.req.valid('query');
      const after = cursor ? decodeCursor(cursor, ['id']).id : '';
      const page = await heldPage(store, id, after, limit);
      return c.json(
        out(heldList, {
          items: page,
          nextCursor: page.length === limit ? encodeCursor({ id: page[page.length - 1].externalId }) : null,
        }),
        200,
      );
    },
  );

  for (const verb of ['approve', 'discard'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/connections/{id}/held/${verb}`,
        tags: ['held leavers'],
        summary:
          verb === 'approve'
            ? 'Apply held leavers as lifecycle.onLeave says (disable or remove)'
            : 'Drop the hold: the users stay as they are; a later full read decides afresh',
        request: {
          params: idParam,
          body: { content: { 'application/json': { schema: decisionSchema } }, required: true },
        },
        responses: {
          200: json(
            z
              .object({
                decided: z.number().int(),
                disabled: z.number().int(),
                removed: z.number().int(),
                kept: z.number().int(),
              })
              .openapi('HeldDecisionResult'),
            'what changed',
          ),
          ...problems,
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        await requireConnection(store, id);
        const body = c.req.valid('json');
        if (!body.all && (!body.ids || body.ids.length === 0))
          throw new ApiError(400, 'invalid_request', 'say which held leavers: "all": true, or their "ids"', {
            field: 'ids',
            hint: 'GET /api/v1/connections/{id}/held lists them',
          });
        if (body.all && body.ids && body.ids.length > 0)
          throw new ApiError(400, 'invalid_request', 'give either "all" or "ids", not both', { field: 'all' });
        const ids = body.all ? undefined : body.ids;
        const actor = actorOf(c);
        let result = { decided: 0, disabled: 0, removed: 0, kept: 0 };
        if (verb === 'approve') {
          const counts = await approveHeld(store, id, ids, actor);
          if (counts)
            result = {
              decided: counts.disabled + counts.removed + counts.updated,
              disabled: counts.disabled + counts.updated,
              removed: counts.removed,
              kept: 0,
            };
        } else {
          const n = await discardHeld(store, id, ids, actor);
          if (n !== null) result = { decided: n, disabled: 0, removed: 0, kept: n };
        }
        await recordAdminAction(store.db, {
          actor,
          action: `held.${verb}d`,
          connectionId: id,
          detail: { ids: ids ?? 'all', ...result },
        });
        return c.json(result, 200);
      },
    );
  }

  async function requireRun(runId: string): Promise<Run> {
    const run = await getRun(store.db, runId);
    if (!run)
      throw new ApiError(404, 'not_found', `there is no run "${runId}"`, {
        hint: 'GET /api/v1/runs lists the runs',
      });
    return run;
  }
}

export function runView(run: Run, runner: Runner) {
  return {
    id: run.id,
    connectionId: run.connection_id,
    status: run.status,
    trigger: run.trigger,
    requestedBy: run.requested_by,
    dryRun: run.dry_run,
    full: run.full_read,
    mode: run.mode,
    queuedAt: run.queued_at,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    durationMs: run.duration_ms,
    graphRequests: run.graph_requests,
    throttled: run.throttled,
    draft: run.draft_settings !== null,
    cancelRequested: run.cancel_requested,
    summary: (run.summary ?? null) as never,
    failure: run.failure,
    // This process's own runs report live; others' through the run record (updated every second).
    progress: run.status === 'running' ? (runner.progress(run.id) ?? (run.progress as never) ?? null) : null,
    worker: run.pid === null ? null : { pid: run.pid, host: run.host },
  };
}

/** A page of the audit trail (a run's changes, a user's history) after the cursor, with the cursor of the next. */
export async function auditReply(
  store: Store,
  filter: Parameters<typeof auditPage>[1],
  cursor: string | undefined,
  limit: number,
) {
  const after = cursor ? Number(decodeCursor(cursor, ['seq']).seq) : 0;
  const rows = await auditPage(store.db, filter, after, limit);
  return {
    items: rows.map(auditView),
    nextCursor: rows.length === limit ? encodeCursor({ seq: String(rows[rows.length - 1].seq) }) : null,
  };
}

export function auditView(r: Awaited<ReturnType<typeof auditPage>>[number]) {
  return {
    seq: r.seq,
    at: r.at,
    runId: r.runId,
    actor: r.actor,
    object: r.objectType,
    id: r.objectId,
    action: r.action,
    changes: r.changes ?? [],
  };
}
