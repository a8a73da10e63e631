// Public shapes of the DigiCert simulator.
export type SimPlatform = "certcentral" | "one";

export interface RecordedCall {
  platform: SimPlatform;
  method: string;
  /** Relative to the platform base, e.g. "/user/12". */
  path: string;
  query: Record<string, string>;
  body: any;
  /** Request headers, lower-cased, with the API key header value replaced by "[present]". */
  headers: Record<string, string>;
  apiKeyValid: boolean;
  at: number;
}

export interface CcRole {
  id: number;
  name: string;
}

export interface OneRole {
  id: string;
  name: string;
  /** The manager the role belongs to; default account_manager. */
  application?: string;
}

/**
 * How the simulated DigiCert ONE behaves where DigiCert's docs leave it open (../shared/digicert-api.md §D).
 * The bridge must be safe under every combination.
 */
export interface OneVariant {
  /** The undocumented PUT /user/{id}/disable|enable: served, missing (404 route), or refused with that status. */
  disableRoute?: "supported" | "missing" | 400 | 403 | 405 | 501;
  /** What a user object says about roles: `roles`, only `applications[].permissions` (documented), or nothing. */
  userRoles?: "roles" | "applications" | "none";
  /** PUT /user/{id}: changes only the fields sent, or replaces the object (required fields missing → 400). */
  put?: "partial" | "replace";
  /** Most users one list page holds, whatever `limit` asks (ONE's cap is not public). */
  pageCap?: number;
}

export interface RateWindowSpec {
  count: number;
  windowMs: number;
}

export interface SimulatorOptions {
  port?: number;
  apiKey?: string;
  certcentral?: {
    containerId?: number;
    accountId?: number;
    roles?: CcRole[];
    usernameMaxLength?: number;
    /**
     * How POST /user (and a rename through PUT /user/{id}) refuses a taken username; DigiCert does not publish it
     * (../shared/digicert-api.md §A.8, §D.7). "409" (default): 409 duplicate_username; "400-not-available": 400
     * invalid_param|username "Username is not available."; "400-in-use": 400 bad_request "That username is
     * already in use by another user."
     */
    duplicate?: "409" | "400-not-available" | "400-in-use";
    /** GET /user/availability/{username}: served (default), or "missing" = 404 not_found|route. */
    availability?: "supported" | "missing";
    /**
     * Envelope of the route answers' errors: "array" (default, documented) `{"errors":[{code,message}]}`, or
     * "object" `{"errors":{"<field or code>":"<message>"}}` (§D.8). The key, rate-limit and body-parser refusals
     * played before the routes stay arrays.
     */
    errorShape?: "array" | "object";
    /** Divisions (child containers of the root) the account has, for mapping rules that name some. */
    divisions?: { id: number; name: string }[];
  };
  one?: OneVariant & {
    accountId?: string;
    roles?: OneRole[];
    /** false = disableRoute "missing" (kept for older tests). */
    disableSupported?: boolean;
    listShape?: "array" | "envelope";
  };
  rateLimit?: RateWindowSpec[];
}

export interface FailSpec {
  platform?: SimPlatform;
  method?: string;
  path?: RegExp;
  /** Answer with this status; without it (and without `network`) the request proceeds normally after delayMs. */
  status?: number;
  /** The answer's body, sent as JSON (the platform's own error body when absent). */
  body?: unknown;
  /**
   * The answer's body sent as it is, instead of `body`: an HTML error page, JSON cut short. Content-Type is
   * text/html unless `headers` names one.
   */
  rawBody?: string;
  headers?: Record<string, string>;
  /**
   * The request is carried out first (a POST /user creates the user), then answered with `status` and the body
   * above instead of the route's own answer: DigiCert did the work and its answer was garbled on the way back.
   */
  afterHandling?: boolean;
  delayMs?: number;
  /** How many matching requests to affect; default 1. */
  times?: number;
  network?: "reset";
}

export interface Simulator {
  url: string;
  certcentralBaseUrl: string;
  oneBaseUrl: string;
  apiKey: string;
  calls: RecordedCall[];
  callsTo(platform: SimPlatform, method?: string, pathPattern?: string | RegExp): RecordedCall[];
  clearCalls(): void;
  reset(): void;
  seedUser(platform: SimPlatform, partialUser: Record<string, any>): any;
  getUser(platform: SimPlatform, id: string | number): any | undefined;
  /**
   * What DigiCert really holds for a ONE user, whatever its answers show (roles, status): the variants may hide
   * roles from the API, never from the test.
   */
  /** What CertCentral holds for a user: its role ids and the divisions it is restricted to. */
  ccTruth(id: string | number): { role_ids: number[]; division_ids: number[] } | undefined;
  oneTruth(id: string): { status: string; roles: string[]; user_name: string; phone_number: string } | undefined;
  listUsers(platform: SimPlatform): any[];
  failNext(spec: FailSpec): void;
  /** Disarms every fault not yet used up (ends an outage made with a large `times`). */
  clearFaults(): void;
  /** How many requests the simulated rate limit answered 429. */
  rateLimitedCount(platform: SimPlatform): number;
  observedRate(platform: SimPlatform, windowMs: number): number;
  close(): Promise<void>;
}
