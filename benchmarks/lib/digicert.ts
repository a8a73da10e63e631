// The DigiCert simulator (src/simulator) in this process, for the bridge processes to talk to.
import { randomUUID } from "node:crypto";
import { startSimulator } from "../../src/simulator";
import type { RateWindowSpec, Simulator } from "../../src/simulator/types";
import type { BenchContext } from "./context";
import { digicertIdOf, userName } from "./dataset";

export interface BenchSimulator {
  sim: Simulator;
  apiKey: string;
  baseUrl: string;
}

export async function startDigiCert(ctx: BenchContext, rateLimit?: RateWindowSpec[]): Promise<BenchSimulator> {
  // A key of its own per simulator: the Redis-shared budget is per key, so runs never share one.
  const apiKey = `bench-key-${randomUUID()}`;
  const sim = await startSimulator({ port: 0, apiKey, certcentral: { containerId: 1 }, ...(rateLimit ? { rateLimit } : {}) });
  ctx.defer("stop the DigiCert simulator", () => sim.close());
  return { sim, apiKey, baseUrl: sim.certcentralBaseUrl };
}

/** Gives the simulator the DigiCert users the seeded store links to (users 0..count-1). */
export function seedDigiCertUsers(sim: Simulator, count: number): void {
  for (let i = 0; i < count; i++) {
    const name = userName(i);
    sim.seedUser("certcentral", {
      id: Number(digicertIdOf(i)),
      username: name,
      email: name,
      first_name: `Given${i}`,
      last_name: `Family${i}`,
      access_roles: [{ id: 5 }],
    });
  }
}
