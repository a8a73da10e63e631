import { AsyncLocalStorage } from "node:async_hooks";

/**
 * A caller that holds a turn on a resource (say, the SCIM router serialising one user's PATCHes) learns through
 * this when the write it waited for is committed, so the next one may start while this one still waits for
 * DigiCert. Carried in async context, like sync-wait.ts, so the services keep one signature for every caller.
 */
const scope = new AsyncLocalStorage<{ committed: () => void }>();

export function withCommitNotice<T>(committed: () => void, fn: () => Promise<T>): Promise<T> {
  return scope.run({ committed }, fn);
}

/** Called by a service once its write is committed (before it waits for DigiCert). */
export function noticeCommitted(): void {
  scope.getStore()?.committed();
}
