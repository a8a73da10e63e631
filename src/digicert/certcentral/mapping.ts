// CertCentral Services API v2 wire shapes (doc §A) <-> the neutral DigiCert types.
import type { DigiCertRole, DigiCertUser, DigiCertUserInput, DigiCertUserStatus, FieldProblem } from "../types";
import { blankToNull, ProblemList } from "../validation";

export const USERNAME_CHARSET = /^[A-Za-z0-9@\-_+.]+$/;
export const LIMITS = { username: 255, name: 128, email: 255, jobTitle: 64, phone: 64 } as const;

export interface CcCreateBody {
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  job_title?: string;
  telephone?: string;
  container?: { id: number };
  access_roles: { id: number }[];
  container_id_assignments?: string[];
  is_saml_sso_only?: boolean;
}

export interface CcUpdateBody {
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  job_title: string;
  telephone: string;
  is_saml_sso_only?: boolean;
}

export function validate(input: DigiCertUserInput): FieldProblem[] {
  const p = new ProblemList();
  if (p.required("username", input.username)) {
    if (!USERNAME_CHARSET.test(input.username)) {
      p.add("username", "username may only contain a-z A-Z 0-9 @ - _ + .");
    }
    p.maxLength("username", input.username, LIMITS.username);
  }
  if (p.required("firstName", input.firstName)) p.maxLength("firstName", input.firstName, LIMITS.name);
  if (p.required("lastName", input.lastName)) p.maxLength("lastName", input.lastName, LIMITS.name);
  if (p.required("email", input.email)) {
    p.email("email", input.email);
    p.maxLength("email", input.email, LIMITS.email);
  }
  p.maxLength("jobTitle", input.jobTitle, LIMITS.jobTitle);
  p.maxLength("phone", input.phone, LIMITS.phone);
  return p.problems;
}

/** CertCentral ids are positive ints; anything else can never name a CertCentral object. */
export function toIntId(id: string): number | undefined {
  return /^\d{1,15}$/.test(id.trim()) ? Number(id.trim()) : undefined;
}

/** `samlSsoOnly` false leaves the field out, so CertCentral's default (and a hand-set value) stands. */
export function toCreateBody(input: DigiCertUserInput, roleIds: number[], containerId?: number, samlSsoOnly = false): CcCreateBody {
  const body: CcCreateBody = {
    username: input.username,
    first_name: input.firstName,
    last_name: input.lastName,
    email: input.email,
    access_roles: roleIds.map((id) => ({ id })),
  };
  if (input.jobTitle) body.job_title = input.jobTitle;
  if (input.phone) body.telephone = input.phone;
  if (containerId !== undefined) body.container = { id: containerId };
  if (samlSsoOnly) body.is_saml_sso_only = true;
  return body;
}

/**
 * Always carries job_title and telephone: CertCentral erases whichever of them a PUT leaves out (§A.4).
 * `samlSsoOnly` is re-sent so that an adopted hand-made user also ends up signing in through the IdP only.
 */
export function toUpdateBody(input: DigiCertUserInput, samlSsoOnly = false): CcUpdateBody {
  const body: CcUpdateBody = {
    username: input.username,
    first_name: input.firstName,
    last_name: input.lastName,
    email: input.email,
    job_title: input.jobTitle ?? "",
    telephone: input.phone ?? "",
  };
  if (samlSsoOnly) body.is_saml_sso_only = true;
  return body;
}

const STATUSES: DigiCertUserStatus[] = ["active", "pending", "disabled", "locked", "deleted"];

export function normaliseStatus(s: unknown): DigiCertUserStatus {
  const v = typeof s === "string" ? s.toLowerCase() : "";
  return (STATUSES as string[]).includes(v) ? (v as DigiCertUserStatus) : "unknown";
}

/** `containerId` is the configured one; without it every user the key can see is in scope. */
export function fromWire(raw: unknown, containerId?: string): DigiCertUser {
  const u = (raw ?? {}) as Record<string, unknown>;
  if (u.id === undefined || u.id === null) throw new TypeError("CertCentral user without id");
  const roles = Array.isArray(u.access_roles) ? u.access_roles : [];
  const container = u.container as { id?: unknown } | undefined | null;
  const inScope =
    containerId === undefined || !container || container.id === undefined || String(container.id) === containerId;
  return {
    id: String(u.id),
    username: str(u.username),
    firstName: str(u.first_name),
    lastName: str(u.last_name),
    email: str(u.email),
    jobTitle: blankToNull(u.job_title),
    phone: blankToNull(u.telephone),
    status: normaliseStatus(u.status),
    roleIds: roles
      .map((r) => (r && typeof r === "object" ? (r as { id?: unknown }).id : undefined))
      .filter((id) => id !== undefined && id !== null)
      .map(String),
    inScope,
  };
}

export function rolesFromWire(raw: unknown): DigiCertRole[] {
  const list = (raw as { access_roles?: unknown })?.access_roles;
  if (!Array.isArray(list)) throw new TypeError("CertCentral role list without access_roles");
  return list
    .filter((r) => r && typeof r === "object" && (r as { id?: unknown }).id !== undefined)
    .map((r) => ({ id: String((r as { id: unknown }).id), name: str((r as { name?: unknown }).name) }));
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}
