// Confines every query a store makes to one tenant (and, for the DigiCert-side tables, one of its targets). It is a
// Kysely plugin rather than a `where tenant = ?` in each repository method so that isolation is the default: a query
// written tomorrow is scoped without anyone remembering to, and a test can hold the one place to account
// (test/unit/store/tenant-scope.test.ts). Reads, updates and deletes get the condition, on every scoped table they
// name (joined tables in their ON, so a left join stays a left join); inserts get the columns; an upsert's conflict
// target gets them too, matching the unique keys migration 0012 made per tenant.
//
// Raw SQL fragments are not rewritten. The store's fragments only reach child rows (emails, memberships) through a
// parent the query already scoped, by a UUID no other tenant holds; a whole query in raw SQL on a scoped table would
// escape, so there is none (the plugin refuses to run one: see transformQuery).
import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  OnNode,
  OperationNodeTransformer,
  OperatorNode,
  ParensNode,
  PrimitiveValueListNode,
  ReferenceNode,
  TableNode,
  UsingNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
  WhereNode,
  type ColumnUpdateNode,
  type DeleteQueryNode,
  type InsertQueryNode,
  type JoinNode,
  type KyselyPlugin,
  type MergeQueryNode,
  type OperationNode,
  type RawNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SelectQueryNode,
  type UnknownRow,
  type UpdateQueryNode,
} from "kysely";

/** Where a store's queries may reach: one tenant and, for the DigiCert-side tables, one of its targets. */
export interface TenantScope {
  tenant: string;
  /** The tenant's target whose outbox and role lists this store sees; "" is the primary target. */
  target: string;
}

/** The tenant today's single-tenant set-ups are, and every row written before tenants existed belongs to. */
export const DEFAULT_TENANT = "default";
/** The store's name of a tenant's first target (its link lives on scim_users). */
export const PRIMARY_TARGET = "";

/** Tables with a `tenant` column: every table the bridge keeps (migration 0012). */
export const TENANT_TABLES: ReadonlySet<string> = new Set([
  "scim_users",
  "scim_user_emails",
  "scim_groups",
  "scim_group_members",
  "scim_idempotency_keys",
  "scim_outbox",
  "scim_audit",
  "scim_reconcile_runs",
  "scim_reconcile_lease",
  "scim_tokens",
  "digicert_role_lists",
  "scim_user_targets",
]);

/** Tables whose unique keys begin with `tenant` (and `target`, for target tables): an upsert names them too. */
const TENANT_KEYED: ReadonlySet<string> = new Set([
  "scim_users",
  "scim_groups",
  "scim_idempotency_keys",
  "scim_reconcile_lease",
  "scim_tokens",
  "digicert_role_lists",
  "scim_user_targets",
]);

/** Tables that also have a `target` column: what one DigiCert target of a tenant owns. */
export const TARGET_TABLES: ReadonlySet<string> = new Set(["scim_outbox", "digicert_role_lists", "scim_reconcile_runs", "scim_reconcile_lease", "scim_user_targets"]);

export class TenantScopePlugin implements KyselyPlugin {
  private readonly transformer: ScopeTransformer;

  constructor(readonly scope: TenantScope) {
    this.transformer = new ScopeTransformer(scope);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (node.kind === "RawNode") {
      // A raw statement cannot be scoped; only ones that touch no table of the bridge's may run through a store.
      refuseRaw(node as RawNode);
      return node;
    }
    return this.transformer.transformNode(node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** Throws when raw SQL names a table of the bridge's: there is no knowing where in it a condition would go. */
function refuseRaw(node: RawNode): void {
  const text = node.sqlFragments.join(" ");
  for (const table of TENANT_TABLES) {
    if (new RegExp(`\\b${table}\\b`).test(text)) throw new Error(`raw SQL on ${table} cannot be confined to a tenant; build it with Kysely`);
  }
}

/** The name a query refers to a table by (its alias, else its name), when the item is a scoped table. */
function scopedName(item: OperationNode): { table: string; ref: string } | null {
  // A table written as raw SQL (`selectFrom(sql`…`.as("x"))`) would escape the scope unseen.
  if (item.kind === "RawNode") refuseRaw(item as RawNode);
  if (item.kind === "AliasNode" && (item as AliasNode).node.kind === "RawNode") refuseRaw((item as AliasNode).node as RawNode);
  if (item.kind === "TableNode") {
    const name = (item as TableNode).table.identifier.name;
    return TENANT_TABLES.has(name) ? { table: name, ref: name } : null;
  }
  if (item.kind === "AliasNode") {
    const alias = item as AliasNode;
    if (alias.node.kind !== "TableNode") return null;
    const name = (alias.node as TableNode).table.identifier.name;
    const ref = (alias.alias as IdentifierNode).name;
    return TENANT_TABLES.has(name) ? { table: name, ref } : null;
  }
  return null;
}

/** The column an update sets, however the caller named it (`tenant`, `t.tenant`, a dynamic or raw reference). */
function updatedColumn(u: ColumnUpdateNode): string | null {
  const column = u.column;
  if (column.kind === "ColumnNode") return (column as ColumnNode).column.name;
  if (column.kind === "ReferenceNode") {
    const ref = (column as ReferenceNode).column;
    return ref.kind === "ColumnNode" ? ref.column.name : null;
  }
  if (column.kind === "RawNode") {
    const raw = column as RawNode;
    const inner = raw.parameters.length === 1 && raw.sqlFragments.every((f) => !f.trim()) ? raw.parameters[0] : null;
    if (inner) return updatedColumn({ ...u, column: inner });
    return raw.sqlFragments.join("").trim().replace(/^"|"$/g, "");
  }
  return null;
}

/** A row never moves between tenants or targets: updates of those columns are dropped. */
function withoutScopeColumns(updates: readonly ColumnUpdateNode[] | undefined): readonly ColumnUpdateNode[] | undefined {
  if (!updates) return updates;
  const kept = updates.filter((u) => {
    const name = updatedColumn(u);
    return name !== "tenant" && name !== "target";
  });
  if (updates.length && !kept.length) throw new Error("an update cannot move a row to another tenant or target");
  return kept;
}

class ScopeTransformer extends OperationNodeTransformer {
  constructor(private readonly scope: TenantScope) {
    super();
  }

  /** `ref.tenant = ? [and ref.target = ?]` for one scoped table. */
  private condition(t: { table: string; ref: string }): OperationNode {
    const eq = (column: string, value: string) =>
      BinaryOperationNode.create(ReferenceNode.create(ColumnNode.create(column), TableNode.create(t.ref)), OperatorNode.create("="), ValueNode.create(value));
    const tenant = eq("tenant", this.scope.tenant);
    return TARGET_TABLES.has(t.table) ? AndNode.create(tenant, eq("target", this.scope.target)) : tenant;
  }

  /** The caller's condition (in parentheses: it may be an OR) and the scope's. */
  private and(where: WhereNode | undefined, conditions: OperationNode[]): WhereNode | undefined {
    let result = where ? WhereNode.create(ParensNode.create(where.where)) : undefined;
    for (const c of conditions) result = result ? WhereNode.cloneWithOperation(result, "And", c) : WhereNode.create(c);
    return result;
  }

  private scopedJoins(joins: readonly JoinNode[] | undefined): readonly JoinNode[] | undefined {
    return joins?.map((join) => {
      const t = scopedName(join.table);
      if (!t) return join;
      const on = join.on ? OnNode.cloneWithOperation(OnNode.create(ParensNode.create(join.on.on)), "And", this.condition(t)) : OnNode.create(this.condition(t));
      return { ...join, on };
    });
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    const inner = super.transformSelectQuery(node);
    const tables = (inner.from?.froms ?? []).map(scopedName).filter((t) => t !== null);
    return { ...inner, joins: this.scopedJoins(inner.joins), where: this.and(inner.where, tables.map((t) => this.condition(t))) };
  }

  protected override transformUpdateQuery(node: UpdateQueryNode): UpdateQueryNode {
    const inner = super.transformUpdateQuery(node);
    const items = [...(inner.table ? [inner.table] : []), ...(inner.from?.froms ?? [])];
    const tables = items.map(scopedName).filter((t) => t !== null);
    const updates = withoutScopeColumns(inner.updates);
    return { ...inner, updates, joins: this.scopedJoins(inner.joins), where: this.and(inner.where, tables.map((t) => this.condition(t))) };
  }

  protected override transformDeleteQuery(node: DeleteQueryNode): DeleteQueryNode {
    const inner = super.transformDeleteQuery(node);
    // PostgreSQL's DELETE … USING reads other tables as UPDATE … FROM does: they are confined too.
    const items = [...inner.from.froms, ...(inner.using ? (inner.using as UsingNode).tables : [])];
    const tables = items.map(scopedName).filter((t) => t !== null);
    return { ...inner, joins: this.scopedJoins(inner.joins), where: this.and(inner.where, tables.map((t) => this.condition(t))) };
  }

  protected override transformMergeQuery(node: MergeQueryNode): MergeQueryNode {
    // MERGE has no WHERE of its own to confine it by (its conditions sit in each WHEN); none of the store's needs one.
    const using = node.using?.table;
    for (const item of [node.into, ...(using ? [using] : [])]) {
      const t = scopedName(item);
      if (t) throw new Error(`MERGE on ${t.table} cannot be confined to a tenant; use INSERT … ON CONFLICT or UPDATE`);
    }
    return super.transformMergeQuery(node);
  }

  protected override transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    const inner = super.transformInsertQuery(node);
    const t = inner.into ? scopedName(inner.into) : null;
    if (!t) return inner;
    const added: [string, string][] = [["tenant", this.scope.tenant]];
    if (TARGET_TABLES.has(t.table)) added.push(["target", this.scope.target]);
    const given = new Set((inner.columns ?? []).map((c) => c.column.name));
    const missing = added.filter(([column]) => !given.has(column));
    // Columns given by the caller are overwritten below too: a store writes only its own scope.
    const columns = [...(inner.columns ?? []), ...missing.map(([column]) => ColumnNode.create(column))];
    const position = new Map(columns.map((c, i) => [c.column.name, i]));
    if (!inner.values || inner.values.kind !== "ValuesNode") throw new Error(`INSERT into ${t.table} must list its values to be confined to a tenant`);
    const values = ValuesNode.create(
      (inner.values as ValuesNode).values.map((row) => {
        if (row.kind === "PrimitiveValueListNode") {
          const list = [...row.values];
          for (const [column, value] of added) list[position.get(column)!] = value;
          return PrimitiveValueListNode.create(list);
        }
        const list = [...(row as ValueListNode).values];
        for (const [column, value] of added) list[position.get(column)!] = ValueNode.create(value);
        return ValueListNode.create(list);
      }),
    );
    let onConflict = inner.onConflict;
    if (onConflict?.columns && TENANT_KEYED.has(t.table)) {
      const named = new Set(onConflict.columns.map((c) => c.column.name));
      const key = added.map(([column]) => column).filter((c) => !named.has(c));
      onConflict = { ...onConflict, columns: [...key.map((c) => ColumnNode.create(c)), ...onConflict.columns] };
    }
    if (onConflict?.updates) {
      // DO UPDATE changes the row already there: never its tenant, and (under a key that does not begin with the
      // tenant, whose clash may be another tenant's row) only a row of this store's own.
      const updateWhere = onConflict.updateWhere ? WhereNode.cloneWithOperation(WhereNode.create(ParensNode.create(onConflict.updateWhere.where)), "And", this.condition(t)) : WhereNode.create(this.condition(t));
      onConflict = { ...onConflict, updates: withoutScopeColumns(onConflict.updates), updateWhere };
    }
    return { ...inner, columns, values, ...(onConflict ? { onConflict } : {}) };
  }
}

/** The scope for `tenant`'s primary target (`target` names another of its targets). */
export function scopeOf(tenant: string, target: string = PRIMARY_TARGET): TenantScope {
  return { tenant, target };
}

