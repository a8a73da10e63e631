// In-process DigiCert double: CertCentral under /services/v2 and ONE under /account/api/v1 on one express server.
import type { AddressInfo } from "node:net";
import express, { NextFunction, Request, Response } from "express";
import { CertCentralState, certCentralRoutes } from "./certcentral";
import { FaultBook, maxInWindow, RollingLimiter } from "./faults";
import { OneState, oneRoutes } from "./one";
import type { FailSpec, RecordedCall, SimPlatform, Simulator, SimulatorOptions } from "./types";

export * from "./types";
export { CC_DEFAULT_ROLES } from "./certcentral";
export { ONE_DEFAULT_ROLES, ONE_DEFAULT_ACCOUNT, ONE_MANAGER_ROLES, ONE_CURRENT_ROLES } from "./one";

export const CC_BASE_PATH = "/services/v2";
export const ONE_BASE_PATH = "/account/api/v1";

/** An answer the simulated platform gives in its own error format. */
interface WireAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** How each simulated platform takes the key and words its refusals (../shared/digicert-api.md §A, §B). */
interface SimDialect {
  authHeader: string;
  invalidKey: WireAnswer;
  rateLimited(retryAfterMs: number): WireAnswer;
  /** A body that could not be read (status 400, 413 or 500). */
  unreadable(status: number): WireAnswer;
  /** The body of an injected fault that names none. */
  faultBody(status: number): unknown;
}

const CC_RATE_LIMITED = { errors: [{ code: "request_limit_exceeded", message: "Service unavailable, please limit request volume" }] };
const ONE_RATE_LIMITED = { error: { code: "rate_limit_exceeded", message: "Too many requests" } };

const DIALECTS: Record<SimPlatform, SimDialect> = {
  certcentral: {
    authHeader: "x-dc-devkey",
    invalidKey: { status: 403, body: { errors: [{ code: "access_denied|access_denied_invalid_key", message: "Access denied due to access_denied_invalid_key." }] } },
    // CertCentral sends no Retry-After.
    rateLimited: () => ({ status: 429, body: CC_RATE_LIMITED }),
    unreadable: (status) => {
      const code = status === 413 ? "request_too_large" : status === 400 ? "bad_request_format" : "server_error";
      return { status, body: { errors: [{ code, message: status === 400 ? "Malformed request body." : "Request failed." }] } };
    },
    faultBody: (status) =>
      status === 429 ? CC_RATE_LIMITED : { errors: [{ code: status >= 500 ? "server_error" : "injected", message: `Injected ${status}` }] },
  },
  one: {
    authHeader: "x-api-key",
    invalidKey: { status: 401, body: { error: { code: "invalid_api_key", message: "Invalid or missing API key" } } },
    rateLimited: (retryAfterMs) => ({ status: 429, headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }, body: ONE_RATE_LIMITED }),
    unreadable: (status) => ({ status, body: { errors: [{ code: status === 413 ? "request_too_large" : "invalid_request", message: "Malformed request body" }] } }),
    faultBody: (status) =>
      status === 429 ? ONE_RATE_LIMITED : { error: { code: status >= 500 ? "service_unavailable" : "invalid_request", message: `Injected ${status}` } },
  },
};

function send(res: Response, a: WireAnswer): void {
  res.status(a.status).set(a.headers ?? {}).json(a.body);
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const apiKey = opts.apiKey ?? "sim-api-key";
  const cc = new CertCentralState(opts.certcentral);
  const one = new OneState(opts.one);
  // The simulated users of each platform, as the wire shows them.
  const states: Record<SimPlatform, { seed(p: Record<string, any>): any; get(id: string | number): any; list(): any[] }> = {
    certcentral: {
      seed: (p) => cc.seed(p),
      get: (id) => {
        const u = cc.users.get(Number(id));
        return u ? cc.render(u) : undefined;
      },
      list: () => [...cc.users.values()].map((u) => cc.render(u)),
    },
    one: {
      seed: (p) => one.seed(p),
      get: (id) => {
        const u = one.users.get(String(id));
        return u ? one.render(u) : undefined;
      },
      list: () => [...one.users.values()].map((u) => one.render(u)),
    },
  };
  const calls: RecordedCall[] = [];
  const faults = new FaultBook();
  const rateLimited: Record<SimPlatform, number> = { certcentral: 0, one: 0 };
  const limiters: Record<SimPlatform, RollingLimiter | undefined> = {
    certcentral: opts.rateLimit ? new RollingLimiter(opts.rateLimit) : undefined,
    one: opts.rateLimit ? new RollingLimiter(opts.rateLimit) : undefined,
  };

  const app = express();
  app.set("query parser", "simple"); // keeps "filters[search]" a flat key, as the wire has it
  app.set("etag", false);
  app.use(CC_BASE_PATH, platformRouter("certcentral", certCentralRoutes(cc)));
  app.use(ONE_BASE_PATH, platformRouter("one", oneRoutes(one)));
  app.use((_req, res) => res.status(404).json({ errors: [{ code: "not_found|route", message: "Route not found." }] }));

  function platformRouter(platform: SimPlatform, routes: express.Router): express.Router {
    const r = express.Router();
    r.use(express.json({ limit: "1mb" }));
    r.use((req, _res, next) => {
      record(platform, req, req.body);
      next();
    });
    r.use((req, res, next) => {
      const f = faults.take(platform, req.method, req.path);
      if (!f) return next();
      const answer = (status: number) => {
        // After the route, its Content-Type is set already: the fault's answer names its own.
        res.removeHeader("Content-Type");
        res.status(status).set(f.headers ?? {});
        if (f.rawBody === undefined) return res.json(f.body ?? DIALECTS[platform].faultBody(status));
        if (!res.get("Content-Type")) res.type("text/html");
        return res.send(f.rawBody);
      };
      const act = () => {
        if (f.network === "reset") return req.socket.destroy();
        if (f.status === undefined) return next();
        if (f.afterHandling) {
          // The route runs (and changes the state) as usual; its answer (send, json or a bare end) is swapped for
          // the fault's on the way out.
          const { send: routeSend, end: routeEnd } = res;
          const status = f.status;
          const swap = () => {
            res.send = routeSend;
            res.end = routeEnd;
            answer(status);
            return res;
          };
          res.send = swap as typeof res.send;
          res.end = swap as typeof res.end;
          return next();
        }
        answer(f.status);
      };
      // Unref'd: a delayed answer pending when the simulator closes must not keep the process alive.
      if (f.delayMs) setTimeout(act, f.delayMs).unref();
      else act();
    });
    r.use((req, res, next) => {
      if (lastCallFor(req)?.apiKeyValid) return next();
      send(res, DIALECTS[platform].invalidKey);
    });
    r.use((_req, res, next) => {
      const limiter = limiters[platform];
      const verdict = limiter?.admit(Date.now());
      if (!verdict || verdict.ok) return next();
      rateLimited[platform]++;
      send(res, DIALECTS[platform].rateLimited(verdict.retryAfterMs));
    });
    r.use(routes);
    // Body-parser failures land here (they happen before the recorder, so record them now).
    r.use((err: any, req: Request, res: Response, _next: NextFunction) => {
      if (!lastCallFor(req)) record(platform, req, undefined);
      const status = err?.type === "entity.too.large" ? 413 : err?.status && err.status < 500 ? err.status : 500;
      send(res, DIALECTS[platform].unreadable(status));
    });
    return r;
  }

  const callByReq = new WeakMap<Request, RecordedCall>();
  function lastCallFor(req: Request): RecordedCall | undefined {
    return callByReq.get(req);
  }

  function record(platform: SimPlatform, req: Request, body: unknown): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      headers[k] = k === DIALECTS[platform].authHeader ? "[present]" : Array.isArray(v) ? v.join(", ") : v;
    }
    const query: Record<string, string> = {};
    const qs = req.originalUrl.split("?")[1];
    if (qs) for (const [k, v] of new URLSearchParams(qs)) query[k] = v;
    const call: RecordedCall = {
      platform,
      method: req.method,
      path: req.path,
      query,
      body: body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
      headers,
      apiKeyValid: req.get(DIALECTS[platform].authHeader) === apiKey,
      at: Date.now(),
    };
    callByReq.set(req, call);
    calls.push(call);
  }

  const server = app.listen(opts.port ?? 0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sim: Simulator = {
    url,
    certcentralBaseUrl: url + CC_BASE_PATH,
    oneBaseUrl: url + ONE_BASE_PATH,
    apiKey,
    calls,
    callsTo(platform, method, pathPattern) {
      return calls.filter(
        (c) =>
          c.platform === platform &&
          (!method || c.method === method.toUpperCase()) &&
          (pathPattern === undefined ||
            (typeof pathPattern === "string" ? c.path === pathPattern : pathPattern.test(c.path))),
      );
    },
    clearCalls() {
      calls.length = 0;
    },
    reset() {
      cc.reset();
      one.reset();
      faults.clear();
      limiters.certcentral?.clear();
      limiters.one?.clear();
      calls.length = 0;
    },
    seedUser(platform, partial) {
      return states[platform].seed(partial);
    },
    getUser(platform, id) {
      return states[platform].get(id);
    },
    ccTruth(id) {
      const u = cc.users.get(Number(id));
      return u ? { role_ids: [...u.role_ids], division_ids: [...u.division_ids] } : undefined;
    },
    oneTruth(id) {
      const u = one.users.get(String(id));
      return u ? { status: u.status, roles: [...u.roles], user_name: u.user_name, phone_number: u.phone_number } : undefined;
    },
    listUsers(platform) {
      return states[platform].list();
    },
    failNext(spec: FailSpec) {
      faults.add(spec);
    },
    clearFaults() {
      faults.clear();
    },
    rateLimitedCount(platform) {
      return rateLimited[platform];
    },
    observedRate(platform, windowMs) {
      return maxInWindow(
        calls.filter((c) => c.platform === platform).map((c) => c.at),
        windowMs,
      );
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return sim;
}
