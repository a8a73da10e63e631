import type { UserDraft } from "../provisioning/model";
import type { GroupRef, StoredEmail, UserRow } from "../provisioning/records";
import type { PlatformName } from "../digicert/types";
import { worstSyncState } from "../provisioning/target-sync";
import { DIGICERT_USER_SCHEMA } from "./schemas";

// SCIM wire shape ⇄ the provisioning draft and the stored row. No DigiCert field names here.

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v : null);

function pickPhone(phones: unknown): string | null {
  if (!Array.isArray(phones)) return null;
  const list = phones.filter((p): p is Json => !!p && typeof p === "object" && !!str((p as Json).value));
  const byType = (t: string) => list.find((p) => String(p.type ?? "").toLowerCase() === t);
  const chosen = list.find((p) => p.primary === true) ?? byType("work") ?? byType("mobile") ?? list[0];
  return chosen ? String(chosen.value) : null;
}

function emailsOf(emails: unknown): StoredEmail[] {
  if (!Array.isArray(emails)) return [];
  return emails
    .filter((e): e is Json => !!e && typeof e === "object" && !!str((e as Json).value))
    .map((e) => ({ value: String(e.value), type: str(e.type), primary: e.primary === true }));
}

/** Lifts a validated SCIM User (as SCIMMY hands it to ingress) into a provisioning draft. */
export function draftFromScim(body: Json): UserDraft {
  // groups are the bridge's answer (memberships), never input; roles the IdP writes are direct assignments.
  const { id: _id, meta: _meta, password: _password, groups: _groups, ...resource } = body;
  const name = (body.name ?? {}) as Json;
  const ext = (body[DIGICERT_USER_SCHEMA] ?? {}) as Json;
  // Server-owned extension attributes are never taken from the IdP.
  if (resource[DIGICERT_USER_SCHEMA]) {
    const { digicertUserId: _d, platform: _p, adopted: _a, syncState: _s, lastError: _e, lastSyncedAt: _t, targets: _ts, ...own } = ext;
    resource[DIGICERT_USER_SCHEMA] = own;
    if (!Object.keys(own).length) delete resource[DIGICERT_USER_SCHEMA];
  }
  return {
    userName: String(body.userName),
    externalId: str(body.externalId),
    active: typeof body.active === "boolean" ? body.active : undefined,
    givenName: str(name.givenName),
    familyName: str(name.familyName),
    displayName: str(body.displayName) ?? str(name.formatted),
    emails: emailsOf(body.emails),
    jobTitle: str(ext.jobTitle) ?? str(body.title),
    phone: str(ext.telephone) ?? pickPhone(body.phoneNumbers),
    assignedRoleIds: Array.isArray(body.roles)
      ? body.roles.map((r) => (r && typeof r === "object" ? str((r as Json).value) : null)).filter((v): v is string => !!v)
      : [],
    resource,
  };
}

/** The draft a stored row was made from, with the stored active state. */
export function draftFromRow(row: UserRow): UserDraft {
  return { ...draftFromScim({ ...row.resource, userName: row.userName }), active: row.active };
}

function rolesView(row: UserRow, extras?: UserReadExtras): Json {
  if (!extras) return {};
  const ids =
    extras.roles === "assigned"
      ? draftFromScim({ ...row.resource, userName: row.userName }).assignedRoleIds
      : row.digicertId && row.digicertEnabled
        ? (row.digicertRoleIds ?? [])
        : [];
  const roles = ids.map((id) => ({ value: id, ...(extras.roleName(id) ? { display: extras.roleName(id) } : {}) }));
  return { roles };
}

function weakEtag(version: number): string {
  return `W/"${version}"`;
}

/** What a User read shows besides the stored row: its groups and the names of its DigiCert roles. */
export interface UserReadExtras {
  groups: GroupRef[];
  roleName: (id: string) => string | undefined;
  /**
   * "effective" (reads): the roles DigiCert holds. "assigned" (the base SCIMMY applies a PATCH to): only the
   * roles the IdP assigned directly, so a PATCH of `roles` edits assignments, never the mapping's roles.
   */
  roles?: "effective" | "assigned";
  /** A fan-out tenant's targets, the primary first: the user's state on each is shown (`targets`). */
  targets?: readonly TargetLabel[];
}

/** One of a fan-out tenant's DigiCert targets as its users' reads name it. */
export interface TargetLabel {
  name: string;
  platform: PlatformName;
}

/** The user on each target, as the extension's `targets` shows it. */
function targetsView(row: UserRow, labels: readonly TargetLabel[]): Json[] {
  const [primary, ...others] = labels;
  const stored = new Map((row.targets ?? []).map((t) => [t.target, t]));
  const states = [
    { label: primary!, syncState: row.syncState, digicertId: row.digicertId, syncError: row.syncError, syncedAt: row.syncedAt },
    ...others.map((label) => {
      const t = stored.get(label.name);
      return { label, syncState: t?.syncState ?? ("pending" as const), digicertId: t?.digicertId ?? null, syncError: t?.syncError ?? null, syncedAt: t?.syncedAt ?? null };
    }),
  ];
  return states.map((s) => ({
    target: s.label.name,
    platform: s.label.platform,
    syncState: s.syncState,
    ...(s.digicertId ? { digicertUserId: s.digicertId } : {}),
    ...(s.syncError && s.syncState !== "synced" ? { lastError: s.syncError } : {}),
    ...(s.syncedAt ? { lastSyncedAt: s.syncedAt } : {}),
  }));
}

/** The SCIM representation served for a stored row; reads never ask DigiCert. */
export function scimFromRow(row: UserRow, platform: PlatformName, extras?: UserReadExtras): Json {
  const ext = { ...((row.resource[DIGICERT_USER_SCHEMA] as Json | undefined) ?? {}) };
  ext.platform = platform;
  ext.adopted = row.adopted;
  if (row.digicertId) ext.digicertUserId = row.digicertId;
  if (extras?.targets && extras.targets.length > 1) {
    // Fan-out: the user is as far behind as its worst target, and the first error of that state is named.
    const targets = targetsView(row, extras.targets);
    ext.syncState = worstSyncState(targets.map((t) => t.syncState as UserRow["syncState"]));
    const erred = targets.find((t) => t.syncState === ext.syncState && t.lastError);
    if (erred) ext.lastError = `${erred.target}: ${erred.lastError}`;
    ext.targets = targets;
  } else {
    ext.syncState = row.syncState;
    if (row.syncError && row.syncState !== "synced") ext.lastError = row.syncError;
  }
  if (row.syncedAt) ext.lastSyncedAt = row.syncedAt;
  const schemas = new Set([...((row.resource.schemas as string[] | undefined) ?? []), DIGICERT_USER_SCHEMA]);
  return {
    ...row.resource,
    schemas: [...schemas],
    id: row.id,
    userName: row.userName,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    active: row.active,
    ...(extras ? { groups: extras.groups.map((g) => ({ value: g.id, display: g.displayName, type: "direct" })) } : {}),
    ...rolesView(row, extras),
    [DIGICERT_USER_SCHEMA]: ext,
    meta: { resourceType: "User", created: row.created, lastModified: row.lastModified, version: weakEtag(row.version) },
  };
}
