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
  };
  one?: {
    accountId?: string;
    roles?: OneRole[];
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
  body?: unknown;
  headers?: Record<string, string>;
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
  listUsers(platform: SimPlatform): any[];
  failNext(spec: FailSpec): void;
  /** Disarms every fault not yet used up (ends an outage made with a large `times`). */
  clearFaults(): void;
  /** How many requests the simulated rate limit answered 429. */
  rateLimitedCount(platform: SimPlatform): number;
  observedRate(platform: SimPlatform, windowMs: number): number;
  close(): Promise<void>;
}
