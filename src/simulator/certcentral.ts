// CertCentral Services API v2 double (doc §A): state plus the user/container/account routes.
import express, { Request, Response } from "express";
import type { CcRole, SimulatorOptions } from "./types";

export const CC_DEFAULT_ROLES: CcRole[] = [
  { id: 1, name: "Administrator" },
  { id: 2, name: "Limited User" },
  { id: 3, name: "Finance Manager" },
  { id: 4, name: "Manager" },
  { id: 5, name: "Standard User" },
];

const CHARSET = /^[A-Za-z0-9@\-_+.]+$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

interface CcUserRow {
  id: number;
  username: string;
  account_id: number;
  first_name: string;
  last_name: string;
  email: string;
  job_title: string;
  telephone: string;
  status: string;
  container_id: number;
  role_ids: number[];
  /** Divisions the user is restricted to (container_id_assignments); [] = unrestricted. */
  division_ids: number[];
  type: string;
  is_saml_sso_only: boolean;
  last_login_date: string | null;
}

interface Problem {
  code: string;
  message: string;
}

type CcOptions = NonNullable<SimulatorOptions["certcentral"]>;

export class CertCentralState {
  users = new Map<number, CcUserRow>();
  containers = new Map<number, { id: number; name: string; parent_id: number; is_active: boolean }>();
  nextId = 1_000_001;
  meId = 100;
  readonly containerId: number;
  readonly accountId: number;
  readonly roles: CcRole[];
  readonly usernameMax: number;
  readonly duplicate: NonNullable<CcOptions["duplicate"]>;
  readonly availability: NonNullable<CcOptions["availability"]>;
  readonly errorShape: NonNullable<CcOptions["errorShape"]>;
  readonly divisions: { id: number; name: string }[];

  constructor(opts: CcOptions = {}) {
    this.containerId = opts.containerId ?? 1;
    this.divisions = opts.divisions ?? [];
    this.accountId = opts.accountId ?? 123456;
    this.roles = opts.roles ?? CC_DEFAULT_ROLES;
    this.usernameMax = opts.usernameMaxLength ?? 255;
    this.duplicate = opts.duplicate ?? "409";
    this.availability = opts.availability ?? "supported";
    this.errorShape = opts.errorShape ?? "array";
    this.reset();
  }

  reset(): void {
    this.users.clear();
    this.containers.clear();
    this.nextId = 1_000_001;
    this.containers.set(this.containerId, { id: this.containerId, name: "Sim Account", parent_id: 0, is_active: true });
    for (const d of this.divisions) this.containers.set(d.id, { id: d.id, name: d.name, parent_id: this.containerId, is_active: true });
    this.users.set(this.meId, {
      id: this.meId,
      username: "sim.admin",
      account_id: this.accountId,
      first_name: "Sim",
      last_name: "Admin",
      email: "sim.admin@example.com",
      job_title: "API key owner",
      telephone: "",
      status: "active",
      container_id: this.containerId,
      role_ids: [1],
      division_ids: [],
      type: "standard",
      is_saml_sso_only: false,
      last_login_date: "2024-01-01T00:00:00+00:00",
    });
  }

  ensureContainer(id: number): void {
    if (!this.containers.has(id)) {
      this.containers.set(id, { id, name: `Division ${id}`, parent_id: this.containerId, is_active: true });
    }
  }

  render(u: CcUserRow): any {
    const c = this.containers.get(u.container_id);
    return {
      id: u.id,
      username: u.username,
      account_id: u.account_id,
      first_name: u.first_name,
      last_name: u.last_name,
      email: u.email,
      job_title: u.job_title,
      telephone: u.telephone,
      status: u.status,
      last_login_date: u.last_login_date,
      container: c ? { ...c, public_id: `pub${c.id}`, template_id: 5, ekey: `ekey${c.id}`, has_logo: false } : { id: u.container_id },
      access_roles: u.role_ids.map((id) => ({ id, name: this.roles.find((r) => r.id === id)?.name ?? `Role ${id}` })),
      is_cert_central: true,
      is_enterprise: true,
      is_saml_sso_only: u.is_saml_sso_only,
      type: u.type,
      has_container_assignments: u.division_ids.length > 0,
    };
  }

  seed(p: Record<string, any>): any {
    const id = p.id ?? this.nextId++;
    const containerId = p.containerId ?? p.container?.id ?? this.containerId;
    this.ensureContainer(containerId);
    const row: CcUserRow = {
      id,
      username: p.username ?? `seeded${id}`,
      account_id: p.account_id ?? this.accountId,
      first_name: p.first_name ?? "Seeded",
      last_name: p.last_name ?? "User",
      email: p.email ?? `seeded${id}@example.com`,
      job_title: p.job_title ?? "",
      telephone: p.telephone ?? "",
      status: p.status ?? "active",
      container_id: containerId,
      role_ids: (p.access_roles ?? [{ id: 5 }]).map((r: any) => Number(r.id ?? r)),
      division_ids: (p.container_id_assignments ?? []).map((x: any) => Number(x)),
      type: p.type ?? "standard",
      is_saml_sso_only: !!p.is_saml_sso_only,
      last_login_date: p.last_login_date ?? null,
    };
    this.users.set(id, row);
    return this.render(row);
  }

  byUsername(username: string): CcUserRow | undefined {
    const lc = username.toLowerCase();
    for (const u of this.users.values()) if (u.username.toLowerCase() === lc) return u;
    return undefined;
  }
}

function send(res: Response, status: number, problems: Problem[], shape: CcOptions["errorShape"]): void {
  if (shape !== "object") {
    res.status(status).json({ errors: problems });
    return;
  }
  // The map form keys by field where the code names one (missing_param|first_name → first_name), else by code.
  const errors: Record<string, string> = {};
  for (const p of problems) {
    const key = /^(?:missing|invalid)_param\|(.+)$/.exec(p.code)?.[1] ?? p.code;
    errors[key] = errors[key] ? `${errors[key]} ${p.message}` : p.message;
  }
  res.status(status).json({ errors });
}

/** The refusal of a taken username, in the wording the variant plays (§A.8, §D.7). */
function taken(state: CertCentralState, username: string): { status: number; problems: Problem[] } {
  switch (state.duplicate) {
    case "400-not-available":
      return { status: 400, problems: [{ code: "invalid_param|username", message: "Username is not available." }] };
    case "400-in-use":
      return { status: 400, problems: [{ code: "bad_request", message: "That username is already in use by another user." }] };
    default:
      return { status: 409, problems: [{ code: "duplicate_username", message: `Username ${username} already exists.` }] };
  }
}

function checkString(
  problems: Problem[],
  body: any,
  field: string,
  opts: { required?: boolean; max?: number; charset?: RegExp; email?: boolean },
): void {
  const v = body?.[field];
  if (v === undefined || v === null || v === "") {
    if (opts.required) problems.push({ code: `missing_param|${field}`, message: `${field} is required.` });
    return;
  }
  if (typeof v !== "string") {
    problems.push({ code: `invalid_param|${field}`, message: `${field} must be a string.` });
    return;
  }
  if (opts.max !== undefined && v.length > opts.max) {
    problems.push({ code: `invalid_param|${field}`, message: `${field} may not be longer than ${opts.max} characters.` });
  }
  if (opts.charset && !opts.charset.test(v)) {
    problems.push({ code: `invalid_param|${field}`, message: `${field} contains invalid characters.` });
  }
  if (opts.email && !EMAIL.test(v)) problems.push({ code: `invalid_param|${field}`, message: `${field} is not a valid email.` });
}

function roleProblems(state: CertCentralState, roles: unknown): { problems: Problem[]; status: number; ids: number[] } {
  if (!Array.isArray(roles) || roles.length === 0) {
    return { problems: [{ code: "missing_param|access_roles", message: "access_roles is required." }], status: 400, ids: [] };
  }
  const ids: number[] = [];
  for (const r of roles) {
    const id = r && typeof r === "object" ? (r as any).id : undefined;
    if (typeof id !== "number" || !state.roles.some((x) => x.id === id)) {
      return {
        problems: [{ code: "invalid_access_role", message: `Invalid access role: ${JSON.stringify(id ?? r)}.` }],
        status: 400,
        ids: [],
      };
    }
    ids.push(id);
  }
  return { problems: [], status: 200, ids };
}

/** container_id_assignments: ids (numbers or numeric strings, as the doc's example has them) of known containers. */
function divisionProblems(state: CertCentralState, raw: unknown): { ids: number[]; problems: Problem[] } {
  if (raw === undefined) return { ids: [], problems: [] };
  if (!Array.isArray(raw)) return { ids: [], problems: [{ code: "invalid_param|container_id_assignments", message: "container_id_assignments must be an array." }] };
  const ids = raw.map((x) => Number(x));
  const bad = raw.filter((x, i) => !/^\d+$/.test(String(x)) || !state.containers.has(ids[i]));
  return bad.length
    ? { ids: [], problems: [{ code: "invalid_param|container_id_assignments", message: `Invalid container: ${bad.join(", ")}.` }] }
    : { ids, problems: [] };
}

export function certCentralRoutes(state: CertCentralState): express.Router {
  const r = express.Router();
  const fail = (res: Response, status: number, problems: Problem[]) => send(res, status, problems, state.errorShape);
  const refuseTaken = (res: Response, username: string) => {
    const t = taken(state, username);
    fail(res, t.status, t.problems);
  };
  const userFields = (body: any, required: boolean): Problem[] => {
    const problems: Problem[] = [];
    checkString(problems, body, "username", { required, max: state.usernameMax, charset: CHARSET });
    checkString(problems, body, "first_name", { required, max: 128 });
    checkString(problems, body, "last_name", { required, max: 128 });
    checkString(problems, body, "email", { required: true, max: 255, email: true });
    checkString(problems, body, "job_title", { max: 64 });
    checkString(problems, body, "telephone", { max: 64 });
    return problems;
  };
  const findUser = (req: Request, res: Response): CcUserRow | undefined => {
    const raw = req.params.id;
    const u = raw === "me" ? state.users.get(state.meId) : /^\d+$/.test(raw) ? state.users.get(Number(raw)) : undefined;
    if (!u) fail(res, 404, [{ code: "not_found|user", message: "User not found." }]);
    return u;
  };

  r.post("/user", (req, res) => {
    const body = req.body ?? {};
    const problems = userFields(body, true);
    const roles = roleProblems(state, body.access_roles);
    if (roles.problems[0]?.code === "missing_param|access_roles") problems.push(...roles.problems);
    if (problems.length) return fail(res, 400, problems);
    if (roles.problems.length) return fail(res, roles.status, roles.problems);
    let containerId = state.containerId;
    if (body.container !== undefined) {
      containerId = body.container?.id;
      if (typeof containerId !== "number" || !state.containers.has(containerId)) {
        return fail(res, 400, [{ code: "invalid_param|container", message: "Invalid container." }]);
      }
    }
    const divisions = divisionProblems(state, body.container_id_assignments);
    if (divisions.problems.length) return fail(res, 400, divisions.problems);
    if (state.byUsername(body.username)) return refuseTaken(res, body.username);
    const id = state.nextId++;
    state.users.set(id, {
      id,
      username: body.username,
      account_id: state.accountId,
      first_name: body.first_name,
      last_name: body.last_name,
      email: body.email,
      job_title: body.job_title ?? "",
      telephone: body.telephone ?? "",
      status: "pending",
      container_id: containerId,
      role_ids: roles.ids,
      division_ids: divisions.ids,
      type: "standard",
      is_saml_sso_only: !!body.is_saml_sso_only,
      last_login_date: null,
    });
    res.status(201).json({ id });
  });

  r.get("/user", (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    let list = [...state.users.values()].sort((a, b) => a.id - b.id);
    const search = q["filters[search]"];
    if (search !== undefined && search !== "") {
      const contains = search.startsWith("%");
      const needle = (contains ? search.slice(1) : search).toLowerCase();
      list = list.filter((u) =>
        [u.username, u.first_name, u.last_name, u.email].some((v) =>
          contains ? v.toLowerCase().includes(needle) : v.toLowerCase() === needle,
        ),
      );
    }
    if (q.container_id) list = list.filter((u) => String(u.container_id) === q.container_id);
    if (q.access_role_id) list = list.filter((u) => u.role_ids.includes(Number(q.access_role_id)));
    if (q["filters[status]"]) list = list.filter((u) => u.status === q["filters[status]"]);
    const offset = Math.max(0, Number(q.offset ?? 0) || 0);
    const limit = Math.max(0, Number(q.limit ?? 0) || 0);
    const page = list.slice(offset, limit > 0 ? offset + limit : undefined);
    const users = page.map((u) => {
      const w = state.render(u);
      if (q.without_container === "true") delete w.container;
      return w;
    });
    res.json({ users, page: { total: list.length, limit, offset } });
  });

  // Account-wide and case-insensitive, like the uniqueness POST /user enforces (§A.1 ASSUMPTION).
  r.get("/user/availability/:username", (req, res) => {
    if (state.availability === "missing") return fail(res, 404, [{ code: "not_found|route", message: "Route not found." }]);
    res.json({ available: !state.byUsername(req.params.username) });
  });

  r.get("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (u) res.json(state.render(u));
  });

  r.put("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    const body = req.body ?? {};
    const problems = userFields(body, false);
    if (problems.length) return fail(res, 400, problems);
    if (body.username !== undefined && body.username !== "") {
      const other = state.byUsername(body.username);
      if (other && other.id !== u.id) return refuseTaken(res, body.username);
      u.username = body.username;
    }
    if (body.first_name) u.first_name = body.first_name;
    if (body.last_name) u.last_name = body.last_name;
    u.email = body.email;
    // §A.4 quirk, played for real: whatever is not re-sent is erased.
    u.job_title = body.job_title ?? "";
    u.telephone = body.telephone ?? "";
    if (body.is_saml_sso_only !== undefined) u.is_saml_sso_only = !!body.is_saml_sso_only;
    res.status(204).end();
  });

  r.put("/user/:id/role", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    const roles = roleProblems(state, req.body?.access_roles);
    if (roles.problems.length) return fail(res, roles.status, roles.problems);
    u.role_ids = roles.ids;
    res.status(204).end();
  });

  // §A.5: a destructive overwrite; [] = unrestricted.
  r.put("/user/:id/container-assignments", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    const body = req.body ?? {};
    if (!Array.isArray(body.container_id_assignments)) {
      return fail(res, 400, [{ code: "missing_param|container_id_assignments", message: "container_id_assignments is required." }]);
    }
    const divisions = divisionProblems(state, body.container_id_assignments);
    if (divisions.problems.length) return fail(res, 400, divisions.problems);
    u.division_ids = divisions.ids;
    res.status(204).end();
  });

  r.delete("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    if (u.id === state.meId) {
      return fail(res, 403, [{ code: "access_denied|missing_permission", message: "You cannot delete yourself." }]);
    }
    state.users.delete(u.id);
    res.status(204).end();
  });

  r.get("/account", (_req, res) => {
    res.json({ id: state.accountId, root_container_id: state.containerId, make_renewal_calls: false, admin_email: "sim.admin@example.com" });
  });

  r.get("/container", (_req, res) => {
    res.json({ containers: [...state.containers.values()] });
  });

  r.get("/container/:id/role", (req, res) => {
    if (!/^\d+$/.test(req.params.id) || !state.containers.has(Number(req.params.id))) {
      return fail(res, 404, [{ code: "not_found|container", message: "Container not found." }]);
    }
    res.json({ access_roles: state.roles.map((x) => ({ ...x })) });
  });

  r.use((_req, res) => fail(res, 404, [{ code: "not_found|route", message: "Route not found." }]));
  return r;
}
