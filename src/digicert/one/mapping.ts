// DigiCert ONE Account Manager wire shapes (doc §B) <-> the neutral DigiCert types.
import type { DigiCertRole, DigiCertUser, DigiCertUserInput, DigiCertUserStatus, FieldProblem } from "../types";
import { blankToNull, ProblemList } from "../validation";

// §B.1: limits are undocumented; ASSUMPTION ≤255 each.
export const MAX_LENGTH = 255;

export interface OneCreateBody {
  user_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_number?: string;
  /** Always sent: ONE defaults a missing user_type to "service" (§B.1). */
  user_type: "standard";
  accounts: string[];
  roles: string[];
}

export interface OneUpdateBody {
  user_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string;
}

export function validate(input: DigiCertUserInput): FieldProblem[] {
  const p = new ProblemList();
  if (p.required("username", input.username)) p.maxLength("username", input.username, MAX_LENGTH);
  if (p.required("firstName", input.firstName)) p.maxLength("firstName", input.firstName, MAX_LENGTH);
  if (p.required("lastName", input.lastName)) p.maxLength("lastName", input.lastName, MAX_LENGTH);
  if (p.required("email", input.email)) {
    p.email("email", input.email);
    p.maxLength("email", input.email, MAX_LENGTH);
  }
  p.maxLength("phone", input.phone, MAX_LENGTH);
  // ONE has no job title field; a value is accepted and dropped rather than refused.
  return p.problems;
}

export function toCreateBody(input: DigiCertUserInput, roleIds: string[], accountId: string): OneCreateBody {
  const body: OneCreateBody = {
    user_name: input.username,
    first_name: input.firstName,
    last_name: input.lastName,
    email: input.email,
    user_type: "standard",
    accounts: [accountId],
    roles: [...roleIds],
  };
  if (input.phone) body.phone_number = input.phone;
  return body;
}

/**
 * The update operation is itself an ASSUMPTION (§B.4). Absent phone is sent as "" rather than omitted (a partial
 * PUT would keep the old number, breaking "make the profile equal to input") and rather than null (a string-typed
 * field is likelier to accept "" than null).
 */
export function toUpdateBody(input: DigiCertUserInput): OneUpdateBody {
  return {
    user_name: input.username,
    first_name: input.firstName,
    last_name: input.lastName,
    email: input.email,
    phone_number: input.phone ?? "",
  };
}

const STATUSES: DigiCertUserStatus[] = ["active", "pending", "disabled", "locked", "deleted"];

export function normaliseStatus(s: unknown): DigiCertUserStatus {
  const v = typeof s === "string" ? s.toLowerCase() : "";
  return (STATUSES as string[]).includes(v) ? (v as DigiCertUserStatus) : "unknown";
}

/**
 * `accountId` is the configured account; without it every user the key can see is in scope. A user object
 * carrying neither `accounts` nor `primary_account_id` is also treated as in scope: ONE only shows a key the
 * users of its own accounts, so the absence tells us nothing against it.
 */
export function fromWire(raw: unknown, accountId?: string): DigiCertUser {
  const u = (raw ?? {}) as Record<string, unknown>;
  if (u.id === undefined || u.id === null) throw new TypeError("ONE user without id");
  const accountIds = Array.isArray(u.accounts)
    ? u.accounts.map((a) => (a && typeof a === "object" ? (a as { id?: unknown }).id : a)).map((x) => String(x))
    : undefined;
  const primary = u.primary_account_id === undefined || u.primary_account_id === null ? undefined : String(u.primary_account_id);
  const inScope =
    accountId === undefined ||
    (accountIds === undefined && primary === undefined) ||
    primary === accountId ||
    (accountIds ?? []).includes(accountId);
  const roles = Array.isArray(u.roles) ? u.roles : [];
  return {
    id: String(u.id),
    username: str(u.user_name),
    firstName: str(u.first_name),
    lastName: str(u.last_name),
    email: str(u.email),
    jobTitle: null,
    phone: blankToNull(u.phone_number),
    status: normaliseStatus(u.status),
    roleIds: roles
      .map((r) => (r && typeof r === "object" ? (r as { id?: unknown }).id : r))
      .filter((id) => id !== undefined && id !== null)
      .map(String),
    inScope,
  };
}

/** ONE list answers are a bare array or `{items,total,offset,limit}` (§B.3, §B.6). */
export function listItems(raw: unknown): { items: unknown[]; total?: number } {
  if (Array.isArray(raw)) return { items: raw };
  const o = raw as { items?: unknown; total?: unknown } | null;
  if (o && typeof o === "object" && Array.isArray(o.items)) {
    return { items: o.items, total: typeof o.total === "number" ? o.total : undefined };
  }
  throw new TypeError("ONE list answer is neither an array nor {items}");
}

export function rolesFromWire(raw: unknown): DigiCertRole[] {
  return listItems(raw)
    .items.filter((r) => r && typeof r === "object" && (r as { id?: unknown }).id !== undefined)
    .map((r) => ({ id: String((r as { id: unknown }).id), name: str((r as { name?: unknown }).name) }));
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}
