import type { Platform } from "../digicert/types";
import type { Logger } from "../log/logger";
import type { AuditActor } from "../provisioning/audit";
import type { GroupService } from "../provisioning/group-service";
import type { UserService } from "../provisioning/user-service";
import type { Projection } from "./projection";

/**
 * Per-request context handed to every SCIMMY handler. SCIMMY's handlers are process-global statics, so all
 * request- and app-specific things (services included) travel here rather than in closures.
 */
export interface ScimContext {
  requestId: string;
  method: string;
  /** Name of the credential that authenticated the request; never the secret. */
  credential: string;
  /** The IdP detected for the request (src/scim/idp.ts), for the audit trail. */
  idp?: string;
  logger: Logger;
  users: UserService;
  groups: GroupService;
  /** Name of a DigiCert role id as last listed; no DigiCert call. */
  roleName: (id: string) => string | undefined;
  /** DigiCert's roles (cached list), for the Role catalogue. */
  roleCatalogue: () => Promise<{ id: string; name: string }[]>;
  platform: Platform;
  maxResults: number;
  /** PATCH: the stored version egress handed SCIMMY, so ingress can tell whether another change came in between. */
  patchBaseVersion?: number;
  /** PUT with If-Match: the version it names, which the write must still find (see etags.ts). */
  ifMatchVersion?: number;
  /** attributes/excludedAttributes of the request (projection.ts), so reads can skip what the answer leaves out. */
  projection?: Projection;
}

/** Who a change recorded in the audit trail came from. */
export function actorOf(ctx: ScimContext): AuditActor {
  return { credential: ctx.credential ?? null, idp: ctx.idp ?? null, requestId: ctx.requestId ?? null, method: ctx.method };
}
