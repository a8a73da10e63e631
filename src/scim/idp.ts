import type { Request } from "express";

export type IdentityProvider = "okta" | "entra" | "onelogin" | "jumpcloud" | "other";

/**
 * Which IdP sent a request, for logs and dialect decisions: Okta's User-Agent starts with "Okta", Entra's
 * provisioning service sends an `Adscimversion` header (and a Microsoft/Azure User-Agent).
 */
export function detectIdp(req: Pick<Request, "get">): IdentityProvider {
  const ua = req.get("user-agent") ?? "";
  if (req.get("adscimversion") !== undefined || /azure|microsoft|aad/i.test(ua)) return "entra";
  if (/okta/i.test(ua)) return "okta";
  if (/onelogin/i.test(ua)) return "onelogin";
  if (/jumpcloud/i.test(ua)) return "jumpcloud";
  return "other";
}
