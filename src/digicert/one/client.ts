// DigiCertClient for DigiCert ONE Account Manager (doc §B).
import { DigiCertError } from "../errors";
import { type CircuitSnapshot, DigiCertHttp, joinMessages, WireProblem } from "../http";
import type {
  DigiCertClient,
  DigiCertRole,
  DigiCertUser,
  DigiCertUserInput,
  DigiCertUserPage,
  FieldProblem,
  ListUsersOptions,
} from "../types";
import * as map from "./mapping";

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
}

export class OneClient implements DigiCertClient {
  readonly platform = "one" as const;
  private account?: Promise<string>;

  constructor(
    private readonly http: DigiCertHttp,
    private readonly opts: OneClientOptions = {},
  ) {}

  validate(input: DigiCertUserInput): FieldProblem[] {
    return map.validate(input);
  }

  async createUser(input: DigiCertUserInput, roleIds: string[]): Promise<{ id: string }> {
    const body = map.toCreateBody(input, roleIds, await this.accountId());
    const res = await this.http.request("POST", "/user", { body });
    const id = (res.data as { id?: unknown } | undefined)?.id;
    if (id === undefined || id === null || id === "") throw unexpected("create user answer carries no id");
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
    const wanted = username.toLowerCase();
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
        if (typeof u?.user_name === "string" && u.user_name.toLowerCase() === wanted) return this.toUser(raw);
      }
      offset += page.items.length;
      // Paging is an ASSUMPTION (§B.3): a server that ignores offset repeats itself, which `fresh` catches.
      const more = page.total !== undefined ? offset < page.total : page.items.length >= PAGE_SIZE;
      if (!more || fresh === 0) return null;
    }
  }

  /**
   * §B.3: `GET /user?offset=…&limit=…` (standard users; deleted ones are not listed without `status`). The answer is
   * a bare array (then a short page ends the list) or `{items,total}`. A server that ignores `offset` repeats
   * itself, which ends the loop instead of looping forever.
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
      const more = page.total !== undefined ? offset < page.total : page.items.length >= limit;
      if (!more || page.items.length === 0 || fresh === 0) return;
    }
  }

  async updateUser(id: string, input: DigiCertUserInput): Promise<void> {
    await this.http.request("PUT", this.userPath(id), { body: map.toUpdateBody(input) });
  }

  async setRoles(id: string, roleIds: string[]): Promise<void> {
    await this.http.request("PUT", this.userPath(id), { body: { roles: [...roleIds] } });
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

  async listRoles(): Promise<DigiCertRole[]> {
    const res = await this.http.request("GET", "/role", { query: { application_code: "account_manager" } });
    try {
      return map.rolesFromWire(res.data);
    } catch {
      throw unexpected("role list answer is neither an array nor {items}");
    }
  }

  async ping(): Promise<void> {
    await this.http.request("GET", "/user/me");
  }

  circuit(): CircuitSnapshot {
    return this.http.circuit();
  }

  /**
   * §B.5: disable/enable are ASSUMED as `PUT /user/{id}/disable|enable`. A 405, or a 404 while the user itself
   * still exists, means the route is missing: try POST once, then report the operation as unsupported.
   */
  private async statusChange(id: string, verb: "disable" | "enable"): Promise<void> {
    const path = `${this.userPath(id)}/${verb}`;
    try {
      await this.http.request("PUT", path);
      return;
    } catch (e) {
      if (!(await this.routeMissing(e, id))) throw e;
    }
    try {
      await this.http.request("POST", path);
      return;
    } catch (e) {
      if (!(await this.routeMissing(e, id))) throw e;
    }
    throw new DigiCertError("unsupported", `DigiCert ONE does not offer ${verb} for users on this server`);
  }

  private async routeMissing(e: unknown, id: string): Promise<boolean> {
    if (!(e instanceof DigiCertError)) return false;
    if (e.status === 405) return true;
    if (e.kind !== "not_found") return false;
    return (await this.getUser(id)) !== null;
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

// ONE ids are UUIDs; refuse anything that could escape the path segment instead of asking DigiCert.
function safeId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) && id !== "me";
}

function unexpected(what: string): DigiCertError {
  return new DigiCertError("unexpected", `DigiCert ONE: ${what}`);
}
