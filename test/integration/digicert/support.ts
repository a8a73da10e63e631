// Shared set-up for the DigiCert integration tests: a simulator, a client against it, and captured log lines.
import { Writable } from "node:stream";
import { createLogger } from "../../../src/log/logger";
import { createDigiCertClient, DigiCertClientConfig } from "../../../src/digicert";
import type { Platform } from "../../../src/digicert";
import { Simulator } from "../../../src/simulator";

export function captureLogger() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger("info", stream), lines };
}

export function clientFor(sim: Simulator, platform: Platform, extra: Partial<DigiCertClientConfig> = {}) {
  const { logger, lines } = captureLogger();
  const client = createDigiCertClient(
    {
      platform,
      apiKey: sim.apiKey,
      baseUrl: platform === "certcentral" ? sim.certcentralBaseUrl : sim.oneBaseUrl,
      timeoutMs: 2000,
      rateLimit: [{ count: 1000, windowMs: 1000 }],
      ...extra,
    },
    logger,
  );
  return { client, lines };
}

export async function expectDigiCertError(p: Promise<unknown>, kind: string): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    expect(e?.name).toBe("DigiCertError");
    expect(e.kind).toBe(kind);
    return e;
  }
  throw new Error(`expected a DigiCertError of kind ${kind}, but the call succeeded`);
}

/** Waits until the logger's async stream has flushed. */
export const flush = () => new Promise((r) => setImmediate(r));
