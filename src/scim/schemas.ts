import { SCIMMY } from "scimmy-routers";
import { platformNames } from "../digicert/registry";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
// SCIMMY 1.3.5 accepts only urn:ietf:params:scim:schemas:* ids for extensions (scimmy#91, fixed upstream, unreleased).
export const DIGICERT_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:digicert:2.0:User";

/**
 * A multi-valued complex attribute only the bridge writes. SCIMMY cannot carry a read-only one in an extension: its
 * extension setter assigns every value twice, and the second assignment of a list (a copy, never the same object)
 * is refused as a change to a read-only value. So it is declared writable for SCIMMY's sake but outbound only (a
 * value an IdP sends is dropped on the way in, and user-mapping.ts ignores it too), and described to clients as
 * the read-only attribute it is.
 */
class ServerOwnedList extends SCIMMY.Types.Attribute {
  constructor(name: string, description: string, subAttributes: InstanceType<typeof SCIMMY.Types.Attribute>[]) {
    super("complex", name, { mutable: true, direction: "out", multiValued: true, description }, subAttributes);
  }

  override toJSON() {
    return { ...super.toJSON(), mutability: "readOnly" as const };
  }
}

/** DigiCert fields that core SCIM has no place for, and the bridge's link to the DigiCert user. */
export const DigiCertUserExtension = new SCIMMY.Types.SchemaDefinition(
  "DigiCertUser",
  DIGICERT_USER_SCHEMA,
  "DigiCert attributes of a user provisioned by DigiCert SCIM Bridge",
  [
    new SCIMMY.Types.Attribute("string", "digicertUserId", {
      mutable: false,
      description: "Id of the linked DigiCert user; absent while no DigiCert user exists (e.g. deactivated on CertCentral)",
    }),
    new SCIMMY.Types.Attribute("string", "platform", {
      mutable: false,
      // The registry's targets when this module loads (every target registers in src/digicert/registry.ts).
      canonicalValues: platformNames(),
      description: "DigiCert platform the user is provisioned to",
    }),
    new SCIMMY.Types.Attribute("boolean", "adopted", {
      mutable: false,
      description: "True when the bridge linked a DigiCert user that existed before (made by hand) instead of creating one",
    }),
    new SCIMMY.Types.Attribute("string", "syncState", {
      mutable: false,
      canonicalValues: ["synced", "pending", "failed"],
      description:
        "Whether DigiCert holds this user's last change: synced, pending (queued or being retried) or failed (see lastError)",
    }),
    new SCIMMY.Types.Attribute("string", "lastError", {
      mutable: false,
      description: "Why the last DigiCert job for this user failed or is being retried; absent once one succeeds",
    }),
    new SCIMMY.Types.Attribute("dateTime", "lastSyncedAt", {
      mutable: false,
      description: "When a DigiCert job for this user last completed",
    }),
    new ServerOwnedList(
      "targets",
      "A tenant that provisions to several DigiCert targets: the user on each (the first is the primary); syncState above is the worst of them. Absent for a tenant with one target",
      [
        new SCIMMY.Types.Attribute("string", "target", { mutable: false, description: "The target's name in TENANTS_FILE" }),
        new SCIMMY.Types.Attribute("string", "platform", { mutable: false, canonicalValues: platformNames(), description: "DigiCert platform of the target" }),
        new SCIMMY.Types.Attribute("string", "syncState", {
          mutable: false,
          canonicalValues: ["synced", "pending", "failed"],
          description: "Whether this target holds the user's last change",
        }),
        new SCIMMY.Types.Attribute("string", "digicertUserId", { mutable: false, description: "Id of the linked user on this target" }),
        new SCIMMY.Types.Attribute("string", "lastError", { mutable: false, description: "Why this target's last job failed or is being retried" }),
        new SCIMMY.Types.Attribute("dateTime", "lastSyncedAt", { mutable: false, description: "When a job for this user last completed on this target" }),
      ],
    ),
    new SCIMMY.Types.Attribute("string", "jobTitle", {
      description: "DigiCert job title (CertCentral job_title, max 64); overrides core 'title' when set",
    }),
    new SCIMMY.Types.Attribute("string", "telephone", {
      description: "DigiCert telephone (CertCentral telephone / ONE phone_number); overrides phoneNumbers when set",
    }),
  ],
);
