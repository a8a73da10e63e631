import { SCIMMY } from "scimmy-routers";
import type { UserRow } from "../provisioning/records";
import { assertVersion } from "../provisioning/errors";
import { actorOf, type ScimContext } from "./context";
import { projectionWants } from "./projection";
import { userQueryFromFilter } from "./filter";
import { userSortFromConstraints } from "./user-filter";
import { guarded, hardened, hardenedResource, listResponse, pageOf } from "./handler-support";
import type { ScimResourceType } from "./resource-types";
import { DigiCertUserExtension } from "./schemas";
import { draftFromScim, scimFromRow } from "./user-mapping";
import { settleMultiValued } from "./multi-valued";

/** Lists are read from the store with the true total (see handler-support.listResponse). */
class UserResource extends hardenedResource(SCIMMY.Resources.User) {
  override async read<T = ScimContext>(ctx?: T): Promise<any> {
    if (this.id) return hardened(() => super.read(ctx));
    const c = ctx as unknown as ScimContext;
    return guarded(c, async () => {
      const query = userQueryFromFilter(c.request.filter !== undefined ? { expression: c.request.filter } : this.filter);
      const sort = userSortFromConstraints(this.constraints);
      const page = pageOf(this.constraints, c.services.maxResults);
      const { total, rows } = await c.services.users.list(query, page, sort);
      const groups = projectionWants(c.request.projection, "groups") ? await c.services.groups.groupsOfUsers(rows.map((r) => r.id)) : undefined;
      const resources = rows.map(
        (row) =>
          new SCIMMY.Schemas.User(
            scimFromRow(row, c.services.platform, { groups: groups?.get(row.id) ?? [], roleName: c.services.roleName, targets: c.services.targets }),
            "out",
            UserResource.basepath() as string,
            this.attributes,
          ),
      );
      return listResponse(resources, total, page);
    });
  }
}

async function userWithExtras(ctx: ScimContext, row: UserRow, roles: "effective" | "assigned" = "effective") {
  const groups = (await ctx.services.groups.groupsOfUsers([row.id])).get(row.id) ?? [];
  return scimFromRow(row, ctx.services.platform, { groups, roleName: ctx.services.roleName, roles, targets: ctx.services.targets });
}

let declared = false;

/** The User resource type of the SCIM surface (see resource-types.ts). */
export const userResourceType: ScimResourceType = {
  name: "User",
  declare: declareUserResource,
  storedVersion: async (services, id) => (await services.users.get(id)).version,
};

/** Declares the User resource once per process (SCIMMY keeps declarations in global statics). */
function declareUserResource(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(UserResource as unknown as typeof SCIMMY.Resources.User, {
    name: "User",
    extensions: [
      { schema: SCIMMY.Schemas.EnterpriseUser, required: false },
      { schema: DigiCertUserExtension, required: false },
    ],
    egress: (resource: SCIMMY.Resources.User, ctx: ScimContext) =>
      guarded(ctx, async () => {
        if (!resource.id) return [];
        const row = await ctx.services.users.get(resource.id);
        if (ctx.request.method !== "PATCH") return userWithExtras(ctx, row);
        // A PATCH is applied by SCIMMY to what egress returns: give it the IdP's own role assignments, and remember
        // which version that was, so a change that lands in between is not silently undone.
        // If-Match named the version the precondition saw; a change since then (even one a retry meets) is a 412.
        assertVersion(row, ctx.request.ifMatchVersion);
        ctx.request.patchBaseVersion = row.version;
        const base = await userWithExtras(ctx, row, "assigned");
        ctx.patchBase = base;
        return base;
      }),
    ingress: (resource: SCIMMY.Resources.User, instance: SCIMMY.Schemas.User, ctx: ScimContext) =>
      guarded(ctx, async () => {
        // One primary per attribute and no duplicate entries (multi-valued.ts); a PATCH compared with its base.
        const written = settleMultiValued(JSON.parse(JSON.stringify(instance)), ctx.request.method === "PATCH" ? ctx.patchBase : undefined);
        const draft = draftFromScim(written);
        const row = resource.id
          ? await ctx.services.users.replace(resource.id, draft, ctx.request.method === "PATCH" ? ctx.request.patchBaseVersion : ctx.request.ifMatchVersion, actorOf(ctx))
          : await ctx.services.users.create(draft, actorOf(ctx));
        return userWithExtras(ctx, row);
      }),
    degress: (resource: SCIMMY.Resources.User, ctx: ScimContext) =>
      guarded(ctx, async () => {
        await ctx.services.users.delete(resource.id!, actorOf(ctx), ctx.request.ifMatchVersion);
      }),
  });
}
