import { createRoute, z } from '@hono/zod-openapi';
import { requireConnection } from '../../connections/connections.ts';
import {
  auditPage,
  directReportCounts,
  directoryUsersPage,
  getDirectoryUserListing,
  getPhoto,
  type Store,
} from '../../store/index.ts';
import { listSyncedDepartments, listSyncedGroups } from '../../sync/listing.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { ApiError } from '../problem.ts';
import {
  auditEntrySchema,
  departmentSchema,
  directoryGroupSchema,
  directoryUserSchema,
  eventSchema,
  idParam,
  orgNodeSchema,
  pageOf,
  pageQuery,
  userIdParam,
} from '../schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { json, out, problems } from './common.ts';
import { auditReply } from './runs.ts';

// The directory as the application reads it: users (paged, searchable), one user and their photo, groups, departments,
// the org chart, a user's audit trail, and the events feed that lets an application follow every change.

const userPage = pageOf(directoryUserSchema, 'DirectoryUserPage');
const groupPage = pageOf(directoryGroupSchema, 'DirectoryGroupPage');
const departmentPage = pageOf(departmentSchema, 'DepartmentPage');
const orgPage = pageOf(orgNodeSchema, 'OrgNodePage');
const auditList = pageOf(auditEntrySchema, 'AuditPage');
const eventPage = pageOf(eventSchema, 'EventPage');

export function directoryRoutes(app: Api, deps: ServiceDeps): void {
  const { store } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/users',
      tags: ['directory'],
      summary: 'Directory users in loginAccount order (the shape of users list --json), with search and filters',
      request: {
        params: idParam,
        query: pageQuery.extend({
          search: z.string().optional().describe('text in the loginAccount, name or email (case-insensitive)'),
          status: z.enum(['active', 'disabled']).optional(),
          department: z.string().optional(),
          manager: z
            .string()
            .optional()
            .describe("direct reports of this user (externalId); '' = the top of the org chart"),
        }),
      },
      responses: { 200: json(userPage, 'a page of users'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const q = c.req.valid('query');
      const after = q.cursor ? decodeCursor(q.cursor, ['login', 'id']) : null;
      const items = await directoryUsersPage(store.db, id, after, q.limit, {
        search: q.search,
        status: q.status,
        department: q.department,
        managerId: q.manager,
      });
      const last = items[items.length - 1];
      return c.json(
        out(userPage, {
          items,
          nextCursor: items.length === q.limit ? encodeCursor({ login: last.loginAccount, id: last.externalId }) : null,
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/users/{userId}',
      tags: ['directory'],
      summary: 'One directory user',
      request: { params: userIdParam },
      responses: { 200: json(directoryUserSchema, 'the user'), ...problems },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      return c.json(out(directoryUserSchema, await requireUser(store, id, userId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/users/{userId}/photo',
      tags: ['directory'],
      summary: "The user's photo bytes (ETag is the SHA-256 of the bytes)",
      request: { params: userIdParam },
      responses: {
        200: {
          content: { 'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) } },
          description: 'the photo',
        },
        304: { description: 'not modified (If-None-Match)' },
        ...problems,
      },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      await requireUser(store, id, userId);
      const photo = await getPhoto(store.db, id, userId);
      if (!photo)
        throw new ApiError(404, 'not_found', `user ${userId} has no photo`, {
          hint: 'the user list says photo: null for users without one',
        });
      const etag = `"${photo.sha256}"`;
      if (c.req.header('if-none-match') === etag) return c.body(null, 304);
      return c.body(Buffer.from(photo.bytes), 200, {
        'content-type': photo.contentType ?? 'image/jpeg',
        etag,
        'cache-control': 'private, max-age=300',
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/users/{userId}/audit',
      tags: ['directory'],
      summary: "A user's whole audit trail, oldest first: every change, by which run or admin, field before → after",
      request: { params: userIdParam, query: pageQuery },
      responses: { 200: json(auditList, 'a page of audit entries'), ...problems },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      await requireConnection(store, id);
      const { limit, cursor } = c.req.valid('query');
      return c.json(
        out(auditList, await auditReply(store, { connectionId: id, objectId: userId }, cursor, limit)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/groups',
      tags: ['directory'],
      summary: 'Directory groups (the shape of groups list --json), as the groups settings define them',
      request: { params: idParam, query: pageQuery.extend({ search: z.string().optional() }) },
      responses: { 200: json(groupPage, 'a page of groups'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const q = c.req.valid('query');
      const needle = q.search?.trim().toLowerCase();
      const all = (await listSyncedGroups(store, id))
        .filter((g) => !needle || (g.name ?? '').toLowerCase().includes(needle))
        .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.externalId.localeCompare(b.externalId));
      return c.json(
        out(
          groupPage,
          slice(all, q, (g) => g.externalId),
        ),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/departments',
      tags: ['directory'],
      summary: 'Departments and their members (the shape of departments list --json)',
      request: { params: idParam, query: pageQuery },
      responses: { 200: json(departmentPage, 'a page of departments'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const all = await listSyncedDepartments(store, id);
      return c.json(
        out(
          departmentPage,
          slice(all, c.req.valid('query'), (d) => d.name),
        ),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/org-chart',
      tags: ['directory'],
      summary:
        "One level of the org chart: a manager's direct reports (or the top, without manager), each with their count of reports",
      request: {
        params: idParam,
        query: pageQuery.extend({
          manager: z.string().optional().describe('the manager (externalId); left out: the people at the top'),
        }),
      },
      responses: { 200: json(orgPage, 'a page of the level'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const q = c.req.valid('query');
      const after = q.cursor ? decodeCursor(q.cursor, ['login', 'id']) : null;
      const users = await directoryUsersPage(store.db, id, after, q.limit, {
        managerId: q.manager ?? '',
        status: 'active',
      });
      const reports = await directReportCounts(
        store.db,
        id,
        users.map((u) => u.externalId),
      );
      const last = users[users.length - 1];
      return c.json(
        out(orgPage, {
          items: users.map((user) => ({ user, reports: reports.get(user.externalId) ?? 0 })),
          nextCursor: users.length === q.limit ? encodeCursor({ login: last.loginAccount, id: last.externalId }) : null,
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}/events',
      tags: ['events'],
      summary: "The directory's changes in order, to follow it without reading all of it",
      description:
        'Types: user.created, user.updated (changes: the fields before → after), user.disabled, user.enabled, user.left, user.removed, user.held, group.created, group.updated, group.removed, membership.added, membership.removed, department.created. Start with no cursor (the oldest kept, audit.retentionDays) or with the nextCursor of the last page you read; an empty page still returns the cursor to continue from.',
      request: {
        params: idParam,
        query: z.object({
          after: z.string().optional().describe('the cursor of the last event read (or nextCursor)'),
          limit: pageQuery.shape.limit,
        }),
      },
      responses: { 200: json(eventPage, 'a page of events'), ...problems },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireConnection(store, id);
      const { after, limit } = c.req.valid('query');
      let from = 0;
      if (after !== undefined) {
        from = Number(after);
        if (!/^\d+$/.test(after) || !Number.isSafeInteger(from))
          throw new ApiError(400, 'invalid_request', 'after is not an event cursor', {
            field: 'after',
            hint: 'pass the cursor of an event, or the nextCursor of the previous page, unchanged',
          });
      }
      const rows = await auditPage(store.db, { connectionId: id }, from, limit);
      const items = rows.map((r) => ({
        cursor: String(r.seq),
        type: `${r.objectType}.${r.action}`,
        at: r.at,
        runId: r.runId,
        objectId: r.objectId,
        changes: r.changes ?? [],
      }));
      return c.json(
        out(eventPage, { items, nextCursor: items.length > 0 ? items[items.length - 1].cursor : (after ?? null) }),
        200,
      );
    },
  );
}

async function requireUser(store: Store, conn: string, userId: string) {
  await requireConnection(store, conn);
  const user = await getDirectoryUserListing(store.db, conn, userId);
  if (!user)
    throw new ApiError(404, 'not_found', `the directory of "${conn}" has no user ${userId}`, {
      hint: 'users are addressed by externalId (the Entra object id); GET …/users?search= finds one',
    });
  return user;
}

/** A page of a list already in memory, after the cursor's key. */
function slice<T>(all: T[], q: { limit: number; cursor?: string }, key: (item: T) => string) {
  let start = 0;
  if (q.cursor) {
    const after = decodeCursor(q.cursor, ['k']).k;
    const i = all.findIndex((item) => key(item) === after);
    start = i + 1;
  }
  const items = all.slice(start, start + q.limit);
  return {
    items,
    nextCursor: start + q.limit < all.length ? encodeCursor({ k: key(items[items.length - 1]) }) : null,
  };
}
