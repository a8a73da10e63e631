// Records every DigiCert write an outbox job makes (or, in dry-run, would make) in the audit trail: which call,
// on which DigiCert user, with what (profile fields, roles; never a secret), and how it ended. Each entry carries
// the job's id and the SCIM request that queued the job (payload.requestId), so a user's history shows which IdP
// request caused which DigiCert call.
import { isDigiCertError } from "../digicert/errors";
import { overlay, type WriteOperation } from "../digicert/dry-run";
import type { DigiCertClient, DigiCertUserInput } from "../digicert/types";
import type { AuditChange, OutboxJob } from "./records";
import type { UserRepository } from "./ports";
import { safeChanges, type AuditTrail } from "./audit";

export interface CallAuditDeps {
  trail: AuditTrail;
  /** To name the user of a job whose payload does not (role jobs). */
  users: Pick<UserRepository, "getById">;
  /** The bridge runs in dry-run: the calls were not sent. */
  dryRun: boolean;
  /** A DigiCert role's name, when known (no DigiCert call). */
  roleName?: (id: string) => string | undefined;
}

function profileChanges(input: DigiCertUserInput): AuditChange[] {
  const fields: [string, unknown][] = [
    ["username", input.username],
    ["firstName", input.firstName],
    ["lastName", input.lastName],
    ["email", input.email],
    ["jobTitle", input.jobTitle ?? null],
    ["phone", input.phone ?? null],
  ];
  return fields.map(([path, after]) => ({ path, after }));
}

/** The DigiCert client one job uses: `inner` with each write recorded as it ends. */
export function auditedClient(inner: DigiCertClient, job: OutboxJob, deps: CallAuditDeps): DigiCertClient {
  let userName: Promise<string | null> | undefined;
  const nameOfUser = () =>
    (userName ??= job.payload.userName
      ? Promise.resolve(job.payload.userName)
      : deps.users.getById(job.userId).then(
          (r) => r?.userName ?? null,
          () => null,
        ));
  const roles = (ids: string[]) => ids.map((id) => ({ id, ...(deps.roleName?.(id) ? { name: deps.roleName(id) } : {}) }));

  async function recorded<T>(operation: WriteOperation, digicertId: string | null, changes: AuditChange[], call: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await call();
    } catch (err) {
      await record(operation, digicertId, changes, err);
      throw err;
    }
    const id = operation === "createUser" ? ((result as { id?: string } | undefined)?.id ?? null) : digicertId;
    await record(operation, id, changes, null);
    return result;
  }

  async function record(operation: WriteOperation, digicertId: string | null, changes: AuditChange[], err: unknown): Promise<void> {
    const errorKind = err === null ? null : isDigiCertError(err) ? err.kind : "internal";
    await deps.trail.record([
      {
        kind: "digicert",
        action: `digicert.${operation}`,
        outcome: err === null ? "ok" : "error",
        requestId: job.payload.requestId ?? null,
        resourceType: "User",
        resourceId: job.userId,
        userName: await nameOfUser(),
        changes: safeChanges(changes),
        detail: err === null ? null : err instanceof Error ? err.message : String(err),
        jobId: job.id,
        dryRun: deps.dryRun,
        digicert: { operation, digicertId, errorKind },
      },
    ]);
  }

  return overlay<DigiCertClient>(inner, {
    createUser: (input, roleIds, opts) =>
      recorded(
        "createUser",
        null,
        [...profileChanges(input), { path: "roles", after: roles(roleIds) }, ...(opts?.divisionIds?.length ? [{ path: "divisions", after: opts.divisionIds }] : [])],
        () => inner.createUser(input, roleIds, opts),
      ),
    updateUser: (id, input, r) =>
      recorded("updateUser", id, [...profileChanges(input), ...(r?.grant ? [{ path: "roles", after: roles(r.grant) }] : [])], () => inner.updateUser(id, input, r)),
    setRoles: (id, roleIds, scope) => recorded("setRoles", id, [{ path: "roles", after: roles(roleIds) }], () => inner.setRoles(id, roleIds, scope)),
    ...(inner.setDivisions
      ? { setDivisions: (id: string, ids: string[]) => recorded("setDivisions", id, [{ path: "divisions", after: ids }], () => inner.setDivisions!(id, ids)) }
      : {}),
    disableUser: (id) => recorded("disableUser", id, [], () => inner.disableUser(id)),
    enableUser: (id) => recorded("enableUser", id, [], () => inner.enableUser(id)),
    deleteUser: (id) => recorded("deleteUser", id, [], () => inner.deleteUser(id)),
  });
}
