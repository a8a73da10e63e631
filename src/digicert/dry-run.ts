// DRY_RUN=true: a DigiCert client that reads from DigiCert but never writes to it. Each write answers the way
// DigiCert would have (a new user gets an id like `dry-run-<uuid>`, a username DigiCert already has is a
// `duplicate`, so the bridge adopts it as it would for real), so the outbox, sync states and SCIM answers behave
// as they will when the bridge runs for real. What the bridge would have asked is recorded by the call recorder
// around this client (src/provisioning/call-audit.ts), as audit entries with dryRun = true.
import { randomUUID } from "node:crypto";
import { DigiCertError } from "./errors";
import type { DigiCertClient, DigiCertUser, DigiCertUserInput } from "./types";
import { userNameKey } from "../user-name";

export const DRY_RUN_ID_PREFIX = "dry-run-";

/** The DigiCert write operations; every other member of a client (reads, validate, platform, …) passes through. */
export const WRITE_OPERATIONS = ["createUser", "updateUser", "setRoles", "setDivisions", "disableUser", "enableUser", "deleteUser"] as const;
export type WriteOperation = (typeof WRITE_OPERATIONS)[number];

/**
 * Wraps `inner` so that no write reaches DigiCert. Within this process it remembers the users it pretended to
 * create, change and delete, so later reads and writes of the same users stay coherent (a user pretended deleted
 * is not found again; one pretended created is).
 */
export function dryRunClient(inner: DigiCertClient, newId: () => string = randomUUID): DigiCertClient {
  /** Users this bridge pretended to create, by id. */
  const made = new Map<string, DigiCertUser>();
  /** Username keys (src/user-name.ts) and ids pretended deleted (real DigiCert users included). */
  const goneNames = new Set<string>();
  const goneIds = new Set<string>();
  const byName = (username: string) => [...made.values()].find((u) => userNameKey(u.username) === userNameKey(username));
  const profileOf = (input: DigiCertUserInput) => ({
    username: input.username,
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email,
    jobTitle: input.jobTitle ?? null,
    phone: input.phone ?? null,
  });

  const writes: Pick<DigiCertClient, WriteOperation | "getUser" | "findUserByUsername"> = {
    async getUser(id) {
      if (made.has(id)) return { ...made.get(id)! };
      if (goneIds.has(id) || id.startsWith(DRY_RUN_ID_PREFIX)) return null;
      return inner.getUser(id);
    },
    async findUserByUsername(username) {
      const mine = byName(username);
      if (mine) return { ...mine };
      if (goneNames.has(userNameKey(username))) return null;
      return inner.findUserByUsername(username);
    },
    async createUser(input, roleIds) {
      // DigiCert refuses a username it already has; the bridge then adopts that user. Answer the same way.
      const existing = await writes.findUserByUsername(input.username);
      if (existing) throw new DigiCertError("duplicate", `DigiCert already has a user named '${input.username}' (dry run: not sent)`);
      const id = `${DRY_RUN_ID_PREFIX}${newId()}`;
      made.set(id, { id, ...profileOf(input), status: "active", roleIds: [...roleIds], inScope: true });
      goneNames.delete(userNameKey(input.username));
      return { id };
    },
    async updateUser(id, input, roles) {
      const u = made.get(id);
      if (u) made.set(id, { ...u, ...profileOf(input), ...(roles?.grant ? { roleIds: [...roles.grant] } : {}) });
    },
    async setRoles(id, roleIds) {
      const u = made.get(id);
      if (u) made.set(id, { ...u, roleIds: [...roleIds] });
    },
    async setDivisions() {
      // Nothing the pretend users show depends on divisions; the call recorder around this client records it.
    },
    async disableUser(id) {
      // Where the real client would delete instead (ONE_DEACTIVATE=delete, CertCentral), the dry run says so too.
      if (inner.deactivation && inner.deactivation().effective === "delete") {
        throw new DigiCertError("unsupported", "access is removed by deleting the user (dry run: not sent)");
      }
      const u = made.get(id);
      if (u) made.set(id, { ...u, status: "disabled" });
    },
    async enableUser(id) {
      if (inner.deactivation && inner.deactivation().effective === "delete") {
        throw new DigiCertError("unsupported", "access is given back by creating the user again (dry run: not sent)");
      }
      const u = made.get(id);
      if (u) made.set(id, { ...u, status: "active" });
    },
    async deleteUser(id) {
      const u = made.get(id);
      if (u) {
        made.delete(id);
        goneNames.add(userNameKey(u.username));
      } else if (!id.startsWith(DRY_RUN_ID_PREFIX) && !goneIds.has(id)) {
        // A real DigiCert user: remember its username, so a later create is not taken for an adoption.
        const real = await inner.getUser(id).catch(() => null);
        if (real) goneNames.add(userNameKey(real.username));
      }
      goneIds.add(id);
    },
  };
  return overlay(inner, writes);
}

/**
 * `inner` with some members replaced: every other member (reads, validate, platform, circuit, pacing, and any a
 * later version adds) is `inner`'s own, bound to it.
 */
export function overlay<T extends object>(inner: T, replaced: Partial<T>): T {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(replaced, prop)) return (replaced as Record<PropertyKey, unknown>)[prop];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
