// The tenants a config serves. A config from loadConfig always lists them (src/config/tenants.ts); one built by hand
// in a test may not, and then is today's single tenant, "default", from its own SCIM and DigiCert settings.
import type { AppConfig, TenantConfig } from "./index";
import { envDefaultTenant } from "./tenants";

export type { TenantConfig, TenantTarget } from "./tenants";

export function tenantsOf(config: Omit<AppConfig, "tenants"> & { tenants?: TenantConfig[] }): TenantConfig[] {
  return config.tenants?.length ? config.tenants : [envDefaultTenant(config)];
}
