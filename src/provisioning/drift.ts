// Drift between the store and DigiCert, as src/provisioning/reconcile.ts finds and reports it (stored as it is).

/** The kinds of drift, in report order. */
export const DRIFT_KINDS = [
  "missing",
  "deactivated_by_hand",
  "reactivated_by_hand",
  "roles_changed",
  "profile_changed",
  "not_provisioned",
  "unmanaged",
] as const;

/**
 * - `missing`: the bridge links the user to a DigiCert id DigiCert does not know (deleted by hand), or that now lies
 *   outside the managed container/account.
 * - `deactivated_by_hand`: disabled (or listed as deleted) in DigiCert while the IdP says the user has access.
 * - `reactivated_by_hand`: has access in DigiCert (enabled, or a role other than the demotion role) while the
 *   bridge had disabled or demoted it.
 * - `roles_changed`: DigiCert's roles differ from those the bridge gave (reported only when the bridge manages roles).
 * - `profile_changed`: username, name, email, job title or phone differ from what the IdP declared.
 * - `not_provisioned`: the IdP says the user should have access, the bridge has no DigiCert user for it.
 * - `unmanaged`: a DigiCert user in scope that no stored user is linked to. Reported, never touched.
 */
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface ProfileDifference {
  field: "username" | "firstName" | "lastName" | "email" | "jobTitle" | "phone";
  /** What the IdP declared (what the bridge would send). */
  expected: string | null;
  /** What DigiCert holds. */
  actual: string | null;
}

export interface DriftEntry {
  kind: DriftKind;
  /** The SCIM user; null for `unmanaged`. */
  userId: string | null;
  userName: string | null;
  /** DigiCert's id: the linked one, or the one found (unmanaged, or a same-username user a fix will adopt). */
  digicertId: string | null;
  /** DigiCert's username when DigiCert has the user. */
  digicertUsername: string | null;
  /** One line for people. */
  detail: string;
  /** Status or role ids the bridge expected / DigiCert has (deactivated/reactivated_by_hand, roles_changed). */
  expected?: string | string[] | null;
  actual?: string | string[] | null;
  /** profile_changed: each field that differs. */
  fields?: ProfileDifference[];
  /**
   * queued: `--fix` recorded the truth in the link and queued an outbox job (`jobId`); fixed: `--fix` only had to
   * correct the link (DigiCert already matches the IdP); reported: found, not fixed (no `--fix`, or not fixable:
   * unmanaged users, a user outside the container/account); skipped: `--fix` left it because the user changed
   * while reconcile ran (its own job will converge it).
   */
  action: "queued" | "fixed" | "reported" | "skipped";
  jobId?: number;
}

export interface ReconcileStats {
  /** DigiCert users listed (in scope); those outside the container/account are only counted in outOfScope. */
  digicertUsers: number;
  outOfScope: number;
  /** List-users calls made (pages), and single-user look-ups confirming users the list did not show. */
  listCalls: number;
  lookups: number;
  storeUsers: number;
  /** Stored users compared; the others were skipped because a job for them was pending or finished mid-run. */
  checked: number;
  skipped: number;
  /** Stored users with at least one kind of drift. */
  driftedUsers: number;
  /** Outbox jobs queued by --fix, and drifted users --fix left alone because they changed meanwhile. */
  queued: number;
  fixSkipped: number;
}

export interface ReconcileReport {
  /** Set once stored. */
  id?: number;
  trigger: "cli" | "schedule";
  fix: boolean;
  platform: string;
  /** ISO-8601. */
  startedAt: string;
  finishedAt: string;
  /** Users per kind of drift (every kind present, 0 when none). */
  counts: Record<DriftKind, number>;
  stats: ReconcileStats;
  entries: DriftEntry[];
}

/** A stored report without its entries: cheap to read on every metrics scrape or status page view. */
export type ReconcileReportSummary = Omit<ReconcileReport, "entries"> & { id: number };
