import { SCIMMY } from "scimmy-routers";
import type { NewAuditEntry } from "../provisioning/records";
import type { ScimServices } from "./context";

/**
 * A resource type the SCIM surface serves through SCIMMY. The router builds everything that applies per resource
 * (preconditions, Idempotency-Key, the refusal audit, attributes= projection, Bulk paths) from the one list of
 * these it declares, so a new resource type gets them by being in that list.
 */
export interface ScimResourceType {
  /** SCIMMY's resource name, also the audit trail's resourceType: "User". */
  name: NonNullable<NewAuditEntry["resourceType"]>;
  /** Declares it with SCIMMY (once per process: SCIMMY's declarations are global). */
  declare(): void;
  /** The stored version of one resource, for If-Match / If-None-Match; throws NotFoundError when there is none. */
  storedVersion(services: ScimServices, id: string): Promise<number>;
}

/** A declared resource type with its endpoint segment ("Users"), as SCIMMY's declaration says. */
export interface DeclaredResource extends ScimResourceType {
  segment: string;
}

/** The resource types the router declared, and how request paths name them. */
export class ScimResources {
  readonly all: readonly DeclaredResource[];
  /** Alternation of the endpoint segments, for paths: "Users|Groups". */
  readonly segments: string;

  constructor(types: readonly ScimResourceType[]) {
    this.all = types.map((t) => {
      t.declare();
      const endpoint = (SCIMMY.Resources.declared(t.name) as { endpoint: string }).endpoint;
      return { ...t, segment: endpoint.replace(/^\//, "") };
    });
    this.segments = this.all.map((r) => r.segment).join("|");
  }

  bySegment(segment: string): DeclaredResource | undefined {
    return this.all.find((r) => r.segment === segment);
  }

  /** `/Users` exactly (where resources are created): its type, else undefined. */
  collectionPath(path: string): DeclaredResource | undefined {
    return this.all.find((r) => path === `/${r.segment}`);
  }

  /** `/Users` or `/Users/<id>` (a trailing slash allowed): the type and the id segment (raw), else null. */
  resourcePath(path: string): { type: DeclaredResource; id: string | null } | null {
    const m = new RegExp(`^/(${this.segments})(?:/([^/]+))?/?$`).exec(path);
    return m ? { type: this.bySegment(m[1])!, id: m[2] ?? null } : null;
  }
}
