import type { GroupDraft } from "../provisioning/group-service";
import type { GroupMember, GroupRow } from "../provisioning/records";

// SCIM Group wire shape ⇄ provisioning draft and stored row.

type Json = Record<string, unknown>;

/** Lifts a validated SCIM Group (as SCIMMY hands it to ingress) into a draft; members become bare user ids. */
export function groupDraftFromScim(body: Json): GroupDraft {
  const { id: _id, meta: _meta, members, ...resource } = body;
  const memberIds = Array.isArray(members)
    ? members.map((m) => (m && typeof m === "object" ? (m as Json).value : undefined)).filter((v): v is string => typeof v === "string")
    : [];
  return {
    displayName: String(body.displayName),
    externalId: typeof body.externalId === "string" && body.externalId ? body.externalId : null,
    resource,
    memberIds,
  };
}

/** The SCIM representation of a stored group; `members` undefined when the caller did not ask for them. */
export function scimFromGroup(row: GroupRow, members?: GroupMember[]): Json {
  return {
    ...row.resource,
    id: row.id,
    displayName: row.displayName,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    ...(members ? { members: members.map((m) => ({ value: m.userId, display: m.userName, type: "User" })) } : {}),
    meta: { resourceType: "Group", created: row.created, lastModified: row.lastModified, version: `W/"${row.version}"` },
  };
}
