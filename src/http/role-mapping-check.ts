// The `rolemapping` readiness component: where ROLE_MAPPING_FILE's role names stand after a start while DigiCert was
// unreachable. Never failed: writes are stored and queued either way; jobs that need the mapping wait for it.
import type { MappingStatus } from "../provisioning/access-policy";
import type { ReadinessCheck } from "./health";
import { componentName, type CheckScope } from "./readiness-checks";

/** `scope`: any target but the default tenant's primary (named rolemapping:<tenant>/<target>). */
export function roleMappingCheck(status: () => MappingStatus, scope?: CheckScope): ReadinessCheck {
  return {
    name: componentName("rolemapping", scope),
    cacheMs: 0,
    check: async () => {
      const s = status();
      if (s.state === "stored") {
        return { degraded: `resolved from DigiCert's role list stored at ${s.fetchedAt}; resolved again as soon as DigiCert answers` };
      }
      if (s.state === "waiting") {
        // Unauthenticated callers see this: the reason (role names, DigiCert's answer) is in the log only.
        return {
          degraded: s.invalid
            ? "the role mapping file does not resolve against DigiCert's roles (see the log); changes are queued until it is fixed and reloaded"
            : "waiting for DigiCert to resolve the role mapping; changes are stored and queued",
        };
      }
    },
    describe: () => "the role mapping state is unknown",
  };
}
