// The baseline: SCIMMY + scimmy-routers as their README shows them, on Express 4, with in-memory handlers that
// return the same resources the bridge serves for the same ids (benchmarks/lib/dataset.ts), and nothing else: no
// store, no request log, no metrics, no back-pressure, no audit. Started as a child process by the benchmarks.
//
// Env: PORT, BASELINE_USERS, BASELINE_GROUPS (users spread over groups as in the bridge's seeded store),
// BASELINE_BIG_GROUP (a group of that many members, id groupId(1_000_000), for the large-group benchmark).
import express from "express";
import SCIMMYRouters, { SCIMMY } from "scimmy-routers";
import { DigiCertUserExtension } from "../../src/scim/schemas";
import { scimFromRow } from "../../src/scim/user-mapping";
import type { UserRow } from "../../src/provisioning/records";
import { BENCH_TOKEN, groupId, groupName, groupOfUser, groupRow, membersOf, userId, userRow } from "../lib/dataset";

const USERS = Number(process.env.BASELINE_USERS ?? 0);
const GROUPS = Number(process.env.BASELINE_GROUPS ?? 0);
const BIG_GROUP = Number(process.env.BASELINE_BIG_GROUP ?? 0);
export const BIG_GROUP_INDEX = 1_000_000;

type Json = Record<string, any>;
const now = new Date().toISOString();
const users = new Map<string, Json>();
const byUserName = new Map<string, string>();
/** User ids in creation order: the order the bridge pages them in. */
const userOrder: string[] = [];
const groups = new Map<string, { resource: Json; members: { value: string; display?: string }[] }>();

for (let i = 0; i < USERS; i++) {
  const row: UserRow = { ...userRow(i), digicertEnabled: true, digicertRoleIds: ["5"], digicertDivisionIds: null, syncState: "synced", syncError: null, syncedAt: null, created: now, lastModified: now, version: 1 };
  const g = groupOfUser(i, USERS, GROUPS);
  const refs = g >= 0 ? [{ id: groupId(g), displayName: groupName(g), externalId: `gext-${g}` }] : [];
  // As the bridge shows it: role names are known once DigiCert's role list was read (at the first write).
  users.set(row.id, scimFromRow(row, "certcentral", { groups: refs, roleName: () => undefined }));
  byUserName.set(row.userName.toLowerCase(), row.id);
  userOrder.push(row.id);
}
const groupMeta = (id: string) => ({ resourceType: "Group", created: now, lastModified: now, version: 'W/"1"' });
for (let g = 0; g < GROUPS; g++) {
  const row = groupRow(g);
  groups.set(row.id, {
    resource: { ...row.resource, id: row.id, meta: groupMeta(row.id) },
    members: membersOf(g, USERS, GROUPS).map((i) => ({ value: userId(i) })),
  });
}
if (BIG_GROUP > 0) {
  const id = groupId(BIG_GROUP_INDEX);
  groups.set(id, {
    resource: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id, displayName: "Everyone", meta: groupMeta(id) },
    members: Array.from({ length: BIG_GROUP }, (_, i) => ({ value: userId(i) })),
  });
}

const notFound = (what: string) => new SCIMMY.Types.Error(404, null as never, `${what} not found`);

/** The userName of a `userName eq "…"` filter (the one list the benchmark sends), if that is what it is. */
function userNameEq(filter: unknown): string | undefined {
  const branch = Array.isArray(filter) && filter.length === 1 ? (filter[0] as Json) : undefined;
  const term = branch?.userName;
  return Array.isArray(term) && term[0] === "eq" && typeof term[1] === "string" ? term[1] : undefined;
}

function wantsMembers(attributes: unknown): boolean {
  const a = (Array.isArray(attributes) ? attributes[0] : undefined) as Json | undefined;
  return !(a && Array.isArray(a.members) && a.members[0] === "np");
}

SCIMMY.Resources.declare(SCIMMY.Resources.User, {
  extensions: [
    { schema: SCIMMY.Schemas.EnterpriseUser, required: false },
    { schema: DigiCertUserExtension, required: false },
  ],
  egress: async (resource: any) => {
    if (resource.id) {
      const u = users.get(resource.id);
      if (!u) throw notFound(`User ${resource.id}`);
      return u;
    }
    const name = userNameEq(resource.filter);
    if (name !== undefined) {
      const id = byUserName.get(name.toLowerCase());
      return id ? [users.get(id)] : [];
    }
    // A page (what an IdP's import reads): egress hands SCIMMY just that page, as the bridge reads just that page
    // from its store. SCIMMY slices the list again by startIndex unless startIndex is past its length, so this serves
    // the right page for startIndex > count only, and its totalResults is the page's length (notes/scimmy.md §4).
    const { startIndex = 1, count = 200 } = (resource.constraints ?? {}) as { startIndex?: number; count?: number };
    return userOrder.slice(startIndex - 1, startIndex - 1 + Math.min(count, 200)).map((id) => users.get(id));
  },
  ingress: async (resource: any, instance: any) => {
    const id = resource.id ?? `new-${users.size}`;
    const u = { ...JSON.parse(JSON.stringify(instance)), id, meta: { resourceType: "User", created: now, lastModified: new Date().toISOString() } };
    if (!users.has(id)) userOrder.push(id);
    users.set(id, u);
    return u;
  },
  degress: async (resource: any) => {
    users.delete(resource.id);
    userOrder.splice(userOrder.indexOf(resource.id), 1);
  },
} as never);

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
  egress: async (resource: any) => {
    if (!resource.id) return [...groups.values()].slice(0, 200).map((g) => g.resource);
    const g = groups.get(resource.id);
    if (!g) throw notFound(`Group ${resource.id}`);
    // Like the bridge, a read that excludes members does not gather them.
    return wantsMembers(resource.attributes) ? { ...g.resource, members: g.members } : g.resource;
  },
  ingress: async (resource: any, instance: any) => {
    const { members = [], ...rest } = JSON.parse(JSON.stringify(instance));
    const id = resource.id ?? `g-new-${groups.size}`;
    const entry = { resource: { ...rest, id, meta: { ...groupMeta(id), lastModified: new Date().toISOString() } }, members };
    groups.set(id, entry);
    return { ...entry.resource, members };
  },
  degress: async (resource: any) => {
    groups.delete(resource.id);
  },
} as never);

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.use(
  "/scim/v2",
  new SCIMMYRouters({
    type: "bearer",
    handler: (req: express.Request) => {
      if (req.headers.authorization !== `Bearer ${BENCH_TOKEN}`) throw new Error("Unauthorized");
      return "";
    },
    baseUri: () => `http://127.0.0.1:${process.env.PORT}`,
  } as never) as unknown as express.Router,
);
// A 5xx from the router must not destroy the keep-alive socket (notes/scimmy.md §1).
app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  if (!res.headersSent) res.status(500).json({ detail: String((err as Error)?.message ?? err) });
});
const server = app.listen(Number(process.env.PORT), "127.0.0.1");
server.keepAliveTimeout = 5000;
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
