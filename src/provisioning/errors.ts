// Failures of the provisioning core, independent of SCIM and HTTP. src/scim/errors.ts maps these (and
// DigiCertError) to SCIM Error responses in one place.

/** The family of provisioning failures: what the bridge's own rules refuse, independent of any transport. */
export abstract class ProvisioningError extends Error {}

export class NotFoundError extends ProvisioningError {
  constructor(message = "resource not found") {
    super(message);
    this.name = "NotFoundError";
  }
}

/** The change clashes with existing state: a taken userName, a user owned elsewhere in DigiCert. */
export class ConflictError extends ProvisioningError {
  constructor(
    message: string,
    readonly existingId?: string,
  ) {
    super(message);
    this.name = "ConflictError";
  }
}

/**
 * The resource changed between the read a change was computed from and its write (another request, maybe on
 * another replica, got there first). Worth recomputing the change on a fresh read and trying again.
 */
export class ConcurrentChangeError extends ConflictError {
  constructor(message: string) {
    super(message);
    this.name = "ConcurrentChangeError";
  }
}

/** The client made its change conditional on a version (If-Match) the resource no longer has. */
export class PreconditionFailedError extends ProvisioningError {
  constructor(readonly currentVersion: number) {
    super(`The resource changed since it was read: its version is now W/"${currentVersion}"`);
    this.name = "PreconditionFailedError";
  }
}

/** Throws PreconditionFailedError unless `expected` is absent or the row's version. */
export function assertVersion(row: { version: number }, expected: number | undefined): void {
  if (expected !== undefined && row.version !== expected) throw new PreconditionFailedError(row.version);
}

/** Input the bridge or DigiCert cannot accept. `field` is a neutral field name (see provisioning/model.ts). */
export class InvalidInputError extends ProvisioningError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "InvalidInputError";
  }
}

/** The deployment is wrong (a role that does not exist, a key without permission): the admin must act. */
export class MisconfiguredError extends ProvisioningError {
  constructor(message: string) {
    super(message);
    this.name = "MisconfiguredError";
  }
}

/**
 * ROLE_MAPPING_FILE's role names are not resolved yet (the bridge started while DigiCert was unreachable and no
 * stored role list resolves them). A job that needs the mapping waits: retried without using up its attempts, never
 * run with roles guessed.
 */
export class MappingPendingError extends ProvisioningError {
  constructor(reason: string) {
    super(`the role mapping is not resolved yet (${reason}); the job waits for it`);
    this.name = "MappingPendingError";
  }
}

/**
 * Removing a user's DigiCert access failed. Never a reason to give up: the job is retried (with backoff, past the
 * attempt limit) and the user shows syncState "pending" with the error, because a departed employee who keeps
 * access is the one failure a provisioning bridge must not settle for. `failure` is what DigiCert said.
 */
export class AccessRemovalError extends ProvisioningError {
  constructor(readonly failure: unknown) {
    super(`removing DigiCert access is not done yet: ${failure instanceof Error ? failure.message : String(failure)}`);
    this.name = "AccessRemovalError";
  }
}
