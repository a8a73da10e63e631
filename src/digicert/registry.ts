// The DigiCert platforms the bridge can provision to, by DIGICERT_PLATFORM name. Each target says how its client
// is built and what code outside src/digicert needs to know before a client exists (defaults, required settings,
// capabilities); the rest of the bridge asks these instead of comparing platform names. A new target is a folder
// src/digicert/<target>/ and one line below.
import type { Logger } from "../log/logger";
import { CERTCENTRAL_TARGET } from "./certcentral/platform";
import type { DigiCertHttp, ErrorClassifier } from "./http";
import type { DigiCertClientConfig } from "./index";
import { ONE_TARGET } from "./one/platform";
import type { DigiCertClient, PlatformCapabilities, PlatformName } from "./types";

export interface PlatformTarget {
  readonly name: PlatformName;
  /** How messages name the platform ("DigiCert CertCentral is unreachable"). */
  readonly displayName: string;
  readonly capabilities: PlatformCapabilities;
  /** DIGICERT_BASE_URL when unset. */
  readonly defaultBaseUrl: string;
  /** DIGICERT_DEFAULT_ROLE when unset: the basic role, under any of the names DigiCert has used for it. */
  readonly defaultRole: string | readonly string[];
  /** Settings the platform cannot run without: the environment variable, and what it is for (config reports it). */
  readonly requiredSettings?: readonly { readonly env: string; readonly why: string }[];
  /** How the platform's API takes the key, and what its error answers mean, for the shared HTTP caller. */
  readonly transport: { readonly authHeader: string; readonly classify: ErrorClassifier };
  /** The client, calling DigiCert through `http` (paced, retried, behind the circuit breaker). */
  createClient(http: DigiCertHttp, cfg: DigiCertClientConfig, logger: Logger): DigiCertClient;
}

const targets = new Map<PlatformName, PlatformTarget>();

/** Makes a target available by its name; replacing a name is refused (two targets must not share one). */
export function registerPlatform(target: PlatformTarget): void {
  if (targets.has(target.name)) throw new Error(`DigiCert platform ${JSON.stringify(target.name)} is registered already`);
  targets.set(target.name, target);
}

/** The target of a platform name; throws for a name nothing registered (config refuses those first). */
export function platformTarget(name: PlatformName): PlatformTarget {
  const t = targets.get(name);
  if (!t) throw new Error(`unknown DigiCert platform ${JSON.stringify(name)}; known: ${platformNames().join(", ")}`);
  return t;
}

/** The target of a name, or undefined (a stored report may name a platform this build does not have). */
export function findPlatform(name: string): PlatformTarget | undefined {
  return targets.get(name);
}

/** Registered names, built-in ones first. */
export function platformNames(): PlatformName[] {
  return [...targets.keys()];
}

/** How messages name a platform: its display name, or the name itself when nothing registered it. */
export function displayNameOf(name: PlatformName): string {
  return targets.get(name)?.displayName ?? name;
}

/** The capabilities of a platform by name, for code that runs before (or without) a client. */
export function capabilitiesOf(name: PlatformName): PlatformCapabilities {
  return platformTarget(name).capabilities;
}

registerPlatform(CERTCENTRAL_TARGET);
registerPlatform(ONE_TARGET);
