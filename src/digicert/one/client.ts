// DigiCertClient for DigiCert ONE Account Manager (doc §B).
import { DigiCertError } from "../errors";
import { type CircuitSnapshot, DigiCertHttp, joinMessages, WireProblem } from "../http";
import type { Logger } from "../../log/logger";
import type {
  PlatformCapabilities,
  DeactivationInfo,
  DigiCertClient,
  DigiCertRole,
  DigiCertUser,
  DigiCertUserInput,
  DigiCertUserPage,
  FieldProblem,
  ListUsersOptions,
  RoleScope,
  RoleUpdate,
} from "../types";
import * as map from "./mapping";
import { userNameKey } from "../../user-name";

export const ONE_AUTH_HEADER = "x-api-key";
const PAGE_SIZE = 100;
/** Users per list call when listing everyone (§B.3: paging is an ASSUMPTION, offset/limit). */
export const LIST_PAGE_SIZE = 500;

export function classifyOne(status: number, problems: WireProblem[]): DigiCertError {
  const codes = problems.map((p) => p.code ?? "");
  const text = joinMessages(problems);
  const opts = { status, code: problems[0]?.code };
  if (status === 401) {
    return new DigiCertError("auth", "DigiCert ONE refused the API key (invalid_api_key): check DIGICERT_API_KEY", opts);
  }
  if (status === 409 || codes.includes("duplicate_error")) {
    return new DigiCertError("duplicate", `DigiCert ONE: user name already exists${text ? `: ${text}` : ""}`, opts);
  }
  if (status === 403) return new DigiCertError("forbidden", `DigiCert ONE denied the call${text ? `: ${text}` : ""}`, opts);
  if (status === 404) return new DigiCertError("not_found", `DigiCert ONE: not found${text ? `: ${text}` : ""}`, opts);
  return new DigiCertError("validation", `DigiCert ONE refused the request${text ? `: ${text}` : ` (${status})`}`, opts);
}

export interface OneClientOptions {
  /** The account new users join; when absent the key's first account (GET /account) is used. */
  accountId?: string;
  /** ONE_DEACTIVATE: "delete" (default) makes disableUser/enableUser unsupported, so the caller deletes. */
  deactivation?: "delete" | "disable";
  /** DIGICERT_ONE_APPLICATIONS: the managers whose roles are listed; unset = every role GET /role returns. */
  applications?: string[];
  /** Told once when the disable route turns out to be unsupported. */
  logger?: Logger;
}

/** What the disable/enable routes did when first tried (ONE_DEACTIVATE=disable): §D.1, they are undocumented. */
type StatusRoutes = { state: "untried" } | { state: "supported" } | { state: "unsupported"; why: string };

/**
 * DigiCert ONE: several roles per user, roles of other managers kept, no divisions, a disable route (or delete),
 * no job title, and an absent phone never written (§D.5).
 */
export const ONE_CAPABILITIES: PlatformCapabilities = Object.freeze({
  rolesPerUser: "many",
  keepsUnmanagedRoles: true,
  scopeNoun: "account",
  divisions: false,
  accessRemoval: "disable",
  profile: Object.freeze({ jobTitle: false, phone: "when-set" }),
});

export class OneClient implements DigiCertClient {
  readonly platform = "one" as const;
  readonly capabilities = ONE_CAPABILITIES;
  private account?: Promise<string>;
  private statusRoutes: StatusRoutes = { state: "untried" };

  constructor(
    private readonly http: DigiCertHttp,
    private readonly opts: OneClientOptions = {},
  ) {}

  deactivation(): DeactivationInfo {
    if (this.opts.deactivation !== "disable") return { configured: "delete", effective: "delete" };
    const r = this.statusRoutes;
    if (r.state === "unsupported") return { configured: "disable", effective: "delete", detail: r.why };
    return { configured: "disable", effective: "disable", ...(r.state === "untried" ? { detail: "the disable route is tried at the first deactivation" } : {}) };
  }

  validate(input: DigiCertUserInput): FieldProblem[] {
    return map.validate(input);
  }

  async createUser(input: DigiCertUserInput, roleIds: string[]): Promise<{ id: string }> {
    const body = map.toCreateBody(input, roleIds, await this.accountId());
    const res = await this.http.request("POST", "/user", { body });
    const id = (res.data as { id?: unknown } | undefined)?.id;
    if (id === undefined || id === null || id === "") throw unexpected("create user answer carries no id", { status: res.status, maybeApplied: true });
    return { id: String(id) };
  }

  async getUser(id: string): Promise<DigiCertUser | null> {
    if (!safeId(id)) return null;
    try {
      const res = await this.http.request("GET", `/user/${encodeURIComponent(id)}`);
      return this.toUser(res.data);
    } catch (e) {
      if (e instanceof DigiCertError && e.kind === "not_found") return null;
      throw e;
    }
  }

  async findUserByUsername(username: string): Promise<DigiCertUser | null> {
    // Compared by the bridge's userName key (src/user-name.ts), whatever ONE's own search matched.
    const wanted = userNameKey(username);
    if (wanted === "") return null;
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const res = await this.http.request("GET", "/user", { query: { user_name: username, offset, limit: PAGE_SIZE } });
      let page: { items: unknown[]; total?: number };
      try {
        page = map.listItems(res.data);
      } catch {
        throw unexpected("user list answer is neither an array nor {items}");
      }
      let fresh = 0;
      for (const raw of page.items) {
        const u = raw as { id?: unknown; user_name?: unknown; status?: unknown };
        const key = String(u?.id);
        if (seen.has(key)) continue;
        seen.add(key);
        fresh++;
        if (String(u?.status ?? "").toUpperCase() === "DELETED") continue;
        if (typeof u?.user_name === "string" && userNameKey(u.user_name) === wanted) return this.toUser(raw);
      }
      offset += page.items.length;
      // Paging is unproven (§D.6): without a total, only an empty page ends the list (ONE may cap a page below our
      // limit); a server that ignores offset repeats itself, which `fresh` catches.
      const more = page.total !== undefined ? offset < page.total : page.items.length > 0;
      if (!more || fresh === 0) return null;
    }
  }

  /**
   * §B.3: `GET /user?offset=…&limit=…` (standard users; deleted ones are not listed without `status`). The answer is
   * a bare array or `{items,total}`. Without a total only an empty page ends the list: ONE may cap pages below our
   * limit (§D.6), and a short page must not silently truncate it. A server that ignores `offset` repeats itself,
   * which ends the loop instead of looping forever.
   */
  async *listUsers(opts: ListUsersOptions = {}): AsyncIterable<DigiCertUserPage> {
    const limit = opts.pageSize !== undefined && Number.isInteger(opts.pageSize) && opts.pageSize > 0 ? Math.min(opts.pageSize, 1000) : LIST_PAGE_SIZE;
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const res = await this.http.request("GET", "/user", { query: { offset, limit } });
      let page: { items: unknown[]; total?: number };
      try {
        page = map.listItems(res.data);
      } catch {
        throw unexpected("user list answer is neither an array nor {items}");
      }
      const users: DigiCertUser[] = [];
      let fresh = 0;
      for (const raw of page.items) {
        const u = this.toUser(raw);
        if (seen.has(u.id)) continue;
        seen.add(u.id);
        fresh++;
        users.push(u);
      }
      yield page.total === undefined ? { users, offset } : { users, offset, total: page.total };
      offset += page.items.length;
      const more = page.total !== undefined ? offset < page.total : true;
      if (!more || page.items.length === 0 || fresh === 0) return;
    }
  }

  /**
   * Read-merge-write (§D.5: ONE's update semantics are unproven): the user is read, the profile (and, when given,
   * the managed roles) merged in, and the whole object written back in one PUT, so profile and roles change
   * together and a replacing PUT loses nothing the bridge does not manage.
   */
  async updateUser(id: string, input: DigiCertUserInput, roles: RoleUpdate = {}): Promise<void> {
    const raw = await this.readRaw(id);
    const current = map.roleIdsOf(raw as Record<string, unknown>) ?? roles.known ?? null;
    const final = roles.grant ? mergeRoles(current, roles.grant, roles.managed) : current;
    await this.http.request("PUT", this.userPath(id), { body: map.toPutBody(raw, input, final) });
  }

  async setRoles(id: string, roleIds: string[], scope: RoleScope = {}): Promise<void> {
    const raw = await this.readRaw(id);
    const current = map.roleIdsOf(raw as Record<string, unknown>);
    const final = mergeRoles(current ?? scope.known ?? null, roleIds, scope.managed);
    await this.http.request("PUT", this.userPath(id), { body: map.toPutBody(raw, null, final) });
  }

  disableUser(id: string): Promise<void> {
    return this.statusChange(id, "disable");
  }

  enableUser(id: string): Promise<void> {
    return this.statusChange(id, "enable");
  }

  async deleteUser(id: string): Promise<void> {
    if (!safeId(id)) return;
    try {
      await this.http.request("DELETE", this.userPath(id));
    } catch (e) {
      if (e instanceof DigiCertError && e.kind === "not_found") return;
      throw e;
    }
  }

  /** Roles are per manager (§D.3): every role GET /role lists, or those of DIGICERT_ONE_APPLICATIONS' managers. */
  async listRoles(): Promise<DigiCertRole[]> {
    const apps = this.opts.applications?.length ? this.opts.applications : [undefined];
    const out: DigiCertRole[] = [];
    for (const app of apps) {
      const res = await this.http.request("GET", "/role", app ? { query: { application_code: app } } : {});
      let roles: DigiCertRole[];
      try {
        roles = map.rolesFromWire(res.data);
      } catch {
        throw unexpected("role list answer is neither an array nor {items}");
      }
      for (const r of roles) if (!out.some((x) => x.id === r.id)) out.push(app && !r.application ? { ...r, application: app } : r);
    }
    return out;
  }

  async keyUser(): Promise<DigiCertUser | null> {
    const res = await this.http.request("GET", "/user/me");
    return this.toUser(res.data);
  }

  async ping(): Promise<void> {
    await this.http.request("GET", "/user/me");
  }

  circuit(): CircuitSnapshot {
    return this.http.circuit();
  }

  /**
   * §D.1: no disable/enable route for standard users is documented. With ONE_DEACTIVATE=disable one PUT is tried;
   * any refusal of it (a 4xx but 401/408/429, or 501) means the route is not there for us: remembered for the
   * process and reported as unsupported, so the caller deletes at once and later users cost no probe. A 404 is
   * a refusal only while the user still exists; otherwise it stays not_found (the caller forgets the link).
   */
  private async statusChange(id: string, verb: "disable" | "enable"): Promise<void> {
    if (this.opts.deactivation !== "disable") {
      throw new DigiCertError("unsupported", "ONE_DEACTIVATE=delete: access is removed by deleting the DigiCert ONE user");
    }
    if (this.statusRoutes.state === "unsupported") throw new DigiCertError("unsupported", this.statusRoutes.why);
    try {
      await this.http.request("PUT", `${this.userPath(id)}/${verb}`);
      this.statusRoutes = { state: "supported" };
      return;
    } catch (e) {
      if (!(e instanceof DigiCertError) || !routeRefusal(e)) throw e;
      // The user itself is gone: not a verdict on the route (and, for a disable, the goal holds).
      if (e.kind === "not_found" && (await this.getUser(id)) === null) throw e;
      const why = `DigiCert ONE refused PUT /user/{id}/${verb} (${e.status ?? e.kind}): deactivation deletes the user instead`;
      const first = (this.statusRoutes as StatusRoutes).state !== "unsupported";
      this.statusRoutes = { state: "unsupported", why };
      // Two deactivations may meet the refusal at once: one warning.
      if (first) this.opts.logger?.warn("DigiCert ONE has no usable disable/enable route; ONE_DEACTIVATE=disable falls back to delete for this process", {
        status: e.status,
        code: e.code,
      });
      throw new DigiCertError("unsupported", why, { status: e.status, code: e.code });
    }
  }

  private async readRaw(id: string): Promise<unknown> {
    const res = await this.http.request("GET", this.userPath(id));
    const raw = res.data as { id?: unknown } | undefined;
    if (!raw || typeof raw !== "object" || raw.id === undefined || raw.id === null) throw unexpected("user answer is not a user object");
    return raw;
  }

  private accountId(): Promise<string> {
    if (this.opts.accountId) return Promise.resolve(this.opts.accountId);
    if (!this.account) {
      this.account = this.http.request("GET", "/account").then((res) => {
        let first: unknown;
        try {
          first = map.listItems(res.data).items[0];
        } catch {
          first = undefined;
        }
        const id = (first as { id?: unknown } | undefined)?.id;
        if (id === undefined || id === null || id === "") throw unexpected("account list is empty");
        return String(id);
      });
      this.account.catch(() => (this.account = undefined));
    }
    return this.account;
  }

  private toUser(raw: unknown): DigiCertUser {
    try {
      return map.fromWire(raw, this.opts.accountId);
    } catch {
      throw unexpected("user answer is not a user object");
    }
  }

  private userPath(id: string): string {
    if (!safeId(id)) throw new DigiCertError("not_found", "DigiCert ONE user id is empty or malformed");
    return `/user/${encodeURIComponent(id)}`;
  }
}

/**
 * The roles to write: `grant`, plus those of `current` outside `managed` (roles of managers no rule names, kept).
 * Without `managed`, or when the current roles are unknown, `grant` alone.
 */
export function mergeRoles(current: string[] | null, grant: string[], managed?: string[]): string[] {
  if (!managed || !current) return [...new Set(grant)];
  const owned = new Set(managed);
  return [...new Set([...current.filter((r) => !owned.has(r)), ...grant])];
}

/** An answer that says the route is not offered to us, as opposed to a transient failure or a refused key. */
function routeRefusal(e: DigiCertError): boolean {
  if (e.kind === "unsupported") return true;
  if (e.status === undefined || e.status < 400 || e.status >= 500) return false;
  return e.status !== 401 && e.status !== 408 && e.status !== 429 && e.kind !== "auth";
}

// ONE ids are UUIDs; refuse anything that could escape the path segment instead of asking DigiCert.
function safeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) && id !== "me";
}

function unexpected(what: string, opts: { status?: number; maybeApplied?: boolean } = {}): DigiCertError {
  return new DigiCertError("unexpected", `DigiCert ONE: ${what}`, opts);
}
