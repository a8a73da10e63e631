import { SCIMMY } from "scimmy-routers";
import type { ScimContext } from "./context";
import { failureOf, toScimmyError } from "./errors";
import { userQueryFromFilter } from "./filter";
import { DigiCertUserExtension } from "./schemas";
import { draftFromScim, scimFromRow } from "./user-mapping";

/** Runs a handler body; any non-SCIM failure is mapped in one place (scim/errors.ts) and never leaks. */
async function guarded<T>(ctx: ScimContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SCIMMY.Types.Error) throw err;
    const failure = failureOf(err);
    if (failure.internal) ctx.logger.error("unhandled error in SCIM handler", { requestId: ctx.requestId, error: err, stack: (err as Error)?.stack });
    throw toScimmyError(failure, ctx.park);
  }
}

/**
 * SCIMMY's list read builds its ListResponse from whatever egress returns, so paging in the store loses items
 * and totalResults (notes/scimmy.md §4). Lists are therefore read here, from the store, with the true total.
 */
class UserResource extends SCIMMY.Resources.User {
  override async read<T = ScimContext>(ctx?: T): Promise<any> {
    if (this.id) return super.read(ctx);
    const c = ctx as unknown as ScimContext;
    return guarded(c, async () => {
      const query = userQueryFromFilter(this.filter);
      const { startIndex: rawStart, count: rawCount } = this.constraints ?? {};
      const startIndex = Math.max(1, Number.isInteger(rawStart) ? (rawStart as number) : 1);
      // filter.maxResults is advertised but not enforced by SCIMMY: cap count here.
      const count = Math.min(Math.max(0, Number.isInteger(rawCount) ? (rawCount as number) : c.maxResults), c.maxResults);
      const { total, rows } = await c.users.list(query, { offset: startIndex - 1, limit: count });
      const resources = rows.map(
        (row) => new SCIMMY.Schemas.User(scimFromRow(row, c.platform), "out", UserResource.basepath() as string, this.attributes),
      );
      const list = new SCIMMY.Messages.ListResponse(resources, { totalResults: total, count, startIndex: 1 });
      list.startIndex = startIndex;
      list.itemsPerPage = list.Resources.length;
      return list;
    });
  }
}

let declared = false;

/** Declares the User resource once per process (SCIMMY keeps declarations in global statics). */
export function declareUserResource(): void {
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
        return scimFromRow(await ctx.users.get(resource.id), ctx.platform);
      }),
    ingress: (resource: SCIMMY.Resources.User, instance: SCIMMY.Schemas.User, ctx: ScimContext) =>
      guarded(ctx, async () => {
        const draft = draftFromScim(JSON.parse(JSON.stringify(instance)));
        const row = resource.id ? await ctx.users.replace(resource.id, draft) : await ctx.users.create(draft);
        return scimFromRow(row, ctx.platform);
      }),
    degress: (resource: SCIMMY.Resources.User, ctx: ScimContext) =>
      guarded(ctx, async () => {
        await ctx.users.delete(resource.id!);
      }),
  });
}
