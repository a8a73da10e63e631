import type { DigiCertClient, DigiCertRole } from "../digicert/types";
import { MisconfiguredError } from "./errors";

// DigiCert role ids vary by account, so roles are configured by name (or id) and resolved through the
// platform's list-roles call. The list changes rarely: cache it for a while to spare the rate budget.
const TTL_MS = 5 * 60 * 1000;

export class RoleResolver {
  private cache: { at: number; roles: DigiCertRole[] } | null = null;

  /** A list not fetched from DigiCert in this process (the one kept in the store), for nameOf only. */
  private remembered: DigiCertRole[] = [];

  constructor(
    private readonly client: DigiCertClient,
    private readonly now: () => number = Date.now,
    /** Called with every list DigiCert answers (the server keeps it in the store). */
    private readonly onFetched?: (roles: DigiCertRole[]) => void,
  ) {}

  /** Names roles from a list DigiCert gave earlier (the store's) until DigiCert answers; never used to resolve. */
  remember(roles: DigiCertRole[]): void {
    this.remembered = roles;
  }

  /** DigiCert's roles, from the cache while fresh; `fresh` forces a new list (start, reload). */
  async roles(fresh = false): Promise<DigiCertRole[]> {
    if (!fresh && this.cache && this.now() - this.cache.at < TTL_MS) return this.cache.roles;
    const roles = await this.client.listRoles();
    this.cache = { at: this.now(), roles };
    this.onFetched?.(roles);
    return roles;
  }

  /** The name of a role id as last listed, without calling DigiCert. */
  nameOf(id: string): string | undefined {
    return (this.cache?.roles ?? this.remembered).find((r) => r.id === id)?.name;
  }

  /** Resolves a role given by id or by name (case-insensitive). `setting` names the config that asked. */
  async resolve(nameOrId: string, setting: string): Promise<string> {
    const roles = await this.roles();
    const wanted = nameOrId.trim().toLowerCase();
    const hit = roles.find((r) => r.id.toLowerCase() === wanted) ?? roles.find((r) => r.name.toLowerCase() === wanted);
    if (hit) return hit.id;
    const known = roles.map((r) => `${r.name} (${r.id})`).join(", ");
    throw new MisconfiguredError(`${setting} '${nameOrId}' matches no DigiCert role; available: ${known || "none"}`);
  }
}
