// A fan-out tenant's user has a sync state on each of its DigiCert targets; the user as a whole is as far behind as
// its worst target: failed before pending before synced.
import type { SyncState, UserRow } from "./records";

const RANK: Record<SyncState, number> = { synced: 0, pending: 1, failed: 2 };

export function worstSyncState(states: Iterable<SyncState>): SyncState {
  let worst: SyncState = "synced";
  for (const s of states) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** The user's state over all its targets (its own fields are the primary target's). */
export function overallSyncState(row: Pick<UserRow, "syncState" | "targets">): SyncState {
  return row.targets?.length ? worstSyncState([row.syncState, ...row.targets.map((t) => t.syncState)]) : row.syncState;
}

/** Whether any target holds a DigiCert user for it. */
export function linkedAnywhere(row: Pick<UserRow, "digicertId" | "targets">): boolean {
  return !!row.digicertId || !!row.targets?.some((t) => t.digicertId);
}
