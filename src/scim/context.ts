import type { PlatformName } from "../digicert/types";
import type { RequestContext } from "../http/request-context";
import type { Logger } from "../log/logger";
import type { AuditActor } from "../provisioning/audit";
import type { GroupService } from "../provisioning/group-service";
import type { UserService } from "../provisioning/user-service";
import type { UserReads } from "../provisioning/user-reads";
import type { TargetLabel } from "./user-mapping";

/** What the SCIM surface works with, built once per app (tests run several apps in one process). */
export interface ScimServices {
  users: UserService;
  /** Reads of users in one store query each (fast-reads.ts). */
  userReads: UserReads;
  groups: GroupService;
  /** Name of a DigiCert role id as last listed; no DigiCert call. */
  roleName: (id: string) => string | undefined;
  /** DigiCert's roles (cached list), for the Role catalogue. */
  roleCatalogue: () => Promise<{ id: string; name: string }[]>;
  platform: PlatformName;
  /** A fan-out tenant's DigiCert targets, the primary first; absent for a tenant with one (user-mapping.ts). */
  targets?: readonly TargetLabel[];
  maxResults: number;
}

/**
 * What every SCIMMY handler receives. SCIMMY's handlers are process-global statics whose only per-call argument is
 * this context, so the app's services come along with the request's own state rather than through closures.
 */
export interface ScimContext {
  request: RequestContext;
  services: ScimServices;
  /** The app's logger, bound to the request id and IdP (made when first used: most requests log nothing else). */
  readonly logger: Logger;
  /** A PATCH: the resource SCIMMY applied the operations to (set by egress), to tell what the operations changed. */
  patchBase?: Record<string, unknown>;
}

/** Who a change recorded in the audit trail came from. */
export function actorOf(ctx: ScimContext): AuditActor {
  const r = ctx.request;
  return { credential: r.credential ?? null, idp: r.idp ?? null, requestId: r.requestId ?? null, trace: r.trace, method: r.method };
}
