// DigiCert ONE Account Manager double (doc §B): state plus user/role/account routes.
import { randomUUID } from "node:crypto";
import express, { Request, Response } from "express";
import type { OneRole, OneVariant, SimulatorOptions } from "./types";

export const ONE_DEFAULT_ROLES: OneRole[] = [
  { id: "AM_ACCOUNT_MANAGER", name: "Account Manager" },
  { id: "AM_USER_MANAGER", name: "User Manager" },
  { id: "AM_ACCOUNT_ADMIN", name: "Account Admin" },
  { id: "AM_DEFAULT_USER", name: "Default User" },
  { id: "AM_READ_ONLY", name: "Read Only" },
];
/** Roles of other managers (§D.3: roles are manager-specific), for tests of DIGICERT_ONE_APPLICATIONS. */
export const ONE_MANAGER_ROLES: OneRole[] = [
  { id: "TLM_ADMIN", name: "Trust Lifecycle Admin", application: "trust_lifecycle" },
  { id: "TLM_CERT_MANAGER", name: "Certificate Manager", application: "trust_lifecycle" },
  { id: "STM_SIGNER", name: "Signer", application: "software_trust" },
];
/** The current pages' name of the basic Account Manager role (§D.4); the older one is "Default User". */
export const ONE_CURRENT_ROLES: OneRole[] = ONE_DEFAULT_ROLES.map((r) => (r.id === "AM_DEFAULT_USER" ? { id: "AM_ACCOUNT_USER", name: "Account user" } : r));
export const ONE_DEFAULT_ACCOUNT = "6f1b3c2e-8d4a-4e51-9c7b-2a0d5e3f1a11";
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const STATUSES = ["active", "disabled", "deleted", "locked", "pending"];
const MAX = 255;

interface OneUserRow {
  id: string;
  user_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string;
  user_type: string;
  friendly_name?: string;
  status: string;
  accounts: string[];
  roles: string[];
  created_at: string;
}

interface Problem {
  code: string;
  message: string;
}

export class OneState {
  users = new Map<string, OneUserRow>();
  accounts = new Map<string, string>();
  meId = "00000000-0000-4000-8000-000000000001";
  readonly accountId: string;
  readonly roles: OneRole[];
  readonly listShape: "array" | "envelope";
  readonly variant: Required<Omit<OneVariant, "pageCap">> & { pageCap?: number };

  constructor(opts: SimulatorOptions["one"] = {}) {
    this.accountId = opts.accountId ?? ONE_DEFAULT_ACCOUNT;
    this.roles = opts.roles ?? ONE_DEFAULT_ROLES;
    this.listShape = opts.listShape ?? "array";
    this.variant = {
      disableRoute: opts.disableRoute ?? (opts.disableSupported === false ? "missing" : "supported"),
      userRoles: opts.userRoles ?? "roles",
      put: opts.put ?? "partial",
      ...(opts.pageCap ? { pageCap: opts.pageCap } : {}),
    };
    this.reset();
  }

  appOf(roleId: string): string {
    return this.roles.find((r) => r.id === roleId)?.application ?? "account_manager";
  }

  reset(): void {
    this.users.clear();
    this.accounts.clear();
    this.accounts.set(this.accountId, "Sim Account");
    this.users.set(this.meId, {
      id: this.meId,
      user_name: "sim-admin",
      first_name: "Sim",
      last_name: "Admin",
      email: "sim.admin@example.com",
      phone_number: "",
      user_type: "standard",
      status: "ACTIVE",
      accounts: [this.accountId],
      roles: ["AM_ACCOUNT_ADMIN"],
      created_at: "2024-01-01T00:00:00Z",
    });
  }

  render(u: OneUserRow): any {
    return {
      id: u.id,
      user_name: u.user_name,
      first_name: u.first_name,
      last_name: u.last_name,
      email: u.email,
      phone_number: u.phone_number,
      user_type: u.user_type,
      ...(u.friendly_name !== undefined ? { friendly_name: u.friendly_name } : {}),
      status: u.status,
      access_scope: "account",
      primary_account_id: u.accounts[0],
      ...(this.variant.userRoles === "roles"
        ? {
            accounts: u.accounts.map((id) => ({ id, name: this.accounts.get(id) ?? "Other account" })),
            roles: u.roles.map((id) => ({ id, name: this.roles.find((r) => r.id === id)?.name ?? id })),
          }
        : {}),
      // The documented shape (§D.2): per application, permissions; which roles gave them is not said.
      ...(this.variant.userRoles === "applications"
        ? {
            applications: [...new Set(u.roles.map((r) => this.appOf(r)))].map((app) => ({
              id: app,
              name: app,
              permissions: u.roles.filter((r) => this.appOf(r) === app).map((r) => `PERM_OF_${r}`),
            })),
          }
        : {}),
      created_at: u.created_at,
      created_by: this.meId,
      locale: "en_US",
    };
  }

  seed(p: Record<string, any>): any {
    const id = p.id ?? randomUUID();
    const accounts: string[] = (p.accounts ?? [this.accountId]).map((a: any) => String(a?.id ?? a));
    for (const a of accounts) if (!this.accounts.has(a)) this.accounts.set(a, `Account ${a.slice(0, 8)}`);
    const row: OneUserRow = {
      id,
      user_name: p.user_name ?? `seeded-${id.slice(0, 8)}`,
      first_name: p.first_name ?? "Seeded",
      last_name: p.last_name ?? "User",
      email: p.email ?? `seeded-${id.slice(0, 8)}@example.com`,
      phone_number: p.phone_number ?? "",
      user_type: p.user_type ?? "standard",
      status: p.status ?? "ACTIVE",
      accounts,
      roles: (p.roles ?? ["AM_DEFAULT_USER"]).map((r: any) => String(r?.id ?? r)),
      created_at: new Date().toISOString(),
    };
    this.users.set(id, row);
    return this.render(row);
  }

  live(id: string): OneUserRow | undefined {
    const u = this.users.get(id);
    return u && u.status !== "DELETED" ? u : undefined;
  }
}

function fail(res: Response, status: number, problems: Problem[]): void {
  res.status(status).json({ errors: problems });
}

function notFound(res: Response, what: string): void {
  res.status(404).json({ error: { code: "resource_not_found", message: `${what} not found` } });
}

export function oneRoutes(state: OneState): express.Router {
  const r = express.Router();

  const fieldProblems = (body: any, required: boolean): Problem[] => {
    const problems: Problem[] = [];
    const fields = ["user_name", "first_name", "last_name", "email", "phone_number"];
    for (const f of fields) {
      const v = body?.[f];
      const isRequired = required && f !== "phone_number";
      if (v === undefined || v === null || v === "") {
        if (isRequired) problems.push({ code: "invalid_request", message: `${f} is required` });
        else if (!required && v !== undefined && f !== "phone_number") {
          problems.push({ code: "invalid_request", message: `${f} must not be empty` });
        }
        continue;
      }
      if (typeof v !== "string") problems.push({ code: "invalid_request", message: `${f} must be a string` });
      else if (v.length > MAX) problems.push({ code: "invalid_request", message: `${f} must be at most ${MAX} characters` });
      else if (f === "email" && !EMAIL.test(v)) problems.push({ code: "invalid_request", message: "email is not valid" });
    }
    if (body?.user_type !== undefined && body.user_type !== "standard" && body.user_type !== "service") {
      problems.push({ code: "invalid_request", message: "user_type must be standard or service" });
    }
    return problems;
  };
  const listProblems = (body: any, required: boolean): Problem[] => {
    const problems: Problem[] = [];
    for (const f of ["roles", "accounts"]) {
      const v = body?.[f];
      if (v === undefined) {
        if (required) problems.push({ code: "invalid_request", message: `${f} is required` });
        continue;
      }
      if (!Array.isArray(v) || v.length === 0) problems.push({ code: "invalid_request", message: `${f} must be a non-empty array` });
    }
    if (problems.length) return problems;
    for (const role of body?.roles ?? []) {
      if (!state.roles.some((x) => x.id === role)) problems.push({ code: "invalid_request", message: `Unknown role id ${role}` });
    }
    for (const acc of body?.accounts ?? []) {
      if (!state.accounts.has(acc)) problems.push({ code: "invalid_request", message: `Unknown account id ${acc}` });
    }
    return problems;
  };
  const duplicate = (name: string | undefined, selfId?: string): boolean => {
    if (!name) return false;
    const lc = name.toLowerCase();
    return [...state.users.values()].some(
      (u) => u.status !== "DELETED" && u.id !== selfId && u.user_name.toLowerCase() === lc,
    );
  };
  const dupFail = (res: Response, name: string) =>
    fail(res, 409, [{ code: "duplicate_error", message: `User name ${name} already exists.` }]);
  const findUser = (req: Request, res: Response): OneUserRow | undefined => {
    const u = req.params.id === "me" ? state.live(state.meId) : state.live(req.params.id);
    if (!u) notFound(res, "User");
    return u;
  };

  r.post("/user", (req, res) => {
    const body = req.body ?? {};
    const problems = [...fieldProblems(body, true), ...listProblems(body, true)];
    if (problems.length) return fail(res, 400, problems);
    if (duplicate(body.user_name)) return dupFail(res, body.user_name);
    const id = randomUUID();
    const userType = body.user_type ?? "service"; // §B.1: the documented default, observable by design
    state.users.set(id, {
      id,
      user_name: body.user_name,
      first_name: body.first_name,
      last_name: body.last_name,
      email: body.email,
      phone_number: body.phone_number ?? "",
      user_type: userType,
      ...(userType === "service" ? { friendly_name: body.friendly_name ?? body.user_name } : {}),
      status: body.password ? "ACTIVE" : "PENDING",
      accounts: [...body.accounts],
      roles: [...body.roles],
      created_at: new Date().toISOString(),
    });
    res.status(201).json({ id });
  });

  r.get("/user", (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.status !== undefined && !STATUSES.includes(q.status.toLowerCase())) {
      return fail(res, 400, [{ code: "invalid_request", message: `Invalid status ${q.status}` }]);
    }
    let list = [...state.users.values()];
    list = q.status
      ? list.filter((u) => u.status === q.status!.toUpperCase())
      : list.filter((u) => u.status !== "DELETED");
    list = list.filter((u) => u.user_type === (q.user_type ?? "standard"));
    if (q.user_name !== undefined) list = list.filter((u) => u.user_name.toLowerCase() === q.user_name!.toLowerCase());
    if (q.email !== undefined) list = list.filter((u) => u.email.toLowerCase() === q.email!.toLowerCase());
    const offset = Math.max(0, Number(q.offset ?? 0) || 0);
    const asked = Math.max(0, Number(q.limit ?? 0) || 0);
    const cap = state.variant.pageCap;
    const limit = cap ? Math.min(asked || cap, cap) : asked;
    const items = list.slice(offset, limit > 0 ? offset + limit : undefined).map((u) => state.render(u));
    res.json(state.listShape === "array" ? items : { items, total: list.length, offset, limit });
  });

  r.get("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (u) res.json(state.render(u));
  });

  r.put("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    const body = req.body ?? {};
    const replace = state.variant.put === "replace";
    const problems = [...fieldProblems(body, replace), ...listProblems(body, replace)];
    if (body.phone_number === "") problems.push({ code: "invalid_request", message: "phone_number must not be empty" });
    if (body.accounts && Array.isArray(body.accounts) && !body.accounts.includes(u.accounts[0])) {
      problems.push({ code: "invalid_request", message: "The primary account cannot be removed" });
    }
    if (problems.length) return fail(res, 400, problems);
    if (duplicate(body.user_name, u.id)) return dupFail(res, body.user_name);
    for (const f of ["user_name", "first_name", "last_name", "email", "phone_number"] as const) {
      if (body[f] !== undefined) u[f] = body[f] ?? "";
      else if (replace) u[f] = "";
    }
    if (body.roles) u.roles = [...body.roles];
    if (body.accounts) u.accounts = [...body.accounts];
    res.json(state.render(u));
  });

  const statusRoute = (to: string) => (req: Request, res: Response, next: express.NextFunction) => {
    const route = state.variant.disableRoute;
    if (route === "missing") return next();
    if (route !== "supported") {
      const code = route === 403 ? "access_denied" : route === 400 ? "invalid_request" : "not_supported";
      return res.status(route).json({ error: { code, message: `Operation not available (${route})` } });
    }
    const u = findUser(req, res);
    if (!u) return;
    u.status = to;
    res.json(state.render(u));
  };
  r.put("/user/:id/disable", statusRoute("DISABLED"));
  r.put("/user/:id/enable", statusRoute("ACTIVE"));

  r.delete("/user/:id", (req, res) => {
    const u = findUser(req, res);
    if (!u) return;
    if (u.id === state.meId) {
      return res.status(403).json({ error: { code: "access_denied", message: "You cannot delete yourself" } });
    }
    u.status = "DELETED";
    res.status(204).end();
  });

  r.get("/role", (req, res) => {
    const app = req.query.application_code as string | undefined;
    const roles = state.roles.map((x) => ({
      id: x.id,
      name: x.name,
      description: `${x.name} role`,
      application_code: x.application ?? "account_manager",
      permissions: [`PERM_OF_${x.id}`],
    }));
    const items = app ? roles.filter((r) => r.application_code === app) : roles;
    res.json(state.listShape === "array" ? items : { items, total: items.length, offset: 0, limit: items.length });
  });

  r.get("/account", (_req, res) => {
    res.json(
      [...state.accounts.entries()].map(([id, name]) => ({
        id,
        name,
        active: true,
        service_period: { from: "2024-01-01", to: "2030-01-01" },
        friendly_identifier: id.slice(0, 8),
        admins: [],
        sign_in_methods: [{ signInMethod: "username_password", status: "enabled" }],
        locale: "en_US",
      })),
    );
  });

  r.use((req, res) => notFound(res, `Route ${req.method} ${req.path}`));
  return r;
}
