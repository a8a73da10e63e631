// Turns a parsed role mapping into DigiCert role ids and decides each user's roles from their groups.
//
// Precedence when a user is in several mapped groups (README: "Role mapping"):
// - DigiCert ONE gives a user a list of roles (`roles: [ids]`, API doc B.1), so the user gets the UNION of the
//   roles of every matching rule, in rule order, without duplicates.
// - CertCentral users hold one role: every documented `access_roles` example has a single entry and the roles
//   are mutually exclusive levels (Administrator, Manager, Standard User…, API doc A.5/A.6). So the FIRST
//   matching rule in file order wins and only its role is used; put the most privileged groups first. A
//   CertCentral rule or default naming several roles is refused when the mapping is compiled, rather than
//   silently dropping all but one.
// - A user whose groups match no rule gets the default roles, or no DigiCert access at all with
//   `unmapped: deactivate`.
import { RoleMappingError, type RoleMappingSpec, type RoleRuleSpec } from "../config/role-mapping";
import { capabilitiesOf, displayNameOf } from "../digicert/registry";
import type { DigiCertRole, PlatformName } from "../digicert/types";
import type { GroupRef } from "./records";

export interface ResolvedRole {
  id: string;
  name: string;
}

export interface CompiledRoleMapping {
  source: string;
  default: ResolvedRole[];
  unmapped: "default" | "deactivate";
  /** Only the rules that give roles on this platform, in file order; `divisions`: CertCentral containers resolved. */
  rules: { spec: RoleRuleSpec; roles: ResolvedRole[]; divisions?: ResolvedRole[] }[];
  /** True when some rule names CertCentral divisions: the bridge then keeps every user's divisions in step. */
  managesDivisions?: boolean;
  /** ONE: a user holds a list of roles. CertCentral: exactly one. */
  multipleRoles: boolean;
  /** Roles never granted through SCIM (`forbid`): no rule or default may name them, and direct assignments are refused. */
  forbidden: ResolvedRole[];
}

export interface EffectiveRoles {
  /** False only when no rule matched and the mapping says `unmapped: deactivate`. */
  entitled: boolean;
  roles: ResolvedRole[];
  /** Index (1-based) of every rule that matched, in file order; on CertCentral the first of them decided. */
  matchedRules: number[];
}

const NO_FILE_SOURCE = "(no role mapping file)";

function offered(available: DigiCertRole[]): string {
  return available.length ? available.map((r) => `${r.name} (${r.id})`).join(", ") : "none";
}

/**
 * Role refs are ids or names. Ids win so a role can be pinned even if another role carries its id as a name;
 * the final case-insensitive id pass lets `am_user_manager` work for ONE's upper-case ids.
 */
function resolveOne(ref: string, available: DigiCertRole[]): DigiCertRole | undefined {
  const want = ref.trim();
  const lower = want.toLowerCase();
  return (
    available.find((r) => r.id === want) ??
    available.find((r) => r.name.trim().toLowerCase() === lower) ??
    available.find((r) => r.id.toLowerCase() === lower)
  );
}

/** Roles of several managers (DigiCert ONE) may share a name: a name that is not an id must then be one. */
function ambiguity(ref: string, available: DigiCertRole[]): string | null {
  const want = ref.trim();
  if (available.some((r) => r.id === want || r.id.toLowerCase() === want.toLowerCase())) return null;
  const same = available.filter((r) => r.name.trim().toLowerCase() === want.toLowerCase());
  if (same.length < 2) return null;
  return `${JSON.stringify(ref)} names ${same.length} roles (${same.map((r) => `${r.id}${r.application ? ` in ${r.application}` : ""}`).join(", ")}); name the role by its id`;
}

/**
 * Resolves every role of the mapping against the roles DigiCert offers. `spec` null means no mapping file:
 * everyone gets `fallbackDefaultRole` (DIGICERT_DEFAULT_ROLE). Throws RoleMappingError listing every problem.
 */
export function compileRoleMapping(
  spec: RoleMappingSpec | null,
  available: DigiCertRole[],
  platform: PlatformName,
  fallbackDefaultRole: string | readonly string[],
  /** CertCentral's divisions (GET /container), needed only when a rule names `divisions`. */
  divisions?: DigiCertRole[],
): CompiledRoleMapping {
  const problems: string[] = [];
  const source = spec?.source ?? NO_FILE_SOURCE;
  const capabilities = capabilitiesOf(platform);
  const multipleRoles = capabilities.rolesPerUser === "many";

  const resolveList = (refs: string[], where: string, anyNumber = false): ResolvedRole[] => {
    const out: ResolvedRole[] = [];
    for (const ref of refs) {
      const twice = ambiguity(ref, available);
      if (twice) {
        problems.push(`${where}: ${twice}`);
        continue;
      }
      const hit = resolveOne(ref, available);
      if (!hit) {
        problems.push(`${where}: ${JSON.stringify(ref)} is not a DigiCert role; DigiCert offers: ${offered(available)}`);
        continue;
      }
      // "Manager" and 4 are the same role; listing both is not "several roles".
      if (!out.some((r) => r.id === hit.id)) out.push({ id: hit.id, name: hit.name });
    }
    if (!multipleRoles && !anyNumber && out.length > 1) {
      problems.push(
        `${where}: lists ${out.length} roles (${out.map((r) => r.name).join(", ")}), but ${displayNameOf(platform)} users hold one role; keep one`,
      );
    }
    return out;
  };

  const defaultWhere = spec?.default ? `${source}: default` : "DIGICERT_DEFAULT_ROLE";
  let def: ResolvedRole[];
  if (spec?.default || typeof fallbackDefaultRole === "string") {
    def = resolveList(spec?.default ?? [fallbackDefaultRole as string], defaultWhere);
  } else {
    // DIGICERT_DEFAULT_ROLE unset: the platform's basic role under any of the names DigiCert has used for it.
    const shared = fallbackDefaultRole.map((ref) => ambiguity(ref, available)).find((a) => a !== null);
    const hit = fallbackDefaultRole.map((ref) => resolveOne(ref, available)).find((r) => r !== undefined);
    if (shared) {
      def = [];
      problems.push(`DIGICERT_DEFAULT_ROLE (unset): ${shared}; set DIGICERT_DEFAULT_ROLE to that id`);
    } else if (hit) def = [{ id: hit.id, name: hit.name }];
    else {
      def = [];
      problems.push(
        `DIGICERT_DEFAULT_ROLE (unset): DigiCert offers none of ${fallbackDefaultRole.map((r) => JSON.stringify(r)).join(", ")}; set it to one of: ${offered(available)}`,
      );
    }
  }

  const rules: CompiledRoleMapping["rules"] = [];
  const resolveDivisions = (refs: string[], where: string): ResolvedRole[] => {
    if (!divisions) {
      problems.push(`${where}: CertCentral's divisions could not be listed to resolve ${refs.map((r) => JSON.stringify(r)).join(", ")}`);
      return [];
    }
    const out: ResolvedRole[] = [];
    for (const ref of refs) {
      const hit = resolveOne(ref, divisions);
      if (!hit) problems.push(`${where}: ${JSON.stringify(ref)} is not a CertCentral division; CertCentral has: ${offered(divisions)}`);
      else if (!out.some((d) => d.id === hit.id)) out.push({ id: hit.id, name: hit.name });
    }
    return out;
  };
  for (const rule of spec?.rules ?? []) {
    if (rule.roles.length === 0) continue; // lists only the other platform's roles
    const compiled: CompiledRoleMapping["rules"][number] = { spec: rule, roles: resolveList(rule.roles, `${source}: ${rule.describe}`) };
    if (capabilities.divisions && rule.divisions?.length) compiled.divisions = resolveDivisions(rule.divisions, `${source}: ${rule.describe}: divisions`);
    rules.push(compiled);
  }

  // forbid guards against a mistake in this same file as much as against a hostile IdP: a rule may not grant them.
  const forbidden = spec?.forbid.length ? resolveList(spec.forbid, `${source}: forbid`, true) : [];
  const forbiddenIds = new Set(forbidden.map((r) => r.id));
  const grantsForbidden = (roles: ResolvedRole[], where: string) => {
    for (const r of roles) if (forbiddenIds.has(r.id)) problems.push(`${where}: grants ${r.name} (${r.id}), which forbid says the bridge must never grant`);
  };
  grantsForbidden(def, defaultWhere);
  for (const rule of rules) grantsForbidden(rule.roles, `${source}: ${rule.spec.describe}`);

  if (problems.length) throw new RoleMappingError(problems);
  const managesDivisions = rules.some((r) => r.divisions?.length);
  return { source, default: def, unmapped: spec?.unmapped ?? "default", rules, multipleRoles, forbidden, ...(managesDivisions ? { managesDivisions } : {}) };
}

type Matcher = (groups: PreparedGroup[]) => boolean;
type PreparedGroup = { lowerName: string; displayName: string; externalId: string | null };

// Built once per compiled mapping rather than per user: a reload re-applies the mapping to every user.
const matcherCache = new WeakMap<CompiledRoleMapping["rules"], Matcher[]>();

function matchersOf(rules: CompiledRoleMapping["rules"]): Matcher[] {
  let m = matcherCache.get(rules);
  if (m) return m;
  m = rules.map(({ spec }): Matcher => {
    const match = spec.match;
    if (match.kind === "displayName") {
      const want = match.value.toLowerCase();
      return (gs) => gs.some((g) => g.lowerName === want);
    }
    if (match.kind === "externalId") {
      const want = match.value;
      return (gs) => gs.some((g) => g.externalId === want);
    }
    // A pattern from the file has no g/y flag, so test() keeps no state between calls.
    const re = match.regex;
    return (gs) => gs.some((g) => re.test(g.displayName));
  });
  matcherCache.set(rules, m);
  return m;
}

/** The roles (and whether any access) a member of `groups` gets under `mapping`. */
export function effectiveRoles(mapping: CompiledRoleMapping, groups: GroupRef[]): EffectiveRoles {
  const prepared: PreparedGroup[] = groups.map((g) => ({
    displayName: g.displayName.trim(),
    lowerName: g.displayName.trim().toLowerCase(),
    externalId: g.externalId,
  }));
  const matchers = matchersOf(mapping.rules);
  const matchedRules: number[] = [];
  const roles: ResolvedRole[] = [];
  for (let i = 0; i < mapping.rules.length; i++) {
    if (!prepared.length || !matchers[i](prepared)) continue;
    const rule = mapping.rules[i];
    matchedRules.push(rule.spec.index);
    if (mapping.multipleRoles) {
      for (const r of rule.roles) if (!roles.some((x) => x.id === r.id)) roles.push(r);
    } else if (roles.length === 0) {
      roles.push(rule.roles[0]);
    }
  }
  if (matchedRules.length) return { entitled: true, roles, matchedRules };
  if (mapping.unmapped === "deactivate") return { entitled: false, roles: [], matchedRules };
  const def = mapping.multipleRoles ? mapping.default.slice() : mapping.default.slice(0, 1);
  return { entitled: true, roles: def, matchedRules };
}

/**
 * The CertCentral divisions a member of `groups` is restricted to: those of every matching rule that names some
 * (a member of two such groups sees both). [] = unrestricted, CertCentral's default for a new user; null when the
 * mapping names no divisions at all (the bridge leaves divisions alone).
 */
export function effectiveDivisions(mapping: CompiledRoleMapping, groups: GroupRef[]): string[] | null {
  if (!mapping.managesDivisions) return null;
  const prepared: PreparedGroup[] = groups.map((g) => ({ displayName: g.displayName.trim(), lowerName: g.displayName.trim().toLowerCase(), externalId: g.externalId }));
  const matchers = matchersOf(mapping.rules);
  const out: string[] = [];
  mapping.rules.forEach((rule, i) => {
    if (!prepared.length || !rule.divisions?.length || !matchers[i](prepared)) return;
    for (const d of rule.divisions) if (!out.includes(d.id)) out.push(d.id);
  });
  return out;
}

/**
 * What a user gains and loses, by name where one is known, for reload summaries. `before` is the stored role
 * ids (null = not known, so everything in `after` counts as gained); `known` names ids that are not in `after`.
 */
export function describeRoleChange(
  before: string[] | null,
  after: ResolvedRole[],
  known: DigiCertRole[] = [],
): { gained: string[]; lost: string[] } {
  const beforeSet = new Set(before ?? []);
  const afterIds = new Set(after.map((r) => r.id));
  const gained = after.filter((r) => !beforeSet.has(r.id)).map((r) => r.name);
  const lost = [...beforeSet].filter((id) => !afterIds.has(id)).map((id) => known.find((r) => r.id === id)?.name ?? id);
  return { gained, lost };
}
