import type { StoredEmail } from "./records";

/**
 * A user as the IdP declared it, already lifted out of the SCIM wire shape by src/scim. `resource` is the SCIM
 * representation kept verbatim for reads; the other fields are what provisioning acts on.
 */
export interface UserDraft {
  userName: string;
  externalId: string | null;
  /** undefined on a PUT that left it out: keep the stored state. */
  active: boolean | undefined;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  emails: StoredEmail[];
  jobTitle: string | null;
  phone: string | null;
  /** DigiCert role ids the IdP assigned directly (SCIM `roles`, Okta entitlements). */
  assignedRoleIds: string[];
  resource: Record<string, unknown>;
}

/** The fields a draft feeds into DigiCert; InvalidInputError.field uses these names. */
export type ProfileField = "userName" | "givenName" | "familyName" | "email" | "jobTitle" | "phone";
