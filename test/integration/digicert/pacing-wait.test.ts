import { createPacer } from "../../../src/digicert/pacing";
import { DigiCertError } from "../../../src/digicert/errors";

describe("bounded wait for a pacing slot", () => {
  test("an unreachable Redis fails the call as unavailable, and the call never runs later", async () => {
    const pacer = createPacer({ windows: [{ count: 5, windowMs: 1000 }], redisUrl: "redis://127.0.0.1:1", keyId: "k", maxWaitMs: 400 });
    let ran = false;
    const started = Date.now();
    await expect(
      pacer.schedule(async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ kind: "unavailable" });
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toBe(false);
    await pacer.stop();
  });

  test("a local queue longer than the wait gives up on the late calls only", async () => {
    const pacer = createPacer({ windows: [{ count: 2, windowMs: 1000 }], maxConcurrent: 1, keyId: "k2", maxWaitMs: 300 });
    const ran: number[] = [];
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => pacer.schedule(async () => ran.push(i))));
    const failed = results.filter((r) => r.status === "rejected");
    expect(results[0].status).toBe("fulfilled");
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBeInstanceOf(DigiCertError);
    await new Promise((r) => setTimeout(r, 1500));
    expect(ran.length).toBe(results.filter((r) => r.status === "fulfilled").length);
    await pacer.stop();
  });
});
