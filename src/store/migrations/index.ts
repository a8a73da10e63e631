// The in-code migration list. Names sort in run order; never rename or remove one that has shipped.
// Built in code (not scanned from disk) so it works the same from ts-node and from compiled dist.
import type { Migration, MigrationProvider } from "kysely";
import type { Dialect } from "../db";
import { initialMigration } from "./0001-initial";
import { groupsMigration } from "./0002-groups";
import { idempotencyMigration } from "./0003-idempotency";
import { outboxMigration } from "./0004-outbox";
import { auditMigration } from "./0005-audit";
import { reconcileMigration } from "./0006-reconcile";
import { tokensMigration } from "./0007-tokens";
import { divisionsMigration } from "./0008-divisions";
import { lastModifiedIndexMigration } from "./0009-last-modified-index";
import { roleListsMigration } from "./0010-role-lists";
import { userNameKeyMigration } from "./0011-user-name-key";
import { tenantsMigration } from "./0012-tenants";
import type { Logger } from "../../log/logger";

/** `logger`: where a migration reports what it found in the data (0010: userNames that collide under the new key). */
export function buildMigrations(dialect: Dialect, logger?: Logger): Record<string, Migration> {
  return {
    "0001-initial": initialMigration(dialect),
    "0002-groups": groupsMigration(dialect),
    "0003-idempotency": idempotencyMigration(dialect),
    "0004-outbox": outboxMigration(dialect),
    "0005-audit": auditMigration(dialect),
    "0006-reconcile": reconcileMigration(dialect),
    "0007-tokens": tokensMigration(dialect),
    "0008-divisions": divisionsMigration(dialect),
    "0009-last-modified-index": lastModifiedIndexMigration(),
    "0010-role-lists": roleListsMigration(dialect),
    "0011-user-name-key": userNameKeyMigration(logger),
    "0012-tenants": tenantsMigration(dialect),
  };
}

export function migrationProvider(dialect: Dialect, logger?: Logger): MigrationProvider {
  return { getMigrations: async () => buildMigrations(dialect, logger) };
}
