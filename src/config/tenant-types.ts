// The tenants a config serves. A config from loadConfig always lists them (src/config/tenants.ts); one built by hand
// in a test may not, and then is today's single tenant, "default", from its own SCIM and DigiCert settings.
import type { AppConfig, TenantConfig } from "./index";

export type { TenantConfig, TenantTarget } from "./tenants";

export function tenantsOf(config: Omit<AppConfig, "tenants"> & { tenants?: TenantConfig[] }): TenantConfig[] {
  if (config.tenants?.length) return config.tenants;
  return [
    {
      id: "default",
      credentials: { bearerTokens: config.scim.bearerTokens, basicUsers: config.scim.basicUsers },
      dryRun: config.dryRun,
      targets: [{ name: config.digicert.platform, digicert: config.digicert, roleMappingFile: config.roleMappingFile }],
    },
  ];
}
