import { SCIMMY } from "scimmy-routers";
import { actorOf, type ScimContext } from "./context";
import { projectionWants } from "./projection";
import { groupQueryFromFilter, groupSortFromConstraints } from "./filter";
import { groupDraftFromScim, scimFromGroup } from "./group-mapping";
import { guarded, hardened, hardenedResource, listResponse, pageOf } from "./handler-support";
import type { ScimResourceType } from "./resource-types";

/**
 * Group lists come from the store with the true total, and skip loading members when the read excludes them
 * (Entra's `excludedAttributes=members` on every group lookup): membership can be large.
 */
class GroupResource extends hardenedResource(SCIMMY.Resources.Group) {
  override async read<T = ScimContext>(ctx?: T): Promise<any> {
    const c = ctx as unknown as ScimContext;
    if (this.id) return hardened(() => super.read(ctx));
    return guarded(c, async () => {
      const query = groupQueryFromFilter(c.request.filter !== undefined ? { expression: c.request.filter } : this.filter);
      const sort = groupSortFromConstraints(this.constraints);
      const page = pageOf(this.constraints, c.services.maxResults);
      const { total, rows } = await c.services.groups.list(query, page, sort);
      const withMembers = projectionWants(c.request.projection, "members");
      const resources: unknown[] = [];
      for (const row of rows) {
        const members = withMembers ? await c.services.groups.members(row.id) : undefined;
        resources.push(new SCIMMY.Schemas.Group(scimFromGroup(row, members), "out", GroupResource.basepath() as string, this.attributes));
      }
      return listResponse(resources, total, page);
    });
  }
}

let declared = false;

/** The Group resource type of the SCIM surface (see resource-types.ts). */
export const groupResourceType: ScimResourceType = {
  name: "Group",
  declare: declareGroupResource,
  storedVersion: async (services, id) => (await services.groups.get(id)).version,
};

/** Declares the Group resource once per process. PATCH does not come here: see router.ts groupPatchRoute. */
function declareGroupResource(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.declare(GroupResource as unknown as typeof SCIMMY.Resources.Group, {
    name: "Group",
    egress: (resource: SCIMMY.Resources.Group, ctx: ScimContext) =>
      guarded(ctx, async () => {
        if (!resource.id) return [];
        const row = await ctx.services.groups.get(resource.id);
        const members = projectionWants(ctx.request.projection, "members") ? await ctx.services.groups.members(row.id) : undefined;
        return scimFromGroup(row, members);
      }),
    ingress: (resource: SCIMMY.Resources.Group, instance: SCIMMY.Schemas.Group, ctx: ScimContext) =>
      guarded(ctx, async () => {
        const draft = groupDraftFromScim(JSON.parse(JSON.stringify(instance)));
        const row = resource.id ? await ctx.services.groups.replace(resource.id, draft, actorOf(ctx), ctx.request.ifMatchVersion) : await ctx.services.groups.create(draft, actorOf(ctx));
        return scimFromGroup(row, await ctx.services.groups.members(row.id));
      }),
    degress: (resource: SCIMMY.Resources.Group, ctx: ScimContext) =>
      guarded(ctx, async () => {
        await ctx.services.groups.delete(resource.id!, actorOf(ctx), ctx.request.ifMatchVersion);
      }),
  });
}
