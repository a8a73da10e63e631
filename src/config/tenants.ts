// TENANTS_FILE: several tenants served by one bridge, each opened by SCIM credentials of its own, each provisioning
// into one or more DigiCert targets (docs/tenants.md). This module only reads and checks the file and builds the typed
// list `AppConfig.tenants`; routing requests to a tenant and running its targets belong to the layers above.
//
// Like the role mapping (./role-mapping.ts), every problem names the file, the line and the key path, and all of them
// are reported at once. Messages never quote a token, a password digest or an API key: only names and positions.
//
// Secrets: the API keys read here (apiKey, apiKeyFile, apiKeyEnv) are not in the environment, so the log redactor
// cannot learn them from it (secretsInEnv). Whoever loads the configuration must register them, every tenant's
// target's key, with registerSecret (src/log/logger.ts) before anything is logged: `tenantApiKeys` lists them, and
// src/main.ts and src/cli/common.ts do so right after loadConfig (openDigiCertClient in src/wiring.ts registers the
// key of each client it opens as well).
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";
import { YamlProblems } from "./yaml-problems";
import { parseRateLimit, type RateWindow } from "../digicert/pacing";
import { findPlatform, platformNames } from "../digicert/registry";
import type { IdentityProvider } from "../scim/idp";
import {
  duplicates,
  parseBasicUserEntries,
  parseBasicUsers,
  parseTokenEntries,
  parseTokens,
  type BasicCredential,
  type BearerCredential,
} from "./credentials";
import type { AppConfig, CertCentralDeactivation } from "./index";
import { closest } from "./role-mapping";

export interface TenantTarget {
  /** Name of the target within its tenant: /^[a-z0-9][a-z0-9-]{0,31}$/ (labels, store keys). */
  name: string;
  /** The whole DigiCert block, exactly the shape of AppConfig["digicert"], with env values as defaults for what the file does not set. */
  digicert: AppConfig["digicert"];
  /** This target's group→role mapping file (same format as ROLE_MAPPING_FILE); path resolved relative to the tenants file. */
  roleMappingFile?: string;
}

export interface TenantConfig {
  /** /^[a-z0-9][a-z0-9-]{0,62}$/; "default" is the tenant served at /scim/v2 (and /t/default/scim/v2). */
  id: string;
  /** The SCIM credentials that open this tenant (and no other). */
  credentials: { bearerTokens: BearerCredential[]; basicUsers: BasicCredential[] };
  /** IdP dialect hint: when set, every request of this tenant is treated as from this IdP instead of detecting it from headers. */
  idp?: IdentityProvider;
  dryRun: boolean;
  /** At least one; the first is the tenant's primary target (its platform shapes the SCIM User extension). Several = fan-out. */
  targets: TenantTarget[];
}

/** The tenant the environment defines (DIGICERT_API_KEY, SCIM_BEARER_TOKENS…), served at /scim/v2. */
export const DEFAULT_TENANT_ID = "default";
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

// Every IdentityProvider, so adding one to src/scim/idp.ts without adding it here does not compile.
const IDP_NAMES: Record<IdentityProvider, true> = { okta: true, entra: true, onelogin: true, jumpcloud: true, other: true };
/** The values `idp:` takes in TENANTS_FILE. */
export const IDENTITY_PROVIDERS = Object.keys(IDP_NAMES) as IdentityProvider[];

/** Rule 1: without TENANTS_FILE (or next to it, when the environment configures DigiCert) the environment is one tenant. */
export function envDefaultTenant(config: {
  scim: Pick<AppConfig["scim"], "bearerTokens" | "basicUsers">;
  dryRun: boolean;
  digicert: AppConfig["digicert"];
  roleMappingFile?: string;
}): TenantConfig {
  return {
    id: DEFAULT_TENANT_ID,
    credentials: { bearerTokens: config.scim.bearerTokens, basicUsers: config.scim.basicUsers },
    dryRun: config.dryRun,
    targets: [{ name: config.digicert.platform, digicert: config.digicert, roleMappingFile: config.roleMappingFile }],
  };
}

/** Every API key of every tenant's targets (without repeats or empty ones), for the log redactor (registerSecret). */
export function tenantApiKeys(tenants: readonly TenantConfig[]): string[] {
  const keys = new Set<string>();
  for (const t of tenants) for (const target of t.targets) if (target.digicert.apiKey) keys.add(target.digicert.apiKey);
  return [...keys];
}

export interface TenantsInput {
  /** TENANTS_FILE as set (messages name it so); unset = the environment's tenant alone. */
  file?: string;
  /** The environment, after NAME_FILE secrets: `apiKeyEnv` reads its variables. */
  env: NodeJS.ProcessEnv;
  /** The tenant the environment defines, when it configures DigiCert (see envDefaultTenant). */
  envTenant?: TenantConfig;
  /** The environment's DigiCert block: a file target inherits what docs/tenants.md says it inherits from it. */
  digicert: AppConfig["digicert"];
  /** DRY_RUN: a file tenant's dryRun when it sets none. */
  dryRun: boolean;
  /** loadConfig's storeOnly: a target's API key and the platform's required settings may be missing (apiKey ""). */
  storeOnly?: boolean;
  /** ADMIN_TOKENS, ADMIN_BASIC_USERS, METRICS_TOKEN: none may open a tenant. */
  adminTokens?: readonly BearerCredential[];
  adminUsers?: readonly BasicCredential[];
  metricsTokens?: readonly BearerCredential[];
}

/**
 * The tenants of the configuration: the environment's tenant (when given) first, then the file's, in file order, with
 * every problem of the file and of the tenants together (credentials shared between tenants, a shared DigiCert account
 * paced differently). The caller throws the problems as one ConfigError.
 */
export function resolveTenants(input: TenantsInput): { tenants: TenantConfig[]; problems: string[] } {
  const envTenants = input.envTenant ? [input.envTenant] : [];
  if (!input.file) return { tenants: envTenants, problems: [] };
  const c = new Problems(input.file);
  const fromFile = readTenantsFile(c, input);
  const tenants = [...envTenants, ...fromFile.map((f) => f.tenant)];
  checkAcrossTenants(c, input, fromFile);
  const problems = c.problems;
  problems.push(...c.unplaced);
  if (!tenants.length && !problems.length && !input.storeOnly) {
    problems.push(
      `TENANTS_FILE: ${input.file}: declares no tenant, and DIGICERT_API_KEY is not set (so the environment defines none): ` +
        "the bridge would serve no one; declare a tenant under tenants:, or set DIGICERT_API_KEY for the default tenant",
    );
  }
  return { tenants, problems };
}

// --- Reading the file --------------------------------------------------------------------------------------------

/** A file tenant with the lines its messages point at. */
interface PlacedTenant {
  tenant: TenantConfig;
  line: number;
  /** Parallel to tenant.credentials.bearerTokens / basicUsers. */
  tokenLines: number[];
  userLines: number[];
  targets: { target: TenantTarget; line: number; rateLimitLine: number }[];
}

/** Collects problems with their line, so they come out in file order, each naming TENANTS_FILE and the file. */
class Problems extends YamlProblems {
  /** Problems of other variables (ADMIN_TOKENS, METRICS_TOKEN) found by the cross-tenant checks. */
  readonly unplaced: string[] = [];
  constructor(readonly file: string) {
    super(`TENANTS_FILE: ${file}`);
  }

  at(line: number, field: string, message: string): void {
    this.problem(line, field, message);
  }
}

type Entry = { key: string; keyLine: number; value: Node | null };

/** The entries of a mapping in file order; unknown keys are problems (a typo must not pass silently). */
function entries(c: Problems, map: Node, field: string, known: readonly string[] | null): Map<string, Entry> {
  const out = new Map<string, Entry>();
  if (!isMap(map)) return out;
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const keyLine = c.line(keyNode, c.line(map));
    const p = field ? `${field}.${key}` : key;
    if (known && !known.includes(key)) {
      const hint = closest(key, known);
      c.at(keyLine, p, `unknown key${hint ? ` (did you mean ${hint}?)` : ""}; expected ${known.join(", ")}`);
      continue;
    }
    out.set(key, { key, keyLine, value: c.deref(pair.value) });
  }
  return out;
}

/** What a node is, for messages; never its value (it may be a secret). */
function kind(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return "nothing";
  if (isScalar(node)) {
    if (typeof node.value === "string") return node.value.trim() ? "a string" : "an empty string";
    if (typeof node.value === "number") return "a number";
    if (typeof node.value === "boolean") return "true/false";
    return "a scalar";
  }
  if (isSeq(node)) return node.items.length ? "a list" : "an empty list";
  if (isMap(node)) return node.items.length ? "an object" : "an empty object";
  return "something else";
}

const isNull = (node: Node | null) => node === null || (isScalar(node) && node.value === null);

/** A string as written; a plain number keeps its source text (a container id 00123 stays 00123). Trimmed; "" = none. */
function text(node: Node | null): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === "string") return node.value.trim() || undefined;
  if (typeof node.value === "number" && Number.isFinite(node.value)) {
    return typeof node.source === "string" && node.source.trim() ? node.source.trim() : String(node.value);
  }
  return undefined;
}

function bool(c: Problems, e: Entry | undefined, field: string): boolean | undefined {
  if (!e) return undefined;
  if (isScalar(e.value) && typeof e.value.value === "boolean") return e.value.value;
  c.at(e.keyLine, field, `must be true or false (got ${kind(e.value)})`);
  return undefined;
}

/** A non-empty string setting; undefined when absent or wrong (reported). */
function str(c: Problems, e: Entry | undefined, field: string, what: string): string | undefined {
  if (!e) return undefined;
  const t = text(e.value);
  if (t === undefined) c.at(e.keyLine, field, `must be ${what} (got ${kind(e.value)})`);
  return t;
}

const TOP_KEYS = ["tenants"] as const;
const TENANT_KEYS = ["bearerTokens", "basicUsers", "idp", "dryRun", "targets"] as const;
const API_KEY_SOURCES = ["apiKey", "apiKeyFile", "apiKeyEnv"] as const;
const TARGET_KEYS = [
  "platform",
  ...API_KEY_SOURCES,
  "baseUrl",
  "containerId",
  "accountId",
  "defaultRole",
  "rateLimit",
  "roleMappingFile",
  "certcentralDeactivate",
  "oneDeactivate",
  "oneApplications",
  "samlSsoOnly",
] as const;

/**
 * The environment variables of a platform's requiredSettings (src/digicert/registry.ts) and the key a target of the
 * tenants file gives them with.
 */
const SETTING_KEYS: Record<string, (typeof TARGET_KEYS)[number]> = {
  DIGICERT_CERTCENTRAL_CONTAINER_ID: "containerId",
  DIGICERT_ONE_ACCOUNT_ID: "accountId",
};

/** Files larger than this are not API keys but mistakes (as for NAME_FILE secrets). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

function readTenantsFile(c: Problems, input: TenantsInput): PlacedTenant[] {
  const file = input.file!;
  let source: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw Object.assign(new Error("not a regular file"), { code: "NOTFILE" });
    source = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "ENOENT" ? "no such file" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.message;
    c.unplaced.push(`TENANTS_FILE: cannot read ${file} (${why})`);
    return [];
  }
  c.doc = parseDocument(source.replace(/^\uFEFF/, ""), { lineCounter: c.lines, prettyErrors: false });
  if (c.doc.errors.length) {
    // The tree after a syntax error is a guess: checking its shape would only add misleading problems.
    for (const err of c.doc.errors) {
      const pos = c.lines.linePos(err.pos[0]);
      c.syntax(pos.line, pos.col, err.message.split("\n")[0]);
    }
    return [];
  }
  const root = c.deref(c.doc.contents);
  if (!isMap(root)) {
    c.at(c.line(root), "(top level)", `must be an object with tenants (got ${root ? kind(root) : "an empty file"})`);
    return [];
  }
  const top = entries(c, root, "", TOP_KEYS);
  const t = top.get("tenants");
  if (!t) {
    c.at(c.line(root), "tenants", "required: an object of tenants by id");
    return [];
  }
  if (!isMap(t.value)) {
    c.at(t.keyLine, "tenants", `must be an object of tenants by id (got ${kind(t.value)}; write tenants: {} for none)`);
    return [];
  }
  const dir = path.dirname(path.resolve(file));
  const out: PlacedTenant[] = [];
  for (const [id, e] of entries(c, t.value, "tenants", null)) {
    const tenant = readTenant(c, input, dir, id, e);
    if (tenant) out.push(tenant);
  }
  return out;
}

function readTenant(c: Problems, input: TenantsInput, dir: string, id: string, e: Entry): PlacedTenant | undefined {
  const field = `tenants.${id}`;
  const before = c.count;
  if (!TENANT_ID_PATTERN.test(id)) {
    c.at(e.keyLine, field, "a tenant id must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit (it is part of the URL /t/<id>/scim/v2)");
  }
  if (!isMap(e.value)) {
    c.at(e.keyLine, field, `must be an object with targets and bearerTokens and/or basicUsers (got ${kind(e.value)})`);
    return undefined;
  }
  const s = entries(c, e.value, field, TENANT_KEYS);

  const tokens = credentialList(c, s.get("bearerTokens"), `${field}.bearerTokens`, TOKEN_LISTS);
  const users = credentialList(c, s.get("basicUsers"), `${field}.basicUsers`, BASIC_USER_LISTS);
  if (tokens && users && !tokens.found.length && !users.found.length) {
    c.at(e.keyLine, field, "needs at least one credential (bearerTokens or basicUsers): a tenant's credentials are the only way to open it");
  }

  let idp: IdentityProvider | undefined;
  const idpEntry = s.get("idp");
  if (idpEntry) {
    const v = text(idpEntry.value);
    if (v !== undefined && (IDENTITY_PROVIDERS as string[]).includes(v)) idp = v as IdentityProvider;
    else c.at(idpEntry.keyLine, `${field}.idp`, `must be one of ${IDENTITY_PROVIDERS.join(", ")} (got ${kind(idpEntry.value)}${v ? ` "${v}"` : ""})`);
  }
  const dryRun = bool(c, s.get("dryRun"), `${field}.dryRun`) ?? input.dryRun;

  const targets: PlacedTenant["targets"] = [];
  const tg = s.get("targets");
  if (!tg) {
    c.at(e.keyLine, `${field}.targets`, "required: at least one DigiCert target (name → platform, API key…)");
  } else if (!isMap(tg.value) || tg.value.items.length === 0) {
    c.at(tg.keyLine, `${field}.targets`, `must be an object of at least one target by name (got ${kind(tg.value)})`);
  } else {
    for (const [name, te] of entries(c, tg.value, `${field}.targets`, null)) {
      const target = readTarget(c, input, dir, `${field}.targets.${name}`, name, te);
      if (target) targets.push(target);
    }
  }
  if (c.count > before || !tokens || !users) return undefined;
  return {
    tenant: {
      id,
      credentials: { bearerTokens: tokens.found, basicUsers: users.found },
      ...(idp ? { idp } : {}),
      dryRun,
      targets: targets.map((t) => t.target),
    },
    line: e.keyLine,
    tokenLines: tokens.lines,
    userLines: users.lines,
    targets,
  };
}

interface CredentialGrammar<T> {
  what: string;
  parseList: (list: string) => { found: T[]; problems: string[] };
  parseEntries: (entries: { n: number; raw: string }[]) => { found: T[]; problems: string[] };
  nameOf: (t: T) => string;
  nameWhat: string;
}

const TOKEN_LISTS: CredentialGrammar<BearerCredential> = {
  what: "tokens",
  parseList: (list) => {
    const r = parseTokens(list);
    return { found: r.tokens, problems: r.problems };
  },
  parseEntries: (entries) => {
    const r = parseTokenEntries(entries);
    return { found: r.tokens, problems: r.problems };
  },
  nameOf: (t) => t.name,
  nameWhat: "token name",
};

const BASIC_USER_LISTS: CredentialGrammar<BasicCredential> = {
  what: "Basic users",
  parseList: (list) => {
    const r = parseBasicUsers(list);
    return { found: r.users, problems: r.problems };
  },
  parseEntries: (entries) => {
    const r = parseBasicUserEntries(entries);
    return { found: r.users, problems: r.problems };
  },
  nameOf: (u) => u.username,
  nameWhat: "username",
};

/**
 * bearerTokens / basicUsers: one string in the grammar of SCIM_BEARER_TOKENS / SCIM_BASIC_USERS, or a YAML list of
 * its entries (each problem then on its item's line). Unset or empty = none. undefined when invalid (reported).
 */
function credentialList<T>(c: Problems, e: Entry | undefined, field: string, grammar: CredentialGrammar<T>): { found: T[]; lines: number[] } | undefined {
  const { what, parseList, parseEntries, nameOf, nameWhat } = grammar;
  if (!e || isNull(e.value)) return { found: [], lines: [] };
  if (isScalar(e.value) && typeof e.value.value === "string") {
    const r = parseList(e.value.value);
    for (const p of r.problems) c.at(e.keyLine, field, p);
    return r.problems.length ? undefined : { found: r.found, lines: r.found.map(() => e.keyLine) };
  }
  if (!isSeq(e.value)) {
    c.at(e.keyLine, field, `must be a comma-separated string of ${what} (as in the environment variable) or a list of them (got ${kind(e.value)})`);
    return undefined;
  }
  const found: T[] = [];
  const lines: number[] = [];
  let ok = true;
  e.value.items.forEach((raw, i) => {
    const item = c.deref(raw);
    const line = c.line(item, e.keyLine);
    const entry = isScalar(item) && (typeof item.value === "string" || typeof item.value === "number") ? text(item) : undefined;
    if (entry === undefined || entry.includes(",")) {
      c.at(line, `${field}[${i}]`, entry === undefined ? `must be one entry, a string (got ${kind(item)})` : "must be one entry: a list item holds no comma");
      ok = false;
      return;
    }
    const r = parseEntries([{ n: i + 1, raw: entry }]);
    for (const p of r.problems) c.at(line, `${field}[${i}]`, p);
    if (r.problems.length) ok = false;
    for (const t of r.found) {
      found.push(t);
      lines.push(line);
    }
  });
  for (const p of duplicates(found.map(nameOf), nameWhat)) {
    c.at(e.keyLine, field, p);
    ok = false;
  }
  return ok ? { found, lines } : undefined;
}

function readTarget(c: Problems, input: TenantsInput, dir: string, field: string, name: string, e: Entry): PlacedTenant["targets"][number] | undefined {
  const before = c.count;
  if (!TARGET_NAME_PATTERN.test(name)) {
    c.at(e.keyLine, field, "a target name must be 1-32 characters of a-z, 0-9 and -, starting with a letter or digit");
  }
  if (!isMap(e.value)) {
    c.at(e.keyLine, field, `must be an object with platform and the API key (got ${kind(e.value)})`);
    return undefined;
  }
  const s = entries(c, e.value, field, TARGET_KEYS);
  const names = platformNames();

  const pe = s.get("platform");
  const platformName = pe ? text(pe.value) : undefined;
  const platform = platformName === undefined ? undefined : findPlatform(platformName);
  if (!pe) c.at(e.keyLine, `${field}.platform`, `required: one of ${names.join(", ")}`);
  else if (!platform) c.at(pe.keyLine, `${field}.platform`, `must be one of ${names.join(", ")}`);

  // The API key: exactly one source.
  const given = API_KEY_SOURCES.filter((k) => s.has(k));
  let apiKey: string | undefined;
  if (given.length > 1) {
    c.at(s.get(given[1])!.keyLine, field, `give exactly one of apiKey, apiKeyFile or apiKeyEnv (${given.join(" and ")} are set)`);
  } else if (given.length === 0) {
    if (input.storeOnly) apiKey = "";
    else c.at(e.keyLine, `${field}.apiKey`, "required: the DigiCert API key, as apiKey, apiKeyFile (a file holding it) or apiKeyEnv (an environment variable holding it)");
  } else {
    apiKey = readApiKey(c, input, dir, `${field}.${given[0]}`, given[0], s.get(given[0])!);
  }

  const be = s.get("baseUrl");
  const baseUrlText = str(c, be, `${field}.baseUrl`, "an http(s) URL");
  if (baseUrlText !== undefined && !/^https?:\/\/[^\s]+$/i.test(baseUrlText)) c.at(be!.keyLine, `${field}.baseUrl`, "must be an http(s) URL");

  const ce = s.get("containerId");
  const containerId = str(c, ce, `${field}.containerId`, "a numeric CertCentral container id");
  if (containerId !== undefined && !/^\d+$/.test(containerId)) c.at(ce!.keyLine, `${field}.containerId`, "must be a numeric CertCentral container id");
  const accountId = str(c, s.get("accountId"), `${field}.accountId`, "a DigiCert ONE account id");
  const defaultRole = str(c, s.get("defaultRole"), `${field}.defaultRole`, "a role name or id");

  let rateLimit: RateWindow[] | undefined;
  const re = s.get("rateLimit");
  const rateText = str(c, re, `${field}.rateLimit`, "<count>/<window>[,…] such as 1000/180s,100/5s");
  if (rateText !== undefined) {
    try {
      rateLimit = parseRateLimit(rateText);
    } catch (err) {
      c.at(re!.keyLine, `${field}.rateLimit`, `${(err as Error).message} (example: 1000/180s,100/5s)`);
    }
  }

  const mappingText = str(c, s.get("roleMappingFile"), `${field}.roleMappingFile`, "the path of a role mapping file");
  const roleMappingFile = mappingText === undefined ? undefined : path.resolve(dir, mappingText);

  let certcentralDeactivation: CertCentralDeactivation | undefined;
  const cde = s.get("certcentralDeactivate");
  const cd = str(c, cde, `${field}.certcentralDeactivate`, "delete or demote:<role name or id>");
  if (cd !== undefined) {
    if (cd === "delete") certcentralDeactivation = { mode: "delete" };
    else if (/^demote:.*\S/.test(cd)) certcentralDeactivation = { mode: "demote", role: cd.slice("demote:".length).trim() };
    else c.at(cde!.keyLine, `${field}.certcentralDeactivate`, "must be delete or demote:<role name or id>");
  }
  let oneDeactivation: "delete" | "disable" | undefined;
  const ode = s.get("oneDeactivate");
  const od = str(c, ode, `${field}.oneDeactivate`, "delete or disable");
  if (od === "delete" || od === "disable") oneDeactivation = od;
  else if (od !== undefined) c.at(ode!.keyLine, `${field}.oneDeactivate`, "must be delete or disable");

  let oneApplications: string[] | undefined;
  const oae = s.get("oneApplications");
  if (oae) {
    const items = isSeq(oae.value)
      ? oae.value.items.map((i) => text(c.deref(i)))
      : isScalar(oae.value) && typeof oae.value.value === "string"
        ? oae.value.value.split(",").map((a) => a.trim() || undefined)
        : [];
    if (items.length && items.every((a): a is string => a !== undefined && /^[A-Za-z0-9_-]+$/.test(a))) oneApplications = items;
    else c.at(oae.keyLine, `${field}.oneApplications`, `must be a non-empty list of application codes, e.g. [account_manager, trust_lifecycle] (got ${kind(oae.value)})`);
  }
  const samlSsoOnly = bool(c, s.get("samlSsoOnly"), `${field}.samlSsoOnly`);

  if (platform && !input.storeOnly) {
    const settings: Record<string, string | undefined> = { containerId, accountId };
    for (const { env, why } of platform.requiredSettings ?? []) {
      const key = SETTING_KEYS[env];
      if (!key) c.at(e.keyLine, field, `platform ${platform.name} needs ${env} (${why}), which a target of the tenants file cannot set yet`);
      else if (!settings[key] && !s.has(key)) c.at(e.keyLine, `${field}.${key}`, `required for platform ${platform.name} (${why})`);
    }
  }

  if (c.count > before || !platform || apiKey === undefined) return undefined;
  // What the file does not set comes from the environment's block, except what says which DigiCert account this is
  // (key, URL, container, account) and the default role, which are the target's own or the platform's defaults.
  const { certcentralContainerId: _envContainer, oneAccountId: _envAccount, oneApplications: envApplications, ...inherited } = input.digicert;
  const applications = oneApplications ?? envApplications;
  const digicert: AppConfig["digicert"] = {
    ...inherited,
    platform: platform.name,
    apiKey,
    baseUrl: (baseUrlText ?? platform.defaultBaseUrl).replace(/\/+$/, ""),
    ...(containerId !== undefined ? { certcentralContainerId: containerId } : {}),
    ...(accountId !== undefined ? { oneAccountId: accountId } : {}),
    defaultRole: defaultRole ?? platform.defaultRole,
    rateLimit: rateLimit ?? input.digicert.rateLimit,
    certcentralDeactivation: certcentralDeactivation ?? input.digicert.certcentralDeactivation,
    oneDeactivation: oneDeactivation ?? input.digicert.oneDeactivation,
    ...(applications ? { oneApplications: applications } : {}),
    certcentralSamlSsoOnly: samlSsoOnly ?? input.digicert.certcentralSamlSsoOnly,
  };
  return {
    target: { name, digicert, ...(roleMappingFile !== undefined ? { roleMappingFile } : {}) },
    line: e.keyLine,
    rateLimitLine: re?.keyLine ?? e.keyLine,
  };
}

/** The key from apiKey, apiKeyFile (relative to the tenants file, trimmed) or apiKeyEnv; undefined when unusable (reported). */
function readApiKey(c: Problems, input: TenantsInput, dir: string, field: string, source: (typeof API_KEY_SOURCES)[number], e: Entry): string | undefined {
  if (source === "apiKey") {
    const key = text(e.value);
    if (key === undefined) c.at(e.keyLine, field, `must be the DigiCert API key, a non-empty string (got ${kind(e.value)})`);
    return key;
  }
  if (source === "apiKeyFile") {
    const given = text(e.value);
    if (given === undefined) {
      c.at(e.keyLine, field, `must be the path of a file holding the API key (got ${kind(e.value)})`);
      return undefined;
    }
    const file = path.resolve(dir, given);
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error("not a regular file");
      if (stat.size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes`);
      const key = readFileSync(file, "utf8").trim();
      if (!key) throw new Error("the file is empty");
      return key;
    } catch (err) {
      const x = err as NodeJS.ErrnoException;
      const why = x.code === "ENOENT" ? "no such file" : x.code === "EACCES" || x.code === "EPERM" ? "permission denied" : x.message;
      c.at(e.keyLine, field, `cannot read ${file} (${why})`);
      return undefined;
    }
  }
  const name = text(e.value);
  if (name === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    c.at(e.keyLine, field, `must be the name of an environment variable holding the API key (got ${kind(e.value)})`);
    return undefined;
  }
  const key = input.env[name]?.trim();
  if (key) return key;
  if (input.storeOnly) return "";
  c.at(e.keyLine, field, `names ${name}, which is not set (or empty) in the environment`);
  return undefined;
}

// --- Across tenants ----------------------------------------------------------------------------------------------

/**
 * A credential opens exactly one tenant, and no tenant's credential opens /admin or /metrics; the tenant "default" is
 * declared once; targets that reach one DigiCert account (platform, API key, base URL) share its rate budget, so they
 * must be paced alike. Problems name tenants, credentials and lines, never a secret.
 */
function checkAcrossTenants(c: Problems, input: TenantsInput, fromFile: PlacedTenant[]): void {
  const file = input.file!;
  const env = input.envTenant;
  if (env) {
    for (const f of fromFile.filter((f) => f.tenant.id === env.id)) {
      c.at(
        f.line,
        `tenants.${f.tenant.id}`,
        `the environment defines tenant "${env.id}" already (DIGICERT_API_KEY is set; its credentials are SCIM_BEARER_TOKENS / SCIM_BASIC_USERS): ` +
          "declare it in one place: remove it here, or unset DIGICERT_API_KEY and the environment's other DigiCert settings",
      );
    }
  }

  // Bearer tokens, by digest: the first holder wins, every other tenant holding it is a problem.
  const tokenOwner = new Map<string, { tenant: string; name: string; where: string }>();
  const userOwner = new Map<string, { tenant: string; where: string }>();
  if (env) {
    for (const t of env.credentials.bearerTokens) {
      tokenOwner.set(t.sha256.toString("hex"), { tenant: env.id, name: t.name, where: "SCIM_BEARER_TOKENS" });
    }
    for (const u of env.credentials.basicUsers) userOwner.set(u.username, { tenant: env.id, where: "SCIM_BASIC_USERS" });
  }
  for (const f of fromFile) {
    const id = f.tenant.id;
    f.tenant.credentials.bearerTokens.forEach((t, i) => {
      const key = t.sha256.toString("hex");
      const owner = tokenOwner.get(key);
      const line = f.tokenLines[i];
      if (!owner) tokenOwner.set(key, { tenant: id, name: t.name, where: `line ${line}` });
      else if (owner.tenant !== id) {
        c.at(
          line,
          `tenants.${id}.bearerTokens`,
          `token "${t.name}" is also token "${owner.name}" of tenant "${owner.tenant}" (${owner.where}); a credential must open one tenant only`,
        );
      }
    });
    f.tenant.credentials.basicUsers.forEach((u, i) => {
      const owner = userOwner.get(u.username);
      const line = f.userLines[i];
      if (!owner) userOwner.set(u.username, { tenant: id, where: `line ${line}` });
      else if (owner.tenant !== id) {
        c.at(
          line,
          `tenants.${id}.basicUsers`,
          `user "${u.username}" is also a Basic user of tenant "${owner.tenant}" (${owner.where}); a username must open one tenant only`,
        );
      }
    });
  }

  // ADMIN_TOKENS, ADMIN_BASIC_USERS and METRICS_TOKEN against the file's tenants (the environment's tenant is
  // checked by loadConfig, as before).
  for (const f of fromFile) {
    const { bearerTokens, basicUsers } = f.tenant.credentials;
    const tokenAt = (i: number) => `TENANTS_FILE: ${file} line ${f.tokenLines[i]}`;
    for (const a of input.adminTokens ?? []) {
      const i = bearerTokens.findIndex((t) => t.sha256.equals(a.sha256));
      if (i >= 0) {
        c.unplaced.push(
          `ADMIN_TOKENS: token "${a.name}" is also token "${bearerTokens[i].name}" of tenant "${f.tenant.id}" (${tokenAt(i)}); give the status page a token of its own`,
        );
      }
    }
    for (const a of input.adminUsers ?? []) {
      const i = basicUsers.findIndex((u) => u.username === a.username && u.passwordSha256.equals(a.passwordSha256));
      if (i >= 0) {
        c.unplaced.push(
          `ADMIN_BASIC_USERS: user "${a.username}" has the same password as a Basic user of tenant "${f.tenant.id}" (TENANTS_FILE: ${file} line ${f.userLines[i]}); give the status page credentials of its own`,
        );
      }
    }
    for (const m of input.metricsTokens ?? []) {
      const i = bearerTokens.findIndex((t) => t.sha256.equals(m.sha256));
      if (i >= 0) {
        c.unplaced.push(
          `METRICS_TOKEN: token "${m.name}" is also token "${bearerTokens[i].name}" of tenant "${f.tenant.id}" (${tokenAt(i)}); give /metrics a token of its own`,
        );
      }
    }
  }

  // One DigiCert account, one budget: targets reaching the same account must agree on its rate limit.
  const accounts = new Map<string, { what: string; rate: string }>();
  // The windows as a set: "100/5s,1000/180s" and "1000/180s,100/5s" are one budget.
  const rateText = (w: readonly RateWindow[]) =>
    [...w].sort((a, b) => a.windowMs - b.windowMs || a.count - b.count).map((x) => `${x.count}/${x.windowMs}ms`).join(",");
  const account = (d: AppConfig["digicert"]) => (d.apiKey ? `${d.platform}\u0000${d.baseUrl.replace(/\/+$/, "")}\u0000${d.apiKey}` : undefined);
  if (env) {
    for (const t of env.targets) {
      const key = account(t.digicert);
      if (key && !accounts.has(key)) accounts.set(key, { what: `the environment's tenant "${env.id}" (DIGICERT_RATE_LIMIT)`, rate: rateText(t.digicert.rateLimit) });
    }
  }
  for (const f of fromFile) {
    for (const { target, line, rateLimitLine } of f.targets) {
      const key = account(target.digicert);
      if (!key) continue;
      const what = `tenants.${f.tenant.id}.targets.${target.name}`;
      const first = accounts.get(key);
      const rate = rateText(target.digicert.rateLimit);
      if (!first) accounts.set(key, { what: `${what} (line ${line})`, rate });
      else if (first.rate !== rate) {
        c.at(
          rateLimitLine,
          `${what}.rateLimit`,
          `differs from the rate limit of ${first.what}, which reaches the same DigiCert account (platform ${target.digicert.platform}, same API key and base URL); ` +
            "they share one rate budget, so give them the same rateLimit",
        );
      }
    }
  }
}
