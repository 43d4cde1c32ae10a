import { z } from 'zod';
import { GraphError, graphPath, withRequestId } from './errors.ts';
import type { GraphHttp, GraphResponse } from './http.ts';

// Collections one page at a time, so memory stays flat in tenant size: follow @odata.nextLink verbatim
// (resending the caller's headers) and validate each page's shape at the edge.

export type GraphObject = Record<string, unknown>;

export interface Page {
  value: GraphObject[];
  nextLink?: string;
  deltaLink?: string;
}

const pageSchema = z.looseObject({
  value: z.array(z.looseObject({})),
  '@odata.nextLink': z.string().min(1).optional(),
  '@odata.deltaLink': z.string().min(1).optional(),
});

const deltaPageSchema = pageSchema
  .extend({
    value: z.array(z.looseObject({ id: z.string().min(1) })),
  })
  .refine((page) => (page['@odata.nextLink'] === undefined) !== (page['@odata.deltaLink'] === undefined), {
    error: 'a delta page must carry exactly one of @odata.nextLink and @odata.deltaLink',
  });

/** Every page of a collection, from `firstUrl` (a path such as `/users?$select=id` or an absolute link). */
export async function* pages(
  http: GraphHttp,
  firstUrl: string,
  headers?: Record<string, string>,
): AsyncGenerator<Page> {
  let next: string | undefined = firstUrl;
  while (next !== undefined) {
    const response = await http.get(next, { headers });
    const page = parsePage(http, pageSchema, response);
    yield page;
    next = page.nextLink;
  }
}

export interface DeltaRead {
  resource: 'users' | 'groups';
  /** A stored deltaLink, a nextLink to resume an interrupted round, or null to start a first round. */
  link: string | null;
  /** Properties (and relationships: manager, members) to track; used only when starting a round. */
  select: readonly string[];
  /** E.g. `{ Prefer: 'return=minimal' }`; sent on every page. */
  headers?: Record<string, string>;
}

/**
 * The pages of one delta round. Each page carries the link to commit with it: `nextLink` to resume from
 * mid-round, or on the last page `deltaLink` for the next run. An expired or reset token throws
 * DeltaTokenExpiredError (from the HTTP layer) so the caller can fall back to a full read.
 */
export async function* readDelta(http: GraphHttp, read: DeltaRead): AsyncGenerator<Page> {
  let next: string | undefined = read.link ?? `/${read.resource}/delta?$select=${read.select.join(',')}`;
  while (next !== undefined) {
    const response = await http.get(next, { headers: read.headers });
    const page = parsePage(http, deltaPageSchema, response);
    yield page;
    next = page.nextLink;
  }
}

/**
 * A page's links are followed with our token and stored as the next run's starting point: one pointing away from the configured
 * Graph (a rewriting proxy, a tampered answer) refuses the whole page, so nothing of it is written and the link is never stored.
 */
function checkLinks(http: GraphHttp, page: Page, response: GraphResponse): void {
  for (const [name, link] of [
    ['@odata.nextLink', page.nextLink],
    ['@odata.deltaLink', page.deltaLink],
  ] as const) {
    if (link === undefined || http.isGraphLink(link)) continue;
    const path = graphPath(response.url);
    const host = URL.canParse(link) ? new URL(link).origin : `"${link.slice(0, 80)}" (not an absolute URL)`;
    throw new GraphError({
      code: 'foreign_link',
      status: response.status,
      requestId: response.requestId ?? undefined,
      path,
      message: withRequestId(
        `Graph's answer for ${path} carried an ${name} to ${host}, not to the configured Graph (${new URL(http.graphUrl).origin}); ` +
          'usersync neither followed nor stored it, and wrote nothing of that page. Something between usersync and Graph is rewriting answers ' +
          '(a proxy or a TLS-inspecting gateway): take it out of the path, then run the sync again',
        response.requestId,
      ),
    });
  }
}

function parsePage(http: GraphHttp, schema: z.ZodType<z.infer<typeof pageSchema>>, response: GraphResponse): Page {
  const result = schema.safeParse(response.json());
  if (!result.success) {
    const issue = result.error.issues[0];
    const where =
      issue.path.length > 0
        ? `${issue.path
            .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
            .join('')
            .replace(/^\./, '')}: `
        : '';
    const path = graphPath(response.url);
    throw new GraphError({
      code: 'malformed_response',
      status: response.status,
      requestId: response.requestId ?? undefined,
      path,
      message: withRequestId(
        `Graph returned a malformed page for ${path} (${where}${issue.message}); try again, and report it with the request-id if it persists`,
        response.requestId,
      ),
    });
  }
  const data = result.data;
  const page: Page = {
    value: data.value,
    ...(data['@odata.nextLink'] === undefined ? {} : { nextLink: data['@odata.nextLink'] }),
    ...(data['@odata.deltaLink'] === undefined ? {} : { deltaLink: data['@odata.deltaLink'] }),
  };
  checkLinks(http, page, response);
  return page;
}
