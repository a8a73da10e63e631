import type { NextFunction, Request, Response } from "express";
import { SCIMMY } from "scimmy-routers";
import type { ScimServices } from "./context";
import { failureOf, sendScimError } from "./errors";
import { pageOf } from "./handler-support";
import { onAnswer } from "./response-steps";

// DigiCert's roles as a SCIM resource type, so Okta Identity Governance can list them as entitlements and assign
// them to users (the assignment arrives as the user's `roles`). Served outside SCIMMY because SCIMMY 1.3.5 only
// accepts urn:ietf:params:scim:schemas:* schema ids, and Okta's Role schema is urn:okta:….

export const OKTA_ROLE_SCHEMA = "urn:okta:scim:schemas:core:1.0:Role";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export function roleResourceType(baseUrl: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: "Role",
    name: "Role",
    endpoint: "/Roles",
    description: "DigiCert roles, assignable to users as entitlements (the user's roles attribute)",
    schema: OKTA_ROLE_SCHEMA,
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/Role` },
  };
}

function roleResource(role: { id: string; name: string }, baseUrl: string) {
  return {
    schemas: [OKTA_ROLE_SCHEMA],
    id: role.id,
    displayName: role.name,
    meta: { resourceType: "Role", location: `${baseUrl}/Roles/${encodeURIComponent(role.id)}` },
  };
}

/** displayName eq / id eq only: the catalogue is small and DigiCert lists it whole. */
function matcher(filter: unknown): (r: { id: string; name: string }) => boolean {
  if (typeof filter !== "string" || !filter.trim()) return () => true;
  const m = /^\s*(displayName|id)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!m) throw new SCIMMY.Types.Error(400, "invalidFilter", "Supported on Roles: displayName eq, id eq");
  const value = m[2].replace(/\\(.)/g, "$1");
  return m[1].toLowerCase() === "id" ? (r) => r.id === value : (r) => r.name.toLowerCase() === value.toLowerCase();
}

export function roleRoutes(services: Pick<ScimServices, "roleCatalogue" | "maxResults">, baseUrl: () => string) {
  return {
    async list(req: Request, res: Response): Promise<void> {
      try {
        const match = matcher(req.query.filter);
        const all = (await services.roleCatalogue()).filter(match);
        const page = pageOf({ startIndex: Number(req.query.startIndex) || undefined, count: req.query.count === undefined ? undefined : Number(req.query.count) }, services.maxResults);
        const slice = all.slice(page.offset, page.offset + page.limit);
        res.status(200).type("application/scim+json").send({
          schemas: [LIST],
          totalResults: all.length,
          startIndex: page.startIndex,
          itemsPerPage: slice.length,
          Resources: slice.map((r) => roleResource(r, baseUrl())),
        });
      } catch (err) {
        sendScimError(res, failureOf(err));
      }
    },
    async get(req: Request, res: Response): Promise<void> {
      try {
        const role = (await services.roleCatalogue()).find((r) => r.id === req.params.id);
        if (!role) return sendScimError(res, { status: 404, detail: `Role ${req.params.id} not found` });
        res.status(200).type("application/scim+json").send(roleResource(role, baseUrl()));
      } catch (err) {
        sendScimError(res, failureOf(err));
      }
    },
    resourceType(_req: Request, res: Response): void {
      res.status(200).type("application/scim+json").send(roleResourceType(baseUrl()));
    },
    /** Adds the Role type to SCIMMY's /ResourceTypes list answer. */
    appendToResourceTypes(_req: Request, res: Response, next: NextFunction): void {
      onAnswer(res, (answer) => {
        const b = answer.body as { Resources?: unknown[]; totalResults?: number; itemsPerPage?: number } | undefined;
        if (answer.status === 200 && b && Array.isArray(b.Resources)) {
          const json = JSON.parse(JSON.stringify(b));
          json.Resources.push(roleResourceType(baseUrl()));
          json.totalResults = json.Resources.length;
          json.itemsPerPage = json.Resources.length;
          answer.body = json;
        }
      });
      next();
    },
  };
}
