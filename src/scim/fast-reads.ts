// GET /Users/{id} and GET /Users (filters, pages): most of an IdP's traffic. Served here, ahead of scimmy-routers,
// from one store query per read (user, emails and groups together) and rendered by render.ts instead of SCIMMY's
// schema instances, with the same answer; GET /Groups/{id} likewise, from the group service. Whatever this path is not sure to answer as SCIMMY would (a query it does
// not take, a stored resource render.ts steps aside for, any failure, a 404 included) goes on to the SCIMMY path,
// which answers it as before; test/integration/scim/fast-reads.test.ts compares the two on the same store.
import type { NextFunction, Request, Response } from "express";
import { SCIMMY } from "scimmy-routers";
import type { ScimContext } from "./context";
import { listResponse, pageOf } from "./handler-support";
import { projectionWants } from "./projection";
import { renderOut } from "./render";
import { userQueryFromFilter } from "./filter";
import { userSortFromConstraints } from "./user-filter";
import { scimFromRow } from "./user-mapping";
import { scimFromGroup } from "./group-mapping";
import type { UserView } from "../provisioning/records";

type Json = Record<string, unknown>;
type UserClass = typeof SCIMMY.Resources.User & { schema: { definition: unknown }; endpoint: string };
type ResourceClass = { schema: { definition: unknown }; endpoint: string };

/** Query parameters a list read takes (attributes= and excludedAttributes= are gone by now: projection.ts). */
const LIST_PARAMS = new Set(["filter", "startIndex", "count", "sortBy", "sortOrder"]);

export interface FastReadOptions {
  publicBaseUrl: string;
  contextOf: (res: Response) => ScimContext;
}

function send(res: Response, body: unknown): void {
  res.setHeader("Content-Type", "application/scim+json");
  res.send(body);
}

export function fastUserReads(opts: FastReadOptions) {
  const base = opts.publicBaseUrl.replace(/\/$/, "");
  const userClass = () => SCIMMY.Resources.declared("User") as unknown as UserClass;
  // As scimmy-routers sets it per request: the public base URL, where the SCIM router is mounted, the endpoint.
  const basepathOf = (req: Request) => `${base}${req.baseUrl}${userClass().endpoint}`;

  const render = (ctx: ScimContext, view: UserView, basepath: string): Json | undefined => {
    const { services } = ctx;
    return renderOut(userClass().schema, scimFromRow(view.row, services.platform, { groups: view.groups, roleName: services.roleName, targets: services.targets }), basepath);
  };

  const byId = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // Another query parameter on a read by id is SCIMMY's to judge.
    if (Object.keys(req.query).length) return next();
    let body: Json | undefined;
    try {
      const ctx = opts.contextOf(res);
      body = render(ctx, await ctx.services.userReads.get(req.params.id), basepathOf(req));
    } catch {
      // Not found, or the store failed: the SCIMMY path answers (and logs) it as it always has.
      return next();
    }
    if (!body) return next();
    send(res, body);
  };

  const list = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (Object.keys(req.query).some((k) => !LIST_PARAMS.has(k))) return next();
    let body: unknown;
    try {
      const ctx = opts.contextOf(res);
      // SCIMMY parses the query as scimmy-routers would hand it over (startIndex and count as numbers); a query it
      // refuses throws here and is refused again, with SCIMMY's error, on the SCIMMY path.
      const query: Record<string, unknown> = { ...req.query };
      for (const p of ["startIndex", "count"]) if (typeof query[p] === "string" && query[p] && !Number.isNaN(+query[p]!)) query[p] = +query[p]!;
      // The filter is ours to parse (filter-handoff.ts: SCIMMY's parser refuses escaped quotes); anything but one
      // non-empty string goes to the SCIMMY path and its checks.
      const { filter, ...rest } = query;
      if (filter !== undefined && (typeof filter !== "string" || filter.trim() === "")) return next();
      const User = userClass();
      const resource = new User(rest as never) as unknown as { constraints: Record<string, unknown> };
      const page = pageOf(resource.constraints, ctx.services.maxResults);
      const { total, rows } = await ctx.services.userReads.list(
        userQueryFromFilter(filter === undefined ? undefined : { expression: filter }),
        page,
        userSortFromConstraints(resource.constraints),
        projectionWants(ctx.request.projection, "groups"),
      );
      const basepath = basepathOf(req);
      const resources: Json[] = [];
      for (const view of rows) {
        const rendered = render(ctx, view, basepath);
        if (!rendered) return next();
        resources.push(rendered);
      }
      body = listResponse(resources, total, page);
    } catch {
      return next();
    }
    send(res, body);
  };

  return { byId, list };
}

/**
 * GET /Groups/{id}: an IdP looks groups up by id often, Entra with `excludedAttributes=members` (then no member is
 * read). Rendered by render.ts; anything else goes on to the SCIMMY path, as for users.
 */
export function fastGroupRead(opts: FastReadOptions) {
  const base = opts.publicBaseUrl.replace(/\/$/, "");
  const groupClass = () => SCIMMY.Resources.declared("Group") as unknown as ResourceClass;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (Object.keys(req.query).length) return next();
    let body: Json | undefined;
    try {
      const ctx = opts.contextOf(res);
      const Group = groupClass();
      const row = await ctx.services.groups.get(req.params.id);
      const members = projectionWants(ctx.request.projection, "members") ? await ctx.services.groups.members(row.id) : undefined;
      body = renderOut(Group.schema, scimFromGroup(row, members), `${base}${req.baseUrl}${Group.endpoint}`);
    } catch {
      return next();
    }
    if (!body) return next();
    send(res, body);
  };
}
