// The store's public shapes. Callers see rows and a neutral query; only src/store knows SQL.

export interface StoredEmail {
  value: string;
  type?: string | null;
  primary?: boolean;
}

export interface UserRow {
  /** The bridge's own SCIM id (UUID). */
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  /** The SCIM resource as last accepted, without id and meta. Opaque to the store. */
  resource: Record<string, unknown>;
  /** Emails indexed for filtering (value compared case-insensitively, type case-insensitively). */
  emails: StoredEmail[];
  /** DigiCert's id of the linked user; null while no DigiCert user exists (e.g. deactivated on CertCentral). */
  digicertId: string | null;
  /** True when the link was made to a DigiCert user that existed before the bridge created one. */
  adopted: boolean;
  /** ISO-8601 timestamps with milliseconds. */
  created: string;
  lastModified: string;
  /** Starts at 1, +1 on every update. */
  version: number;
}

export type NewUserRow = Omit<UserRow, "created" | "lastModified" | "version">;

export type UserChanges = Partial<Omit<UserRow, "id" | "created" | "lastModified" | "version">>;

export type UserCondition =
  | { attr: "id"; value: string }
  | { attr: "userName"; value: string } // case-insensitive
  | { attr: "externalId"; value: string } // case-exact
  | { attr: "email"; value: string; type?: string } // value and type case-insensitive
  | { attr: "active"; value: boolean };

/** OR of AND-groups: `anyOf: [[a, b], [c]]` means (a AND b) OR c. */
export interface UserQuery {
  anyOf: UserCondition[][];
}

export interface Page {
  /** 0-based. */
  offset: number;
  /** 0 is allowed: only the total is wanted. */
  limit: number;
}

export interface UserRepository {
  /** Throws StoreConflictError when the userName (any case) is taken. */
  insert(row: NewUserRow): Promise<UserRow>;
  getById(id: string): Promise<UserRow | null>;
  getByUserName(userName: string): Promise<UserRow | null>;
  /** Rows ordered by creation then id; total counts every match. `query` undefined = all users. */
  list(query: UserQuery | undefined, page: Page): Promise<{ total: number; rows: UserRow[] }>;
  /**
   * Applies the changes, bumps version and lastModified. With expectedVersion, throws StoreVersionConflictError
   * when the stored version differs. Throws StoreConflictError on a userName clash. Returns null if the id is gone.
   */
  update(id: string, changes: UserChanges, expectedVersion?: number): Promise<UserRow | null>;
  /** Returns false when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface Store {
  readonly dialect: "sqlite" | "postgres";
  readonly users: UserRepository;
  /** Cheap round trip for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreConflictError extends Error {
  constructor(readonly attribute: "userName", message = "userName is already taken") {
    super(message);
    this.name = "StoreConflictError";
  }
}

export class StoreVersionConflictError extends Error {
  constructor(message = "the stored row changed since it was read") {
    super(message);
    this.name = "StoreVersionConflictError";
  }
}
