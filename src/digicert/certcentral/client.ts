// DigiCertClient for CertCentral Services API v2 (doc §A).
import { DigiCertError } from "../errors";
import { type CircuitSnapshot, DigiCertHttp, type HttpResult, joinMessages, WireProblem } from "../http";
import type {
  PlatformCapabilities,
  DigiCertClient,
  DigiCertRole,
  DigiCertUser,
  DigiCertUserInput,
  DigiCertUserPage,
  FieldProblem,
  ListUsersOptions,
} from "../types";
import * as map from "./mapping";
import { userNameKey } from "../../user-name";

export const CERTCENTRAL_AUTH_HEADER = "X-DC-DEVKEY";
const PAGE_SIZE = 100;
/** Users per list call when listing everyone (§A.3: the public client reads 500 at a time; max undocumented). */
export const LIST_PAGE_SIZE = 500;

export function classifyCertCentral(status: number, problems: WireProblem[]): DigiCertError {
  const code = problems.map((p) => p.code ?? "").join(",");
  const text = joinMessages(problems);
  const opts = { status, code: problems[0]?.code };
  const all = `${code} ${text}`.toLowerCase();
  if (status === 401 || (status === 403 && code.includes("access_denied_invalid_key"))) {
    return new DigiCertError("auth", "CertCentral refused the API key (access_denied_invalid_key): check DIGICERT_API_KEY", opts);
  }
  if (status === 403) return new DigiCertError("forbidden", `CertCentral denied the call${text ? `: ${text}` : ""}`, opts);
  if (status === 404) return new DigiCertError("not_found", `CertCentral: not found${text ? `: ${text}` : ""}`, opts);
  if (status === 409 || (status === 400 && all.includes("username") && /exist|taken|duplicate|already/.test(all))) {
    return new DigiCertError("duplicate", `CertCentral: username already exists${text ? `: ${text}` : ""}`, opts);
  }
  return new DigiCertError("validation", `CertCentral refused the request${text ? `: ${text}` : ` (${status})`}`, opts);
}

export interface CertCentralClientOptions {
  containerId?: string;
  /** CERTCENTRAL_SAML_SSO_ONLY: users the bridge creates or adopts get `is_saml_sso_only: true`. */
  samlSsoOnly?: boolean;
  /** Tests only. */
  now?: () => number;
}

/**
 * How long the bridge stops asking `GET /user/availability` after CertCentral refused the route (403: a key
 * restricted to user management; 404: the route is not there): each create would otherwise spend a call of
 * the rate budget on an answer it cannot get. Short enough that a fixed key is noticed without a restart.
 */
export const AVAILABILITY_RETRY_MS = 15 * 60_000;

/** CertCentral: one role per user, divisions, demotion instead of a disabled state, job title and phone stored. */
export const CERTCENTRAL_CAPABILITIES: PlatformCapabilities = Object.freeze({
  rolesPerUser: "one",
  keepsUnmanagedRoles: false,
  scopeNoun: "container",
  divisions: true,
  accessRemoval: "demote",
  profile: Object.freeze({ jobTitle: true, phone: "always" }),
});

export class CertCentralClient implements DigiCertClient {
  readonly platform = "certcentral" as const;
  readonly capabilities = CERTCENTRAL_CAPABILITIES;
  private readonly containerId?: number;
  private readonly samlSsoOnly: boolean;
  private readonly now: () => number;
  private rootContainer?: Promise<number>;
  private availabilityOffUntil = 0;

  constructor(
    private readonly http: DigiCertHttp,
    opts: CertCentralClientOptions = {},
  ) {
    if (opts.containerId !== undefined && opts.containerId !== "") {
      const id = map.toIntId(opts.containerId);
      if (id === undefined) throw new Error("CertCentral container id must be a positive integer");
      this.containerId = id;
    }
    this.samlSsoOnly = opts.samlSsoOnly === true;
    this.now = opts.now ?? Date.now;
  }

  validate(input: DigiCertUserInput): FieldProblem[] {
    return map.validate(input);
  }

  /**
   * §A.8/§D.7: how CertCentral words "username taken" is not public, so a taken username is found out before the
   * POST (availability) and, when the route is refused, after a 400 by looking the username up.
   */
  async createUser(input: DigiCertUserInput, roleIds: string[], opts: { divisionIds?: string[] } = {}): Promise<{ id: string }> {
    const body = map.toCreateBody(input, intRoleIds(roleIds), this.containerId, this.samlSsoOnly);
    // §A.1: container_id_assignments restricts the user to divisions; omitted (as public clients do) when none.
    if (opts.divisionIds?.length) body.container_id_assignments = divisionIdsOf(opts.divisionIds);
    if ((await this.usernameAvailable(input.username)) === false) {
      throw new DigiCertError("duplicate", `CertCentral: username '${input.username}' is not available`);
    }
    let res: HttpResult;
    try {
      res = await this.http.request("POST", "/user", { body });
    } catch (e) {
      throw await this.duplicateIfTaken(e, input.username);
    }
    const id = (res.data as { id?: unknown } | undefined)?.id;
    if (id === undefined || id === null) throw unexpected("create user answer carries no id", { status: res.status, maybeApplied: true });
    return { id: String(id) };
  }

  async getUser(id: string): Promise<DigiCertUser | null> {
    const numeric = map.toIntId(id);
    if (numeric === undefined) return null;
    try {
      const res = await this.http.request("GET", `/user/${numeric}`);
      return this.toUser(res.data);
    } catch (e) {
      // §A.2: the unknown-id answer is undocumented; 404 is assumed, 400 is tolerated.
      if (e instanceof DigiCertError && (e.kind === "not_found" || (e.kind === "validation" && e.status === 400))) {
        return null;
      }
      throw e;
    }
  }

  async findUserByUsername(username: string): Promise<DigiCertUser | null> {
    const wanted = userNameKey(username);
    // filters[search] is exact but also matches names and email, and a leading % would turn it into "contains".
    if (wanted === "" || wanted.startsWith("%")) return null;
    for (let offset = 0; ; ) {
      const res = await this.http.request("GET", "/user", {
        query: { "filters[search]": username, offset, limit: PAGE_SIZE },
      });
      const data = res.data as { users?: unknown; page?: { total?: unknown } } | undefined;
      if (!data || !Array.isArray(data.users)) throw unexpected("user list answer carries no users array");
      for (const u of data.users) {
        if (typeof (u as { username?: unknown }).username === "string" && userNameKey((u as { username: string }).username) === wanted) {
          return this.toUser(u);
        }
      }
      offset += data.users.length;
      const total = typeof data.page?.total === "number" ? data.page.total : offset;
      if (data.users.length === 0 || offset >= total) return null;
    }
  }

  /** §A.3: `GET /user?container_id=…&offset=…&limit=…`, `offset += users.length` until `page.total`. */
  async *listUsers(opts: ListUsersOptions = {}): AsyncIterable<DigiCertUserPage> {
    const limit = pageSize(opts.pageSize);
    const seen = new Set<string>();
    for (let offset = 0; ; ) {
      const query: Record<string, number> = { offset, limit };
      if (this.containerId !== undefined) query.container_id = this.containerId;
      const res = await this.http.request("GET", "/user", { query });
      const data = res.data as { users?: unknown; page?: { total?: unknown } } | undefined;
      if (!data || !Array.isArray(data.users)) throw unexpected("user list answer carries no users array");
      const total = typeof data.page?.total === "number" ? data.page.total : undefined;
      const users: DigiCertUser[] = [];
      for (const raw of data.users) {
        const u = this.toUser(raw);
        if (seen.has(u.id)) continue;
        seen.add(u.id);
        users.push(u);
      }
      yield total === undefined ? { users, offset } : { users, offset, total };
      offset += data.users.length;
      if (data.users.length === 0 || offset >= (total ?? offset)) return;
    }
  }

  /** Profile and roles are two calls on CertCentral (§A.4: PUT /user/{id} does not change roles; §A.5 does). */
  async updateUser(id: string, input: DigiCertUserInput, roles?: { grant?: string[] }): Promise<void> {
    const wireId = this.wireId(id);
    try {
      await this.http.request("PUT", `/user/${wireId}`, { body: map.toUpdateBody(input, this.samlSsoOnly) });
    } catch (e) {
      // A rename onto a taken username is refused in words nobody documented, like a create (§D.7).
      throw await this.duplicateIfTaken(e, input.username, String(wireId));
    }
    if (roles?.grant) await this.setRoles(id, roles.grant);
  }

  async setRoles(id: string, roleIds: string[]): Promise<void> {
    const body = { access_roles: intRoleIds(roleIds).map((r) => ({ id: r })) };
    await this.http.request("PUT", `/user/${this.wireId(id)}/role`, { body });
  }

  // §A.7: CertCentral has no deactivate/reactivate; callers fall back to delete and re-create.
  async disableUser(_id: string): Promise<void> {
    throw new DigiCertError("unsupported", "CertCentral has no API to disable a user; delete it instead");
  }

  async enableUser(_id: string): Promise<void> {
    throw new DigiCertError("unsupported", "CertCentral has no API to enable a user; re-create it instead");
  }

  async deleteUser(id: string): Promise<void> {
    const numeric = map.toIntId(id);
    if (numeric === undefined) return;
    try {
      await this.http.request("DELETE", `/user/${numeric}`);
    } catch (e) {
      if (e instanceof DigiCertError && e.kind === "not_found") return;
      throw e;
    }
  }

  /** §A.6: `GET /container` lists the account's containers (divisions); the root has parent_id 0. */
  async listDivisions(): Promise<DigiCertRole[]> {
    const res = await this.http.request("GET", "/container");
    const list = (res.data as { containers?: unknown } | undefined)?.containers;
    if (!Array.isArray(list)) throw unexpected("container list answer carries no containers");
    return list
      .filter((c) => c && typeof c === "object" && (c as { id?: unknown }).id !== undefined)
      .map((c) => ({ id: String((c as { id: unknown }).id), name: String((c as { name?: unknown }).name ?? "") }));
  }

  /** §A.5: `PUT /user/{id}/container-assignments`, a destructive overwrite ([] = unrestricted). */
  async setDivisions(id: string, divisionIds: string[]): Promise<void> {
    await this.http.request("PUT", `/user/${this.wireId(id)}/container-assignments`, { body: { container_id_assignments: divisionIdsOf(divisionIds) } });
  }

  async keyUser(): Promise<DigiCertUser | null> {
    const res = await this.http.request("GET", "/user/me");
    return this.toUser(res.data);
  }

  async listRoles(): Promise<DigiCertRole[]> {
    const cid = this.containerId ?? (await this.rootContainerId());
    const res = await this.http.request("GET", `/container/${cid}/role`);
    try {
      return map.rolesFromWire(res.data);
    } catch {
      throw unexpected("role list answer carries no access_roles");
    }
  }

  async ping(): Promise<void> {
    await this.http.request("GET", "/user/me");
  }

  circuit(): CircuitSnapshot {
    return this.http.circuit();
  }

  /** false = taken; undefined = CertCentral would not say, so the create goes ahead and DigiCert decides. */
  private async usernameAvailable(username: string): Promise<boolean | undefined> {
    if (username === "" || this.now() < this.availabilityOffUntil) return undefined;
    try {
      const res = await this.http.request("GET", `/user/availability/${encodeURIComponent(username)}`);
      const available = (res.data as { available?: unknown } | undefined)?.available;
      return typeof available === "boolean" ? available : undefined;
    } catch (e) {
      if (!(e instanceof DigiCertError)) throw e;
      if (e.kind === "forbidden" || e.kind === "not_found") {
        this.availabilityOffUntil = this.now() + AVAILABILITY_RETRY_MS;
        return undefined;
      }
      // A 400 may be about this one username (e.g. its characters): the next username asks again.
      if (e.kind === "validation" && e.status === 400) return undefined;
      throw e;
    }
  }

  /**
   * A 400 the classifier did not read as "duplicate" may still be one: if DigiCert has a user of that name
   * (other than `self`, the user being renamed), it is. Otherwise the original refusal stands.
   */
  private async duplicateIfTaken(e: unknown, username: string, self?: string): Promise<unknown> {
    if (!(e instanceof DigiCertError) || e.kind !== "validation" || e.status !== 400) return e;
    let holder: DigiCertUser | null;
    try {
      holder = await this.findUserByUsername(username);
    } catch (lookup) {
      // Not knowing whether it was a duplicate is worth another attempt later, not a verdict of invalid input.
      if (lookup instanceof DigiCertError && (lookup.kind === "rate_limited" || lookup.kind === "unavailable")) return lookup;
      return e;
    }
    if (!holder || holder.id === self) return e;
    return new DigiCertError("duplicate", `CertCentral: username '${username}' is taken (${e.message})`, { status: e.status, code: e.code });
  }

  private rootContainerId(): Promise<number> {
    if (!this.rootContainer) {
      this.rootContainer = this.http.request("GET", "/account").then((res) => {
        const root = (res.data as { root_container_id?: unknown } | undefined)?.root_container_id;
        if (typeof root !== "number" && !(typeof root === "string" && /^\d+$/.test(root))) {
          throw unexpected("account answer carries no root_container_id");
        }
        return Number(root);
      });
      // A failed lookup must not be cached forever.
      this.rootContainer.catch(() => (this.rootContainer = undefined));
    }
    return this.rootContainer;
  }

  private toUser(raw: unknown): DigiCertUser {
    try {
      return map.fromWire(raw, this.containerId === undefined ? undefined : String(this.containerId));
    } catch {
      throw unexpected("user answer is not a user object");
    }
  }

  private wireId(id: string): number {
    const numeric = map.toIntId(id);
    if (numeric === undefined) throw new DigiCertError("not_found", `CertCentral user id "${id}" is not a CertCentral id`);
    return numeric;
  }
}

function pageSize(n: number | undefined): number {
  return n !== undefined && Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : LIST_PAGE_SIZE;
}

/** The doc's own example sends division ids as strings (§A.5). */
function divisionIdsOf(ids: string[]): string[] {
  return ids.map((d) => {
    if (map.toIntId(d) === undefined) throw new DigiCertError("validation", `CertCentral division id "${d}" is not an integer`);
    return String(map.toIntId(d));
  });
}

function intRoleIds(roleIds: string[]): number[] {
  return roleIds.map((r) => {
    const n = map.toIntId(r);
    if (n === undefined) throw new DigiCertError("validation", `CertCentral role id "${r}" is not an integer`);
    return n;
  });
}

function unexpected(what: string, opts: { status?: number; maybeApplied?: boolean } = {}): DigiCertError {
  return new DigiCertError("unexpected", `CertCentral: ${what}`, opts);
}
