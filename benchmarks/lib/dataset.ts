// A deterministic directory: user i and group g are the same in the bridge's store (seeded directly, not through
// HTTP) and in the baseline server's memory, so both serve the same resources for the same ids.
import type { NewGroupRow, NewUserRow } from "../../src/provisioning/records";
import { draftFromScim } from "../../src/scim/user-mapping";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const BENCH_TOKEN = "bench-token-0123456789abcdef0123";

function hex12(n: number): string {
  return n.toString(16).padStart(12, "0");
}

/** User i's SCIM id: a UUID-shaped string derived from i. */
export function userId(i: number): string {
  return `00000000-0000-4000-8000-${hex12(i)}`;
}

export function groupId(g: number): string {
  return `00000000-0000-4000-9000-${hex12(g)}`;
}

export function userName(i: number): string {
  return `user${i}@bench.example.com`;
}

export function groupName(g: number): string {
  return `Bench Group ${g}`;
}

/** The CertCentral id the simulator (or nobody, for reads) holds for user i. */
export function digicertIdOf(i: number): string {
  return String(5_000_000 + i);
}

/** User i as Okta sends it on create (the body a create benchmark POSTs, with another prefix). */
export function oktaUserBody(name: string, i: number): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    userName: name,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    emails: [{ primary: true, value: name, type: "work" }],
    displayName: `Given${i} Family${i}`,
    locale: "en-US",
    externalId: `ext-${i}`,
    active: true,
  };
}

/** Which group user i belongs to (each user in one group; groups of equal size). */
export function groupOfUser(i: number, users: number, groups: number): number {
  return groups > 0 ? Math.floor((i * groups) / users) : -1;
}

/** User i as the store holds it after a create DigiCert accepted: linked, synced, Standard User. */
export function userRow(i: number): NewUserRow {
  const name = userName(i);
  const draft = draftFromScim(oktaUserBody(name, i));
  return {
    id: userId(i),
    userName: name,
    externalId: draft.externalId,
    active: true,
    resource: draft.resource,
    emails: draft.emails,
    digicertId: digicertIdOf(i),
    adopted: false,
    digicertEnabled: true,
    digicertRoleIds: ["5"],
  };
}

export function groupRow(g: number): NewGroupRow {
  const displayName = groupName(g);
  return { id: groupId(g), displayName, externalId: `gext-${g}`, resource: { schemas: [GROUP_SCHEMA], displayName, externalId: `gext-${g}` } };
}

/** Member indices of group g when `users` users are spread over `groups` groups. */
export function membersOf(g: number, users: number, groups: number): number[] {
  const out: number[] = [];
  const first = Math.ceil((g * users) / groups);
  for (let i = first; i < users && groupOfUser(i, users, groups) === g; i++) out.push(i);
  return out;
}

/** Deterministic pseudo-random sequence (mulberry32), so both servers get the same request order. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
