import { readFileSync } from "node:fs";
import { join } from "node:path";
import type SwaggerParser from "@apidevtools/swagger-parser";
import { parse } from "yaml";

// The OpenAPI contract must stay valid and must describe every route the server answers.

const SPEC_PATH = join(__dirname, "..", "..", "openapi", "openapi.yaml");
const SCIM_PREFIX = "/scim/v2/";
const SCIM_MEDIA_TYPE = "application/scim+json";

/** Every route of the bridge (src/http/app.ts and the SCIM router), as [method, path] in the document's form. */
const ROUTES: Array<[string, string]> = [
  ["get", "/healthz"],
  ["get", "/readyz"],
  ["get", "/metrics"],
  ["get", "/admin"],
  ["get", "/admin/api/status"],
  ["get", "/scim/v2/ServiceProviderConfig"],
  ["get", "/scim/v2/Schemas"],
  ["get", "/scim/v2/Schemas/{id}"],
  ["get", "/scim/v2/ResourceTypes"],
  ["get", "/scim/v2/ResourceTypes/{id}"],
  ["get", "/scim/v2/Roles"],
  ["get", "/scim/v2/Roles/{id}"],
  ["get", "/scim/v2/Users"],
  ["post", "/scim/v2/Users"],
  ["post", "/scim/v2/Users/.search"],
  ["get", "/scim/v2/Users/{id}"],
  ["put", "/scim/v2/Users/{id}"],
  ["patch", "/scim/v2/Users/{id}"],
  ["delete", "/scim/v2/Users/{id}"],
  ["get", "/scim/v2/Groups"],
  ["post", "/scim/v2/Groups"],
  ["post", "/scim/v2/Groups/.search"],
  ["get", "/scim/v2/Groups/{id}"],
  ["put", "/scim/v2/Groups/{id}"],
  ["patch", "/scim/v2/Groups/{id}"],
  ["delete", "/scim/v2/Groups/{id}"],
];

/** Routes that reach DigiCert and may therefore answer 429/502/503. */
const DIGICERT_WRITES: Array<[string, string]> = [
  ["post", "/scim/v2/Users"],
  ["put", "/scim/v2/Users/{id}"],
  ["patch", "/scim/v2/Users/{id}"],
  ["delete", "/scim/v2/Users/{id}"],
  // Group writes change the DigiCert roles of the members concerned when a role mapping is configured.
  ["post", "/scim/v2/Groups"],
  ["put", "/scim/v2/Groups/{id}"],
  ["patch", "/scim/v2/Groups/{id}"],
  ["delete", "/scim/v2/Groups/{id}"],
];

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

type Json = Record<string, any>;

/**
 * @apidevtools/swagger-parser 13 requires @apidevtools/json-schema-ref-parser 15, which ships only ES modules.
 * Jest's CommonJS runtime cannot load that (jest.config.js does not transform node_modules), but Node >= 20.19
 * can require() ES modules natively, so the validator is loaded with Node's own require, outside Jest's registry.
 */
function loadSwaggerParser(): typeof SwaggerParser {
  const nodeModule = process.getBuiltinModule("node:module") as typeof import("node:module");
  const mod = nodeModule.createRequire(__filename)("@apidevtools/swagger-parser");
  return (mod.default ?? mod) as typeof SwaggerParser;
}

function loadSpec(): Json {
  return parse(readFileSync(SPEC_PATH, "utf8")) as Json;
}

function operations(doc: Json): Array<{ method: string; path: string; op: Json }> {
  const out: Array<{ method: string; path: string; op: Json }> = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = (item as Json)[method];
      if (op) out.push({ method, path, op });
    }
  }
  return out;
}

describe("openapi/openapi.yaml", () => {
  let raw: Json;
  let api: Json;

  beforeAll(async () => {
    raw = loadSpec();
    // validate() dereferences (and mutates) what it gets: hand it a copy and keep the result for the checks.
    api = (await loadSwaggerParser().validate(structuredClone(raw) as never)) as unknown as Json;
  });

  it("is a valid OpenAPI 3.0.3 document", () => {
    expect(raw.openapi).toBe("3.0.3");
    expect(typeof raw.info?.description).toBe("string");
    expect(raw.info.description.length).toBeGreaterThan(50);
  });

  it.each(ROUTES)("documents %s %s", (method, path) => {
    expect(api.paths[path]).toBeDefined();
    expect(api.paths[path][method]).toBeDefined();
  });

  it("declares bearer authentication for the SCIM endpoints and none for the operational ones", () => {
    expect(api.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const { path, op } of operations(api)) {
      const security = op.security ?? api.security;
      if (path.startsWith(SCIM_PREFIX)) {
        expect(security).toEqual(expect.arrayContaining([expect.objectContaining({ bearerAuth: [] })]));
      } else if (path === "/admin" || path.startsWith("/admin/")) {
        // The status page has credentials of its own, never the SCIM ones.
        expect(security).toEqual([{ adminBasicAuth: [] }, { adminBearerAuth: [] }]);
        expect(op.responses["401"]?.headers?.["WWW-Authenticate"]).toBeDefined();
      } else if (path === "/metrics") {
        // A METRICS_TOKEN token or an admin credential; open only when none is configured; never the SCIM credentials.
        expect(security).toEqual([{}, { metricsBearerAuth: [] }, { adminBasicAuth: [] }, { adminBearerAuth: [] }]);
        expect(op.responses["401"]?.headers?.["WWW-Authenticate"]).toBeDefined();
      } else {
        expect(security).toEqual([]);
      }
    }
  });

  it("documents 429 with Retry-After wherever a credential is checked (AUTH_FAILURE_LIMIT)", () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations(api)) {
      if (!op.responses["401"]) continue;
      const blocked = op.responses["429"];
      if (!blocked?.headers?.["Retry-After"]) missing.push(`${method} ${path}`);
    }
    expect(missing).toEqual([]);
  });

  it("declares application/scim+json for every SCIM response and request body", () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations(api)) {
      if (!path.startsWith(SCIM_PREFIX)) continue;
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const content = (response as Json).content;
        if (status === "204" || status === "304") {
          if (content) problems.push(`${method} ${path} ${status}: ${status} must have no body`);
          continue;
        }
        if (!content?.[SCIM_MEDIA_TYPE]) problems.push(`${method} ${path} ${status}: no ${SCIM_MEDIA_TYPE}`);
      }
      if (op.requestBody && !op.requestBody.content?.[SCIM_MEDIA_TYPE]) {
        problems.push(`${method} ${path} request body: no ${SCIM_MEDIA_TYPE}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("documents 401 with WWW-Authenticate on every SCIM operation", () => {
    for (const { path, op } of operations(api)) {
      if (!path.startsWith(SCIM_PREFIX)) continue;
      expect(op.responses["401"]?.headers?.["WWW-Authenticate"]).toBeDefined();
    }
  });

  it.each(DIGICERT_WRITES)("documents DigiCert failures on %s %s", (method, path) => {
    const responses = api.paths[path][method].responses;
    for (const status of ["401", "404", "429", "502", "503"]) {
      if (status === "404" && method === "post") continue;
      expect(responses[status]).toBeDefined();
    }
    expect(responses["429"].headers?.["Retry-After"]).toBeDefined();
    expect(responses["503"].headers?.["Retry-After"]).toBeDefined();
  });

  it("documents the status codes of user writes", () => {
    const users = api.paths["/scim/v2/Users"];
    expect(users.post.responses["201"].headers?.Location).toBeDefined();
    for (const status of ["400", "409", "413"]) expect(users.post.responses[status]).toBeDefined();
    const user = api.paths["/scim/v2/Users/{id}"];
    expect(Object.keys(user.patch.responses)).toEqual(expect.arrayContaining(["200", "204", "400", "409", "413"]));
    expect(Object.keys(user.delete.responses)).toEqual(expect.arrayContaining(["204"]));
    expect(api.paths["/scim/v2/Users"].get.responses["400"]).toBeDefined();
  });

  it("documents the list query parameters and supported filter forms", () => {
    const params: Json[] = api.paths["/scim/v2/Users"].get.parameters;
    const names = params.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["filter", "startIndex", "count", "attributes", "excludedAttributes"]));
    const filter = params.find((p) => p.name === "filter")!;
    for (const form of ["eq ne co sw ew gt ge lt le pr", "`not`", 'emails[type eq "work" and value co', "name.familyName", "meta.lastModified", "meta.version", "invalidFilter"]) {
      expect(filter.description).toContain(form);
    }
    expect(params.find((p) => p.name === "count")!.description).toContain("SCIM_MAX_RESULTS");
  });

  it("documents the status codes of group writes, with PATCH answering 204", () => {
    const groups = api.paths["/scim/v2/Groups"];
    expect(groups.post.responses["201"].headers?.Location).toBeDefined();
    for (const status of ["400", "409"]) expect(groups.post.responses[status]).toBeDefined();
    const group = api.paths["/scim/v2/Groups/{id}"];
    const patch = group.patch.responses;
    // The bridge's own Group PATCH route answers 204 with no body on every success: never 200.
    expect(patch["204"]).toBeDefined();
    expect(patch["204"].content).toBeUndefined();
    expect(patch["200"]).toBeUndefined();
    expect(Object.keys(patch)).toEqual(expect.arrayContaining(["400", "401", "404", "409", "429", "502", "503"]));
    expect(patch["400"].description).toContain("invalidValue");
    for (const form of ['members[value eq "', "Add", "Remove", "no-op"]) expect(group.patch.description).toContain(form);
    expect(Object.keys(group.delete.responses)).toEqual(expect.arrayContaining(["204"]));
  });

  it("documents the group list query parameters and supported filter forms", () => {
    const params: Json[] = api.paths["/scim/v2/Groups"].get.parameters;
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(["filter", "startIndex", "count", "attributes", "excludedAttributes"]));
    const filter = params.find((p) => p.name === "filter")!;
    for (const form of ["displayName eq", "externalId eq", "id eq", 'members[value eq "', "members.value eq", "invalidFilter"]) {
      expect(filter.description).toContain(form);
    }
    expect(params.find((p) => p.name === "excludedAttributes")!.description).toContain("members");
  });

  it("documents readiness with 200 and 503", () => {
    const readyz = api.paths["/readyz"].get.responses;
    expect(readyz["200"].content["application/json"]).toBeDefined();
    expect(readyz["503"].content["application/json"]).toBeDefined();
    expect(api.paths["/metrics"].get.responses["200"].content["text/plain"]).toBeDefined();
  });

  it("describes the SCIM components", () => {
    const schemas = api.components.schemas;
    for (const name of ["User", "Group", "ListResponse", "PatchOp", "Error", "ServiceProviderConfig", "Schema", "ResourceType"]) {
      expect(schemas[name]).toBeDefined();
    }
    expect(schemas.Error.properties.status.type).toBe("string");
    expect(schemas.User.properties.password.writeOnly).toBe(true);
    const digicert = schemas.User.properties["urn:ietf:params:scim:schemas:extension:digicert:2.0:User"];
    for (const attr of ["digicertUserId", "platform", "adopted"]) expect(digicert.properties[attr].readOnly).toBe(true);
    expect(digicert.properties.platform.enum).toEqual(["certcentral", "one"]);
    expect(schemas.User.properties["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]).toBeDefined();
    expect(schemas.User.properties.groups.readOnly).toBe(true);
    // roles are writable: direct assignments (Okta entitlements); reads show the effective DigiCert roles.
    expect(schemas.User.properties.roles.readOnly).toBeUndefined();
    expect(schemas.Group.required).toEqual(["displayName"]);
    for (const attr of ["id", "displayName", "externalId", "members", "meta"]) expect(schemas.Group.properties[attr]).toBeDefined();
    expect(schemas.Group.properties.members.items.properties.type.enum).toEqual(["User"]);
  });
});
