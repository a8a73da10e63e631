// TEMPORARY until TENANTS_FILE lands (src/config/tenants.ts): the tenant types, and today's single tenant.
import type { AppConfig, BasicCredential, BearerCredential } from "./index";
import type { IdentityProvider } from "../scim/idp";

export interface TenantTarget {
  name: string;
  digicert: AppConfig["digicert"];
  roleMappingFile?: string;
}
export interface TenantConfig {
  id: string;
  credentials: { bearerTokens: BearerCredential[]; basicUsers: BasicCredential[] };
  idp?: IdentityProvider;
  dryRun: boolean;
  targets: TenantTarget[];
}

export function tenantsOf(config: AppConfig & { tenants?: TenantConfig[] }): TenantConfig[] {
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
