import { AsyncLocalStorage } from "node:async_hooks";

/**
 * How long the writes of the current unit of work wait for DigiCert, when the caller knows better than the
 * configured SYNC_WAIT_MS: a SCIM Bulk request queues its operations instead of holding the connection for each
 * one's DigiCert answer. Carried in async context so the services keep one signature for every caller.
 */
const scope = new AsyncLocalStorage<{ waitMs: number }>();

export function withSyncWait<T>(waitMs: number, fn: () => Promise<T>): Promise<T> {
  return scope.run({ waitMs }, fn);
}

/** The wait in force: the innermost withSyncWait, else the configured default. */
export function syncWaitMs(configured: number): number {
  return scope.getStore()?.waitMs ?? configured;
}
