import { createRoute, z } from '@hono/zod-openapi';
import { createAdmin, createApiToken } from '../../admins/accounts.ts';
import {
  adminActionsPage,
  deleteAdmin,
  getAdmin,
  listAdmins,
  listApiTokens,
  recordAdminAction,
  revokeApiToken,
} from '../../store/index.ts';
import type { Api, ServiceDeps } from '../app.ts';
import { actorOf } from '../auth.ts';
import { ApiError } from '../problem.ts';
import {
  adminActionSchema,
  adminCreateSchema,
  adminSchema,
  pageOf,
  tokenCreateSchema,
  tokenSchema,
} from '../schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { json, out, problems } from './common.ts';

// API tokens, admins, and the trail of what admins did (who changed settings, who approved a hold, who made a token).

const tokenList = z.object({ items: z.array(tokenSchema) }).openapi('TokenList');
const newToken = tokenSchema
  .omit({ lastUsedAt: true })
  .extend({ token: z.string().describe('shown this once: store it now') })
  .openapi('NewToken');
const adminList = z.object({ items: z.array(adminSchema) }).openapi('AdminList');
const actionPage = pageOf(adminActionSchema, 'AdminActionPage');
const idParam = z.object({ tokenId: z.string().openapi({ param: { name: 'tokenId', in: 'path' } }) });
const adminIdParam = z.object({ adminId: z.string().openapi({ param: { name: 'adminId', in: 'path' } }) });

export function adminRoutes(app: Api, deps: ServiceDeps): void {
  const { store } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tokens',
      tags: ['admins and tokens'],
      summary: 'API tokens (never their values)',
      responses: { 200: json(tokenList, 'the tokens'), ...problems },
    }),
    async (c) => {
      const rows = await listApiTokens(store.db);
      return c.json(
        out(tokenList, {
          items: rows.map((r) => ({
            id: r.id,
            name: r.name,
            createdAt: r.created_at,
            createdBy: r.created_by,
            lastUsedAt: r.last_used_at,
          })),
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tokens',
      tags: ['admins and tokens'],
      summary: 'Create an API token; its value is in this response only',
      request: { body: { content: { 'application/json': { schema: tokenCreateSchema } }, required: true } },
      responses: { 201: json(newToken, 'the token, shown once'), ...problems },
    }),
    async (c) => {
      const actor = actorOf(c);
      const created = await createApiToken(store, c.req.valid('json').name, actor);
      return c.json(out(newToken, { ...created, createdBy: actor }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/tokens/{tokenId}',
      tags: ['admins and tokens'],
      summary: 'Revoke an API token',
      request: { params: idParam },
      responses: { 204: { description: 'revoked' }, ...problems },
    }),
    async (c) => {
      const { tokenId } = c.req.valid('param');
      if (!(await revokeApiToken(store.db, tokenId)))
        throw new ApiError(404, 'not_found', `there is no active token "${tokenId}"`, {
          hint: 'GET /api/v1/tokens lists them',
        });
      await recordAdminAction(store.db, { actor: actorOf(c), action: 'token.revoked', target: tokenId });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/admins',
      tags: ['admins and tokens'],
      summary: 'Admin accounts',
      responses: { 200: json(adminList, 'the admins'), ...problems },
    }),
    async (c) => {
      const rows = await listAdmins(store.db);
      return c.json(
        out(adminList, {
          items: rows.map((r) => ({
            id: r.id,
            email: r.email,
            createdAt: r.created_at,
            lastSignInAt: r.last_sign_in_at,
            password: r.password_hash !== null,
          })),
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/admins',
      tags: ['admins and tokens'],
      summary: 'Create an admin (with a password, or without one to sign in by link or Microsoft only)',
      request: { body: { content: { 'application/json': { schema: adminCreateSchema } }, required: true } },
      responses: { 201: json(adminSchema, 'the admin'), ...problems },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const row = await createAdmin(store, body, actorOf(c));
      return c.json(
        out(adminSchema, {
          id: row.id,
          email: row.email,
          createdAt: row.created_at,
          lastSignInAt: null,
          password: row.password_hash !== null,
        }),
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/admins/{adminId}',
      tags: ['admins and tokens'],
      summary: 'Delete an admin (not yourself)',
      request: { params: adminIdParam },
      responses: { 204: { description: 'deleted' }, ...problems },
    }),
    async (c) => {
      const { adminId } = c.req.valid('param');
      const principal = c.get('principal');
      if (principal.kind === 'admin' && principal.id === adminId)
        throw new ApiError(409, 'conflict', 'you cannot delete your own account', {
          hint: 'ask another admin to do it',
        });
      const admin = await getAdmin(store.db, adminId);
      if (!admin)
        throw new ApiError(404, 'not_found', `there is no admin "${adminId}"`, {
          hint: 'GET /api/v1/admins lists them',
        });
      await deleteAdmin(store.db, adminId);
      await recordAdminAction(store.db, { actor: actorOf(c), action: 'admin.deleted', target: admin.email });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/admin-actions',
      tags: ['admins and tokens'],
      summary: 'What admins and tokens did, newest first: settings changed, holds decided, runs started and stopped',
      request: {
        query: z.object({
          connectionId: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().optional(),
        }),
      },
      responses: { 200: json(actionPage, 'a page of actions'), ...problems },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const before = q.cursor ? Number(decodeCursor(q.cursor, ['seq']).seq) : undefined;
      const items = await adminActionsPage(store.db, {
        connectionId: q.connectionId,
        beforeSeq: before,
        limit: q.limit,
      });
      return c.json(
        out(actionPage, {
          items,
          nextCursor: items.length === q.limit ? encodeCursor({ seq: String(items[items.length - 1].seq) }) : null,
        }),
        200,
      );
    },
  );
}
