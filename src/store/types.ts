// The store implements the persistence ports the domain declares (src/provisioning/ports.ts) for the records and
// queries it defines; re-exported here for the store's own modules.
export * from "../provisioning/records";
export * from "../provisioning/queries";
export * from "../provisioning/ports";
export * from "../provisioning/drift";
