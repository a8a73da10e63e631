// For CLI tests of --tenant: the configuration the CLI loads gets, besides the environment's tenant "default", the
// tenants the environment variable TEST_TENANTS lists (JSON: [{ id, platform?, baseUrl?, apiKey?, dryRun? }]), each
// with one DigiCert target named after its platform. Until TENANTS_FILE is read into AppConfig.tenants, this stands
// in for it. Use it from a test file as:
//   jest.mock("../../../src/config", () => require("../../support/cli-tenants").configWithTestTenants());
import type { AppConfig, TenantConfig } from "../../src/config";

interface TestTenant {
  id: string;
  platform?: "certcentral" | "one";
  baseUrl?: string;
  apiKey?: string;
  dryRun?: boolean;
}

export function configWithTestTenants(): typeof import("../../src/config") {
  const actual = jest.requireActual("../../src/config") as typeof import("../../src/config");
  const { tenantsOf } = jest.requireActual("../../src/config/tenant-types") as typeof import("../../src/config/tenant-types");
  return {
    ...actual,
    loadConfig(env: NodeJS.ProcessEnv = process.env, opts?: Parameters<typeof actual.loadConfig>[1]): AppConfig {
      const config = actual.loadConfig(env, opts);
      const extra: TestTenant[] = env.TEST_TENANTS ? JSON.parse(env.TEST_TENANTS) : [];
      if (!extra.length) return config;
      const tenants: TenantConfig[] = [
        ...tenantsOf(config),
        ...extra.map((t): TenantConfig => {
          const platform = t.platform ?? config.digicert.platform;
          const digicert = actual.loadConfig(
            {
              ...env,
              DIGICERT_PLATFORM: platform,
              ...(t.baseUrl ? { DIGICERT_BASE_URL: t.baseUrl } : {}),
              ...(t.apiKey ? { DIGICERT_API_KEY: t.apiKey } : {}),
              DIGICERT_ONE_ACCOUNT_ID: env.DIGICERT_ONE_ACCOUNT_ID ?? "6a1f0c2e-8d3b-4c7a-9e5f-0123456789ab",
              DIGICERT_CERTCENTRAL_CONTAINER_ID: env.DIGICERT_CERTCENTRAL_CONTAINER_ID ?? "1",
            },
            opts,
          ).digicert;
          return { id: t.id, credentials: { bearerTokens: [], basicUsers: [] }, dryRun: t.dryRun ?? false, targets: [{ name: platform, digicert }] };
        }),
      ];
      return Object.assign(config, { tenants });
    },
  };
}
