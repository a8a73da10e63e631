import { createHash, createHmac } from "node:crypto";
import request from "supertest";
import { startHarness, TOKEN, type Harness } from "../../support/harness";

// Every way an IdP can authenticate on /scim/v2: named bearer tokens, HTTP Basic users and OAuth 2.0 client
// credentials (POST /oauth/token issuing HS256 access tokens), over the real app.

const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";
const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const b64url = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8").toString("base64url");

const ENTRA_TOKEN = "entra-static-token-5f4e3d2c1b0a";
const BASIC_PASSWORD = "basic-Passw0rd-7e6d5c4b";
const OTHER_BASIC_PASSWORD = "other-Passw0rd-1a2b3c4d";
const CLIENT_SECRET_1 = "client-secret-one-0a1b2c3d4e5f";
const CLIENT_SECRET_2 = "client-secret-two-6a7b8c9d0e1f";
const OTHER_CLIENT_SECRET = "other-client-secret-99887766";
const SIGNING_KEY = "oauth-signing-key-0123456789abcdefghijklmnopqrstuv";
const SECRETS = [TOKEN, ENTRA_TOKEN, BASIC_PASSWORD, OTHER_BASIC_PASSWORD, CLIENT_SECRET_1, CLIENT_SECRET_2, OTHER_CLIENT_SECRET, SIGNING_KEY];

/** An HS256 JWT written independently of src/http/oauth.ts. */
function jwt(claims: Record<string, unknown>, key = SIGNING_KEY, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: "digicert-scim-bridge", aud: "scim", sub: "entra", iat: now, exp: now + 600, jti: `t-${now}-${Math.random()}`, ...overrides };
}

let seq = 0;
/** The `credential` the request log recorded for the request sent with this X-Request-Id. */
function credentialOf(h: Harness, requestId: string): unknown {
  const line = h
    .logs()
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.message === "request" && l.requestId === requestId);
  return line?.credential;
}

describe("IdP authentication methods", () => {
  let h: Harness;
  const responses: string[] = [];
  const keep = (res: request.Response) => {
    responses.push(JSON.stringify({ headers: res.headers, body: res.body, text: res.text }));
    return res;
  };
  const scimGet = (auth: (t: request.Test) => request.Test, path = "/scim/v2/Users") => {
    const id = `auth-test-${++seq}`;
    return auth(request(h.app).get(path).set("X-Request-Id", id)).then((res) => ({ res: keep(res), id }));
  };
  const bearer = (token: string) => (t: request.Test) => t.set("Authorization", `Bearer ${token}`);
  const basic = (user: string, password: string) => (t: request.Test) => t.auth(user, password);
  const tokenRequest = () => request(h.app).post("/oauth/token");

  beforeAll(async () => {
    h = await startHarness({
      platform: "certcentral",
      env: {
        SCIM_BEARER_TOKENS: `okta=${TOKEN},entra-static=sha256:${hex(ENTRA_TOKEN)}`,
        SCIM_BASIC_USERS: `okta-basic:sha256:${hex(BASIC_PASSWORD)},other:sha256:${hex(OTHER_BASIC_PASSWORD)}`,
        OAUTH_CLIENTS: `entra:sha256:${hex(CLIENT_SECRET_1)}|sha256:${hex(CLIENT_SECRET_2)},other-client:sha256:${hex(OTHER_CLIENT_SECRET)}`,
        OAUTH_SIGNING_KEY: SIGNING_KEY,
        OAUTH_TOKEN_TTL_SECONDS: "600",
        // These tests present dozens of wrong credentials from one address; AUTH_FAILURE_LIMIT has its own tests
        // (auth-hardening.test.ts).
        AUTH_FAILURE_LIMIT: "off",
      },
    });
  });
  afterAll(async () => h.close());

  test("ServiceProviderConfig advertises bearer/OAuth and HTTP Basic", async () => {
    const res = await request(h.app).get("/scim/v2/ServiceProviderConfig").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.body.authenticationSchemes.map((a: { type: string }) => a.type)).toEqual(["oauthbearertoken", "httpbasic"]);
    expect(res.body.authenticationSchemes[0].description).toContain("/oauth/token");
  });

  describe("named bearer tokens", () => {
    test("each token works and the log names it, never the token", async () => {
      const a = await scimGet(bearer(TOKEN));
      expect(a.res.status).toBe(200);
      expect(credentialOf(h, a.id)).toBe("okta");
      const b = await scimGet(bearer(ENTRA_TOKEN));
      expect(b.res.status).toBe(200);
      expect(credentialOf(h, b.id)).toBe("entra-static");
      const wrong = await scimGet(bearer("not-a-token"));
      expect(wrong.res.status).toBe(401);
      expect(credentialOf(h, wrong.id)).toBe("none");
      expect(wrong.res.headers["www-authenticate"]).toMatch(/^Bearer realm="DigiCert SCIM Bridge", error="invalid_token"/);
    });

    test("the 401 challenge lists Bearer and Basic, as a SCIM error", async () => {
      const { res } = await scimGet((t) => t);
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="DigiCert SCIM Bridge", Basic realm="DigiCert SCIM Bridge"');
      expect(res.headers["content-type"]).toMatch(/application\/scim\+json/);
      expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "401" });
    });
  });

  describe("HTTP Basic", () => {
    test("each user with its password works, logged as basic:<username>", async () => {
      const a = await scimGet(basic("okta-basic", BASIC_PASSWORD));
      expect(a.res.status).toBe(200);
      expect(credentialOf(h, a.id)).toBe("basic:okta-basic");
      const b = await scimGet(basic("other", OTHER_BASIC_PASSWORD), "/scim/v2/ServiceProviderConfig");
      expect(b.res.status).toBe(200);
      expect(credentialOf(h, b.id)).toBe("basic:other");
    });

    test.each([
      ["a wrong password", "okta-basic", "wrong-password"],
      ["another user's password", "okta-basic", OTHER_BASIC_PASSWORD],
      ["an unknown user", "nobody", BASIC_PASSWORD],
      ["the password hash instead of the password", "okta-basic", hex(BASIC_PASSWORD)],
      ["a bearer token as password", "okta", TOKEN],
    ])("%s is 401", async (_name, user, password) => {
      const { res, id } = await scimGet(basic(user, password));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "401" });
      expect(res.headers["www-authenticate"]).toContain('Basic realm="DigiCert SCIM Bridge"');
      expect(credentialOf(h, id)).toBe("none");
    });

    test("a malformed Basic header is 401", async () => {
      for (const header of ["Basic", "Basic !!!", `Basic ${Buffer.from("no-colon").toString("base64")}`]) {
        const { res } = await scimGet((t) => t.set("Authorization", header));
        expect(res.status).toBe(401);
      }
    });
  });

  describe("OAuth 2.0 client credentials", () => {
    test("a token from HTTP Basic client authentication works on /scim/v2/Users", async () => {
      const res = keep(await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials" }));
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 600 });
      const [header, payload] = (res.body.access_token as string).split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
      expect(header).toMatchObject({ alg: "HS256" });
      expect(payload).toMatchObject({ iss: "digicert-scim-bridge", aud: "scim", sub: "entra", jti: expect.any(String) });
      expect(payload.exp - payload.iat).toBe(600);
      expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(10);

      const use = await scimGet(bearer(res.body.access_token));
      expect(use.res.status).toBe(200);
      expect(use.res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
      expect(credentialOf(h, use.id)).toBe("oauth:entra");
    });

    test("client_id and client_secret in the form body, and in JSON, work too", async () => {
      const form = keep(
        await tokenRequest().type("form").send({ grant_type: "client_credentials", client_id: "other-client", client_secret: OTHER_CLIENT_SECRET }),
      );
      expect(form.status).toBe(200);
      const use = await scimGet(bearer(form.body.access_token));
      expect(use.res.status).toBe(200);
      expect(credentialOf(h, use.id)).toBe("oauth:other-client");
      const json = keep(await tokenRequest().send({ grant_type: "client_credentials", client_id: "entra", client_secret: CLIENT_SECRET_1 }));
      expect(json.status).toBe(200);
      expect(json.body.token_type).toBe("Bearer");
    });

    test("each of a client's two secrets works (rotation)", async () => {
      for (const secret of [CLIENT_SECRET_1, CLIENT_SECRET_2]) {
        const res = keep(await tokenRequest().auth("entra", secret).type("form").send({ grant_type: "client_credentials" }));
        expect(res.status).toBe(200);
        expect((await scimGet(bearer(res.body.access_token))).res.status).toBe(200);
      }
      // Every token is distinct (jti).
      const a = await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials" });
      const b = await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials" });
      expect(a.body.access_token).not.toBe(b.body.access_token);
    });

    test("a form-encoded Basic client secret (RFC 6749 §2.3.1) is accepted", async () => {
      const res = await tokenRequest()
        .set("Authorization", `Basic ${Buffer.from(`entra:${encodeURIComponent(CLIENT_SECRET_1)}`).toString("base64")}`)
        .type("form")
        .send({ grant_type: "client_credentials" });
      expect(res.status).toBe(200);
    });

    test.each([
      ["a wrong secret (Basic)", (t: request.Test) => t.auth("entra", "wrong-secret").type("form").send({ grant_type: "client_credentials" })],
      ["another client's secret", (t: request.Test) => t.auth("entra", OTHER_CLIENT_SECRET).type("form").send({ grant_type: "client_credentials" })],
      ["an unknown client", (t: request.Test) => t.auth("ghost", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials" })],
      [
        "a wrong secret (body)",
        (t: request.Test) => t.type("form").send({ grant_type: "client_credentials", client_id: "entra", client_secret: "wrong-secret" }),
      ],
      ["the secret's hash", (t: request.Test) => t.auth("entra", hex(CLIENT_SECRET_1)).type("form").send({ grant_type: "client_credentials" })],
      ["no client authentication", (t: request.Test) => t.type("form").send({ grant_type: "client_credentials" })],
      ["client_id without a secret", (t: request.Test) => t.type("form").send({ grant_type: "client_credentials", client_id: "entra" })],
      ["a Bearer header", (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`).type("form").send({ grant_type: "client_credentials" })],
    ])("%s is 401 invalid_client with WWW-Authenticate: Basic", async (_name, send) => {
      const res = keep(await send(tokenRequest()));
      expect(res.status).toBe(401);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.headers["www-authenticate"]).toMatch(/^Basic /);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toEqual({ error: "invalid_client", error_description: expect.any(String) });
    });

    test("a grant other than client_credentials is 400 unsupported_grant_type", async () => {
      for (const grant of ["password", "authorization_code", "refresh_token"]) {
        const res = keep(await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: grant, username: "x", password: "y" }));
        expect(res.status).toBe(400);
        expect(res.headers["content-type"]).toMatch(/^application\/json/);
        expect(res.body.error).toBe("unsupported_grant_type");
      }
    });

    test("malformed requests are 400 invalid_request", async () => {
      const missing = keep(await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({}));
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe("invalid_request");
      const repeated = keep(
        await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send("grant_type=client_credentials&grant_type=client_credentials"),
      );
      expect(repeated.body.error).toBe("invalid_request");
      const twoMethods = keep(
        await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials", client_secret: CLIENT_SECRET_1 }),
      );
      expect(twoMethods.status).toBe(400);
      expect(twoMethods.body.error).toBe("invalid_request");
      const badJson = keep(await tokenRequest().set("Content-Type", "application/json").send('{"grant_type":'));
      expect(badJson.status).toBe(400);
      expect(badJson.headers["content-type"]).toMatch(/^application\/json/);
      expect(badJson.body.error).toBe("invalid_request");
      const get = keep(await request(h.app).get("/oauth/token"));
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe("POST");
    });

    describe("access token verification", () => {
      const expect401 = async (token: string) => {
        const { res, id } = await scimGet(bearer(token));
        expect(res.status).toBe(401);
        expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
        expect(res.body).toMatchObject({ schemas: [ERROR_URN], status: "401" });
        expect(credentialOf(h, id)).toBe("none");
      };
      const now = () => Math.floor(Date.now() / 1000);

      test("a token crafted with the right key and claims is accepted (the test's JWT matches the bridge's)", async () => {
        expect((await scimGet(bearer(jwt(claims())))).res.status).toBe(200);
        // Within the 30 s leeway after exp.
        expect((await scimGet(bearer(jwt(claims({ iat: now() - 700, exp: now() - 10 }))))).res.status).toBe(200);
      });

      test("an expired token is 401", async () => {
        await expect401(jwt(claims({ iat: now() - 4000, exp: now() - 60 })));
        await expect401(jwt(claims({ iat: now() - 4000, exp: now() - 31 })));
      });

      test("a tampered token is 401", async () => {
        const issued = await tokenRequest().auth("entra", CLIENT_SECRET_1).type("form").send({ grant_type: "client_credentials" });
        const [h64, p64, sig] = (issued.body.access_token as string).split(".");
        // Another subject, same signature.
        const payload = JSON.parse(Buffer.from(p64, "base64url").toString());
        await expect401(`${h64}.${b64url({ ...payload, sub: "other-client" })}.${sig}`);
        // A later expiry, same signature.
        await expect401(`${h64}.${b64url({ ...payload, exp: payload.exp + 86400 })}.${sig}`);
        // Every single-character change of the signature, including its last character (whose low bits are padding).
        for (const i of [0, 10, sig.length - 1]) {
          const c = sig[i] === "A" ? "B" : sig[i] === "B" ? "C" : "A";
          await expect401(`${h64}.${p64}.${sig.slice(0, i)}${c}${sig.slice(i + 1)}`);
        }
        await expect401(`${h64}.${p64}.${sig}A`);
        await expect401(`${h64}.${p64}`);
        await expect401(`${h64}.${p64}.`);
      });

      test("a token signed with another key is 401", async () => {
        await expect401(jwt(claims(), "another-signing-key-0123456789abcdefghijklmnop"));
      });

      test('alg "none" and other algorithms are 401', async () => {
        const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims())}`;
        await expect401(`${unsigned}.`);
        await expect401(unsigned);
        await expect401(`${unsigned}.${createHmac("sha256", SIGNING_KEY).update(unsigned).digest("base64url")}`);
        await expect401(jwt(claims(), SIGNING_KEY, { alg: "HS512", typ: "JWT" }));
        await expect401(jwt(claims(), SIGNING_KEY, { alg: "hs256", typ: "JWT" }));
        await expect401(jwt(claims(), SIGNING_KEY, { typ: "JWT" }));
      });

      test("wrong iss, aud, missing claims, future iat or an unknown client are 401", async () => {
        await expect401(jwt(claims({ iss: "someone-else" })));
        await expect401(jwt(claims({ aud: "other" })));
        await expect401(jwt(claims({ aud: undefined })));
        await expect401(jwt(claims({ exp: undefined })));
        await expect401(jwt(claims({ exp: String(now() + 600) })));
        await expect401(jwt(claims({ iat: now() + 3600 })));
        await expect401(jwt(claims({ sub: "ghost" })));
        await expect401(jwt(claims({ sub: undefined })));
      });
    });
  });

  test("no secret, password, client secret, signing key or access token appears in the logs or any response", async () => {
    const issued = keep(await tokenRequest().auth("entra", CLIENT_SECRET_2).type("form").send({ grant_type: "client_credentials" }));
    await scimGet(bearer(issued.body.access_token));
    await scimGet(basic("okta-basic", BASIC_PASSWORD));
    await scimGet(bearer(ENTRA_TOKEN));
    const logs = h.logs();
    expect(logs).toContain('"credential":"oauth:entra"');
    expect(logs).toContain('"credential":"basic:okta-basic"');
    expect(logs).toContain('"credential":"entra-static"');
    expect(logs).toContain('"credential":"okta"');
    for (const s of SECRETS) expect(logs).not.toContain(s);
    for (const s of SECRETS.slice(1)) expect(logs).not.toContain(hex(s));
    expect(logs).not.toContain(issued.body.access_token);
    expect(logs).not.toContain((issued.body.access_token as string).split(".")[2]);
    const sent = responses.join("\n");
    expect(responses.length).toBeGreaterThan(20);
    for (const s of SECRETS) expect(sent).not.toContain(s);
  });
});

describe("only HTTP Basic configured", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      platform: "one",
      env: { SCIM_BEARER_TOKENS: undefined, SCIM_BASIC_USERS: `okta-basic:sha256:${hex(BASIC_PASSWORD)}` },
    });
  });
  afterAll(async () => h.close());

  test("Basic works, bearer tokens not in the store do not; the challenge offers Basic, and Bearer for store tokens", async () => {
    expect((await request(h.app).get("/scim/v2/Users").auth("okta-basic", BASIC_PASSWORD)).status).toBe(200);
    const res = await request(h.app).get("/scim/v2/Users").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(401);
    // Tokens of `digicert-scim tokens create` are bearer tokens, so Bearer is always offered.
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="DigiCert SCIM Bridge", error="invalid_token", Basic realm="DigiCert SCIM Bridge"');
  });

  test("without OAUTH_CLIENTS, /oauth/token is a 404 like any unknown path", async () => {
    const res = await request(h.app).post("/oauth/token").type("form").send({ grant_type: "client_credentials" });
    expect(res.status).toBe(404);
    const unknown = await request(h.app).post("/nope").type("form").send({ grant_type: "client_credentials" });
    expect(res.headers["content-type"]).toBe(unknown.headers["content-type"]);
    expect(res.body).toEqual(unknown.body);
  });
});
