// DigiCert ONE as a registry target (src/digicert/registry.ts).
import type { PlatformTarget } from "../registry";
import { classifyOne, ONE_AUTH_HEADER, ONE_CAPABILITIES, OneClient } from "./client";

export const ONE_TARGET: PlatformTarget = {
  name: "one",
  displayName: "ONE",
  capabilities: ONE_CAPABILITIES,
  defaultBaseUrl: "https://one.digicert.com/account/api/v1",
  // ONE's basic Account Manager role is "Account user" on current pages and "Default User" on older ones (§D.4):
  // unset, the first of them DigiCert offers is used.
  defaultRole: ["Account user", "Default User"],
  requiredSettings: [{ env: "DIGICERT_ONE_ACCOUNT_ID", why: "the account new users join" }],
  transport: { authHeader: ONE_AUTH_HEADER, classify: classifyOne },
  createClient: (http, cfg, logger) =>
    new OneClient(http, { accountId: cfg.oneAccountId || undefined, deactivation: cfg.oneDeactivation, applications: cfg.oneApplications, logger }),
};
