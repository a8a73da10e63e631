// DigiCert CertCentral as a registry target (src/digicert/registry.ts).
import type { PlatformTarget } from "../registry";
import { CERTCENTRAL_AUTH_HEADER, CERTCENTRAL_CAPABILITIES, CertCentralClient, classifyCertCentral } from "./client";

export const CERTCENTRAL_TARGET: PlatformTarget = {
  name: "certcentral",
  displayName: "CertCentral",
  capabilities: CERTCENTRAL_CAPABILITIES,
  defaultBaseUrl: "https://www.digicert.com/services/v2",
  defaultRole: "Standard User",
  transport: { authHeader: CERTCENTRAL_AUTH_HEADER, classify: classifyCertCentral },
  createClient: (http, cfg) => new CertCentralClient(http, { containerId: cfg.certcentralContainerId, samlSsoOnly: cfg.certcentralSamlSsoOnly }),
};
