// A third DigiCert target for tests: an in-memory "DigiCert" behind the DigiCertClient interface, registered in
// the platform registry when this module is imported. Import it before anything that loads the SCIM layer: the
// SCIM schema lists the platforms registered when it loads, as it would for a target registered in the registry.
import { randomUUID } from "node:crypto";
import { DigiCertError, registerPlatform, type PlatformTarget } from "../../src/digicert";
import type {
  DeactivationInfo,
  DigiCertClient,
  DigiCertRole,
  DigiCertUser,
  DigiCertUserInput,
  DigiCertUserPage,
  FieldProblem,
  PlatformCapabilities,
} from "../../src/digicert/types";

export const THIRD_PLATFORM = "acme-pki";
const NAME = THIRD_PLATFORM;
const ROLES: DigiCertRole[] = [
  { id: "r-member", name: "Member" },
  { id: "r-admin", name: "Administrator" },
];

// Unlike either built-in platform in one respect each can be caught by: a job title stored and compared (ONE has
// none), users disabled rather than demoted (CertCentral demotes), no divisions (CertCentral has them).
const CAPABILITIES: PlatformCapabilities = {
  rolesPerUser: "one",
  keepsUnmanagedRoles: false,
  scopeNoun: "account",
  divisions: false,
  accessRemoval: "disable",
  profile: { jobTitle: true, phone: "always" },
};

type Call = { op: string; args: unknown[] };

/** The target's DigiCert: users in a map, every call recorded. */
export class InMemoryPkiClient implements DigiCertClient {
  readonly platform = NAME;
  readonly capabilities = CAPABILITIES;
  readonly users = new Map<string, DigiCertUser>();
  readonly calls: Call[] = [];

  private record(op: string, ...args: unknown[]) {
    this.calls.push({ op, args });
  }
  private must(id: string): DigiCertUser {
    const u = this.users.get(id);
    if (!u) throw new DigiCertError("not_found", `no user ${id}`);
    return u;
  }

  deactivation(): DeactivationInfo {
    return { configured: "disable", effective: "disable" };
  }
  validate(_input: DigiCertUserInput): FieldProblem[] {
    return [];
  }
  async createUser(input: DigiCertUserInput, roleIds: string[], opts?: { divisionIds?: string[] }) {
    this.record("createUser", input, roleIds, opts);
    if ([...this.users.values()].some((u) => u.username.toLowerCase() === input.username.toLowerCase())) {
      throw new DigiCertError("duplicate", `username ${input.username} is taken`);
    }
    const id = `acme-${randomUUID()}`;
    this.users.set(id, { id, ...profile(input), status: "active", roleIds: [...roleIds], inScope: true });
    return { id };
  }
  async getUser(id: string) {
    this.record("getUser", id);
    const u = this.users.get(id);
    return u ? { ...u } : null;
  }
  async findUserByUsername(username: string) {
    this.record("findUserByUsername", username);
    return [...this.users.values()].find((u) => u.username.toLowerCase() === username.toLowerCase()) ?? null;
  }
  async *listUsers(): AsyncIterable<DigiCertUserPage> {
    this.record("listUsers");
    const users = [...this.users.values()].map((u) => ({ ...u }));
    yield { users, offset: 0, total: users.length };
  }
  async updateUser(id: string, input: DigiCertUserInput, roles?: { grant?: string[] }) {
    this.record("updateUser", id, input, roles);
    const u = this.must(id);
    this.users.set(id, { ...u, ...profile(input), ...(roles?.grant ? { roleIds: [...roles.grant] } : {}) });
  }
  async setRoles(id: string, roleIds: string[]) {
    this.record("setRoles", id, roleIds);
    this.users.set(id, { ...this.must(id), roleIds: [...roleIds] });
  }
  async disableUser(id: string) {
    this.record("disableUser", id);
    this.users.set(id, { ...this.must(id), status: "disabled" });
  }
  async enableUser(id: string) {
    this.record("enableUser", id);
    this.users.set(id, { ...this.must(id), status: "active" });
  }
  async deleteUser(id: string) {
    this.record("deleteUser", id);
    this.users.delete(id);
  }
  async listRoles() {
    return ROLES.map((r) => ({ ...r }));
  }
  async ping() {}
}

function profile(input: DigiCertUserInput) {
  return {
    username: input.username,
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email,
    jobTitle: input.jobTitle ?? null,
    phone: input.phone ?? null,
  };
}

let latest: InMemoryPkiClient | undefined;
/** The client the bridge built last (each createDigiCertClient builds one). */
export function thirdPlatformClient(): InMemoryPkiClient {
  if (!latest) throw new Error("no client of the third platform was built");
  return latest;
}

export const THIRD_PLATFORM_TARGET: PlatformTarget = {
  name: NAME,
  displayName: "Acme PKI",
  capabilities: CAPABILITIES,
  defaultBaseUrl: "https://pki.acme.invalid/api",
  defaultRole: "Member",
  requiredSettings: [],
  transport: { authHeader: "x-acme-key", classify: (status) => new DigiCertError("unavailable", `HTTP ${status}`, { status }) },
  createClient: () => (latest = new InMemoryPkiClient()),
};
registerPlatform(THIRD_PLATFORM_TARGET);

